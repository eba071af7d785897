// The credential issuer's HTTP side (OpenID4VCI 1.0): issuer metadata, the SD-JWT VC issuer's keys,
// the credential type's metadata, the nonce endpoint, the credential endpoint (bearer access token
// of the platform's authorization server) and the status lists.

import type { FastifyInstance, FastifyReply } from 'fastify';
import type Provider from 'oidc-provider';
import { ceremonyOfGrant } from '../ceremony-store.js';
import type { Platform } from '../platform.js';
import {
  CREDENTIAL_CONFIGURATION_ID,
  CREDENTIAL_SCOPE,
  WALLET_CLIENT_ID,
  issuerMetadata,
  typeMetadata,
} from './domain.js';
import type { CredentialIssuer } from './issuer.js';
import { CredentialRequestError, STATUS_LIST_TTL_SECONDS } from './issuer.js';

const refuse = (reply: FastifyReply, e: CredentialRequestError): FastifyReply => {
  if (e.status === 401) void reply.header('www-authenticate', `Bearer error="${e.code}"`);
  return reply.code(e.status).header('cache-control', 'no-store').send({ error: e.code, error_description: e.message });
};

/** The JWT proofs of a credential request: `proofs.jwt` (1.0) or the older single `proof`. */
function proofsOf(body: Record<string, unknown>): unknown[] {
  const proofs = body.proofs as { jwt?: unknown } | undefined;
  const proof = body.proof as { proof_type?: unknown; jwt?: unknown } | undefined;
  if (proofs !== undefined && proof !== undefined)
    throw new CredentialRequestError('invalid_credential_request', 'give either proofs or proof, not both');
  if (proofs !== undefined) {
    if (typeof proofs !== 'object' || proofs === null || !Array.isArray(proofs.jwt))
      throw new CredentialRequestError('invalid_credential_request', 'proofs must be {"jwt": [ … ]}');
    return proofs.jwt;
  }
  if (proof !== undefined) {
    if (proof.proof_type !== 'jwt') throw new CredentialRequestError('invalid_proof', 'only jwt proofs are supported');
    return [proof.jwt];
  }
  throw new CredentialRequestError('invalid_proof', 'the request has no proof of possession of the holder key');
}

export async function credentialRoutes(
  app: FastifyInstance,
  o: { platform: Platform; provider: Provider; issuer: CredentialIssuer },
): Promise<void> {
  const { platform, provider, issuer } = o;
  const json = (reply: FastifyReply, body: unknown, maxAge = 300): FastifyReply =>
    reply.header('cache-control', `public, max-age=${maxAge}`).send(body);

  app.get('/.well-known/openid-credential-issuer', { schema: { hide: true } }, async (_req, reply) =>
    json(reply, issuerMetadata(issuer.issuer)),
  );
  app.get('/.well-known/jwt-vc-issuer', { schema: { hide: true } }, async (_req, reply) =>
    json(reply, issuer.jwtVcIssuerMetadata()),
  );
  app.get('/credentials/types/jp-resident', { schema: { hide: true } }, async (_req, reply) =>
    json(reply, typeMetadata(issuer.issuer)),
  );

  app.post('/credentials/v1/nonce', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', 'no-store').send({ c_nonce: issuer.nonce() }),
  );

  app.post('/credentials/v1/credential', { schema: { hide: true } }, async (req, reply) => {
    try {
      const authorization = req.headers.authorization ?? '';
      const m = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!m) throw new CredentialRequestError('invalid_token', 'the request needs a bearer access token');
      const token = await provider.AccessToken.find(m[1]!);
      if (!token || token.isExpired)
        throw new CredentialRequestError('invalid_token', 'the access token is unknown or expired');
      if (
        !String(token.scope ?? '')
          .split(' ')
          .includes(CREDENTIAL_SCOPE)
      )
        throw new CredentialRequestError(
          'invalid_token',
          `the access token was not granted the ${CREDENTIAL_SCOPE} scope`,
        );
      // Only the wallet client's tokens: a relying party that asked for the scope itself must not
      // obtain the holder's credential bound to a key of its own (and present it as the holder).
      if (token.clientId !== WALLET_CLIENT_ID)
        throw new CredentialRequestError('invalid_token', `the access token was not issued to ${WALLET_CLIENT_ID}`);
      const body = (typeof req.body === 'object' && req.body !== null ? req.body : {}) as Record<string, unknown>;
      const configuration = body.credential_configuration_id;
      if (configuration !== CREDENTIAL_CONFIGURATION_ID)
        throw new CredentialRequestError(
          configuration === undefined ? 'invalid_credential_request' : 'unknown_credential_configuration',
          `credential_configuration_id must be ${CREDENTIAL_CONFIGURATION_ID}`,
        );
      const proofs = proofsOf(body);
      const ceremony = await ceremonyOfGrant(platform.db, token.grantId);
      if (
        !ceremony ||
        ceremony.state !== 'completed' ||
        ceremony.kind !== 'identity' ||
        ceremony.subjectId !== token.accountId ||
        !ceremony.recordId ||
        !ceremony.result
      )
        throw new CredentialRequestError(
          'credential_request_denied',
          'no verified identity is bound to this access token',
        );
      const holders = await issuer.checkProofs(proofs, token.clientId);
      const issued = await issuer.issue(
        {
          ceremonyId: ceremony.id,
          rpClientId: ceremony.rpClientId,
          subjectId: ceremony.subjectId,
          recordId: ceremony.recordId,
          result: ceremony.result,
        },
        holders,
      );
      req.log.info({ credentialIds: issued.map((c) => c.id), recordId: ceremony.recordId }, 'credential issued');
      return reply
        .header('cache-control', 'no-store')
        .send({ credentials: issued.map((c) => ({ credential: c.credential })) });
    } catch (e) {
      if (e instanceof CredentialRequestError) return refuse(reply, e);
      throw e;
    }
  });

  app.get<{ Params: { id: string } }>('/credentials/v1/status/:id', { schema: { hide: true } }, async (req, reply) => {
    const token = await issuer.statusListToken(req.params.id);
    if (!token) return reply.code(404).send({ error: { code: 'NOT_FOUND', message: 'no such status list' } });
    return reply
      .header('content-type', 'application/statuslist+jwt')
      .header('cache-control', `public, max-age=${STATUS_LIST_TTL_SECONDS}`)
      .send(token);
  });
}
