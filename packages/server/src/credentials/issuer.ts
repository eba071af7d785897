// The credential issuer's work: c_nonces, the proof of possession of the holder's key (a JWT proof,
// OpenID4VCI §8.2.1.1), the SD-JWT VC itself, and the signed status lists. The HTTP side is routes.ts.

import { randomBytes } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, importJWK, jwtVerify, type JWK } from 'jose';
import { StatusList, issueSdJwtVc, signStatusListToken, type PrivateKey } from '@kakunin/sd-jwt';
import type { CeremonyResult } from '../ceremony-domain.js';
import type { Database } from '../db/sql.js';
import { insertEvent } from '../monitor/events.js';
import { createRelyingParty, findRelyingParty, type RegistryStore } from '../relying-parties.js';
import { BATCH_SIZE, WALLET_CLIENT_ID, WALLET_REDIRECT_URI, residentClaims, vctOf } from './domain.js';
import {
  ensureStatusList,
  insertCredential,
  invalidEntries,
  statusListExists,
  CredentialAlreadyIssued,
  appendCredentialNote,
} from './store.js';
import { mintNonce, readNonce, spendNonce } from './nonces.js';

/** OpenID4VCI error codes (§8.3.1.2) and OAuth bearer token errors, with their HTTP status. */
export type CredentialErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'invalid_proof'
  | 'invalid_nonce'
  | 'unknown_credential_configuration'
  | 'invalid_credential_request'
  | 'credential_request_denied';

export class CredentialRequestError extends Error {
  readonly code: CredentialErrorCode;
  readonly status: number;
  constructor(code: CredentialErrorCode, message: string) {
    super(message);
    this.name = 'CredentialRequestError';
    this.code = code;
    this.status = code === 'invalid_token' ? 401 : code === 'credential_request_denied' ? 403 : 400;
  }
}

/** Seconds a proof's `iat` may be off from now (clock skew and the holder's round trips). */
const PROOF_WINDOW_SECONDS = 300;
/** How long verifiers may cache a status list token (`ttl`, Cache-Control max-age). */
export const STATUS_LIST_TTL_SECONDS = 60;
export const PROOF_TYP = 'openid4vci-proof+jwt';

export interface IssuerOptions {
  db: Database;
  /** The credential issuer identifier: the platform's public URL. */
  issuer: string;
  /** ES256 private JWKs, newest (signing) first (secrets.ts, key ring `credential`). */
  keys: Record<string, unknown>[];
  /** The HMAC key of c_nonces (nonces.ts `nonceKey`). */
  nonceKey: Buffer;
  /** The municipality code of an address, when the platform knows it. */
  municipalityCode?: (address: string) => string | undefined;
}

/** What a credential is issued from: a verified identity ceremony of the wallet's authorization or an offer. */
export interface IssuanceBasis {
  ceremonyId: string;
  rpClientId: string;
  subjectId: string;
  recordId: string;
  result: CeremonyResult;
}

export class CredentialIssuer {
  readonly issuer: string;
  private readonly o: IssuerOptions;
  constructor(o: IssuerOptions) {
    this.o = o;
    this.issuer = o.issuer;
  }

  statusListUri(listId: string): string {
    return `${this.issuer}/credentials/v1/status/${encodeURIComponent(listId)}`;
  }

  /** /.well-known/jwt-vc-issuer: the public keys of every credential key (SD-JWT VC §5). */
  jwtVcIssuerMetadata(): { issuer: string; jwks: { keys: JWK[] } } {
    return { issuer: this.issuer, jwks: { keys: this.o.keys.map(publicJwk) } };
  }

  nonce(): string {
    return mintNonce(this.o.nonceKey);
  }

  /**
   * Checks the JWT proofs of one credential request (one per copy, at most BATCH_SIZE): each with typ,
   * ES256 by the key in its header (not a private key), audience = this issuer, a fresh iat; every
   * key different; one c_nonce of ours for all of them, used once. Returns the holders' keys.
   */
  async checkProofs(proofs: readonly unknown[], clientId: string | undefined): Promise<{ jwk: JWK; jkt: string }[]> {
    if (proofs.length === 0)
      throw new CredentialRequestError('invalid_proof', 'the request has no proof of possession of the holder key');
    if (proofs.length > BATCH_SIZE)
      throw new CredentialRequestError(
        'invalid_credential_request',
        `at most ${BATCH_SIZE} proofs (batch_credential_issuance.batch_size): one credential per proof`,
      );
    const checked = [];
    for (const proof of proofs) checked.push(await this.verifyProof(proof, clientId));
    const nonces = new Set(checked.map((c) => c.nonce));
    if (nonces.size > 1)
      throw new CredentialRequestError('invalid_nonce', 'the proofs of one request must carry the same c_nonce');
    if (new Set(checked.map((c) => c.jkt)).size < checked.length)
      throw new CredentialRequestError('invalid_proof', 'each proof needs a key of its own (one key per credential)');
    const nonce = checked[0]!.nonce;
    const read = readNonce(this.o.nonceKey, nonce);
    const spent = typeof read === 'string' ? read : await spendNonce(this.o.db, nonce, read.expiresAt);
    if (spent !== 'ok')
      throw new CredentialRequestError(
        'invalid_nonce',
        spent === 'used'
          ? 'the proof reuses a c_nonce (each request needs a fresh one from the nonce endpoint)'
          : `the proof's c_nonce is ${spent === 'expired' ? 'expired' : 'not one this issuer gave'}`,
      );
    return checked.map(({ jwk, jkt }) => ({ jwk, jkt }));
  }

  /** One JWT proof, before its c_nonce is looked at. */
  private async verifyProof(
    proof: unknown,
    clientId: string | undefined,
  ): Promise<{ jwk: JWK; jkt: string; nonce: string }> {
    if (typeof proof !== 'string') throw new CredentialRequestError('invalid_proof', 'the proof must be a JWT');
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(proof, EmbeddedJWK, {
        typ: PROOF_TYP,
        algorithms: ['ES256'],
        audience: this.issuer,
        maxTokenAge: PROOF_WINDOW_SECONDS,
        clockTolerance: PROOF_WINDOW_SECONDS,
      });
    } catch (e) {
      throw new CredentialRequestError('invalid_proof', `the proof JWT does not verify: ${(e as Error).message}`);
    }
    const { payload, protectedHeader } = verified;
    if (clientId && payload.iss !== undefined && payload.iss !== clientId)
      throw new CredentialRequestError('invalid_proof', `the proof's iss is not the client (${clientId})`);
    if (typeof payload.nonce !== 'string')
      throw new CredentialRequestError('invalid_nonce', 'the proof has no c_nonce: get one from the nonce endpoint');
    const jwk = protectedHeader.jwk as JWK;
    return {
      jwk: publicJwk(jwk as Record<string, unknown>),
      jkt: await calculateJwkThumbprint(jwk),
      nonce: payload.nonce,
    };
  }

  /**
   * Issues the credential of a verified identity ceremony, one copy per holder key (batch issuance),
   * once per ceremony. Its expiry is the signing certificate's; it refuses a certificate no longer good.
   */
  async issue(
    basis: IssuanceBasis,
    holders: readonly { jwk: JWK; jkt: string }[],
  ): Promise<{ id: string; credential: string }[]> {
    const { db } = this.o;
    const { certificate, basic4 } = basis.result;
    if (certificate.kind !== 'sign' || !basic4)
      throw new CredentialRequestError(
        'credential_request_denied',
        'the verification did not read a signing certificate',
      );
    const [watched] = await db.query<{ not_after: Date; status: string }>(
      `SELECT not_after, status FROM monitored_certificates WHERE issuer_id = $1 AND serial = $2 ORDER BY status = 'good' LIMIT 1`,
      [certificate.issuerId, certificate.serial],
    );
    if (!watched)
      throw new CredentialRequestError(
        'credential_request_denied',
        'the certificate of this verification is not known',
      );
    if (watched.status !== 'good')
      throw new CredentialRequestError(
        'credential_request_denied',
        `the signing certificate of this verification is ${watched.status}`,
      );
    const now = new Date();
    const expiresAt = new Date(watched.not_after);
    if (expiresAt <= now) throw new CredentialRequestError('credential_request_denied', 'the certificate has expired');
    const signing = this.o.keys[0]!;
    const kid = String(signing.kid);
    const copies = holders.map((holder) => ({ holder, id: `vc_${randomBytes(16).toString('base64url')}` }));
    const { listId, indexes } = await db.transaction(async (tx) => {
      const listId = await ensureStatusList(tx, kid);
      const indexes: number[] = [];
      for (const [batchIndex, copy] of copies.entries()) {
        try {
          indexes.push(
            await insertCredential(tx, {
              id: copy.id,
              issuedAt: now,
              expiresAt,
              rpClientId: basis.rpClientId,
              subjectId: basis.subjectId,
              ceremonyId: basis.ceremonyId,
              recordId: basis.recordId,
              issuerId: certificate.issuerId,
              serial: certificate.serial,
              holderJkt: copy.holder.jkt,
              statusListId: listId,
              batchIndex,
            }),
          );
        } catch (e) {
          if (e instanceof CredentialAlreadyIssued) throw new CredentialRequestError('invalid_token', e.message);
          throw e;
        }
      }
      const issued = copies.map((c, i) => ({
        credentialId: c.id,
        holderKeyThumbprint: c.holder.jkt,
        statusIdx: indexes[i]!,
      }));
      await appendCredentialNote(tx, {
        rpClientId: basis.rpClientId,
        subjectId: basis.subjectId,
        at: now,
        payload: {
          event: 'credential_issued',
          verificationRecordId: basis.recordId,
          certificate: { issuerId: certificate.issuerId, serial: certificate.serial },
          statusList: listId,
          expiresAt: expiresAt.toISOString(),
          copies: issued,
        },
      });
      await insertEvent(tx, {
        type: 'credential.issued',
        rpClientId: basis.rpClientId,
        subjectId: basis.subjectId,
        recordId: basis.recordId,
        at: now,
        data: {
          credential_ids: copies.map((c) => c.id),
          record_id: basis.recordId,
          ceremony_id: basis.ceremonyId,
          issuer_id: certificate.issuerId,
          serial: certificate.serial,
          status_list: listId,
          status_idx: indexes,
          expires_at: expiresAt.toISOString(),
        },
      });
      return { listId, indexes };
    });
    const claims = residentClaims(basic4, {
      at: now,
      ...(this.o.municipalityCode ? { municipalityCode: this.o.municipalityCode } : {}),
    });
    const signingKey = (await importJWK(signing as JWK, 'ES256')) as PrivateKey;
    const out: { id: string; credential: string }[] = [];
    for (const [i, copy] of copies.entries()) {
      // Every copy its own salts, holder key and status entry: nothing in two copies is the same but the claims.
      const { sdJwt } = await issueSdJwtVc({
        issuer: this.issuer,
        vct: vctOf(this.issuer),
        claims: claims as unknown as Record<string, unknown>,
        holderJwk: copy.holder.jwk,
        status: { idx: indexes[i]!, uri: this.statusListUri(listId) },
        iat: Math.floor(now.getTime() / 1000),
        exp: Math.floor(expiresAt.getTime() / 1000),
        signingKey,
        kid,
      });
      out.push({ id: copy.id, credential: sdJwt });
    }
    return out;
  }

  /** The signed status list token of a list (undefined: no such list), fresh from the database. */
  async statusListToken(listId: string): Promise<string | undefined> {
    const size = await statusListExists(this.o.db, listId);
    if (size === undefined) return undefined;
    const key = this.o.keys.find((k) => k.kid === listId) ?? this.o.keys[0]!;
    const list = new StatusList(size, 1);
    for (const e of await invalidEntries(this.o.db, listId)) list.set(e.idx, e.status);
    const now = Math.floor(Date.now() / 1000);
    return signStatusListToken({
      uri: this.statusListUri(listId),
      list,
      signingKey: (await importJWK(key as JWK, 'ES256')) as PrivateKey,
      kid: String(key.kid),
      iat: now,
      exp: now + 24 * 3600,
      ttl: STATUS_LIST_TTL_SECONDS,
    });
  }
}

/** The public part of a JWK (drops d, p, q, … and keeps kid/alg/use). */
export function publicJwk(jwk: Record<string, unknown>): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = jwk;
  return pub as JWK;
}

/**
 * Registers the platform's public client for wallets once (client id WALLET_CLIENT_ID): the
 * relying party of the credential's identity ceremonies. Its secret is never used (the adapter
 * presents it to oidc-provider as a public client with PKCE).
 */
export async function ensureWalletClient(store: RegistryStore): Promise<void> {
  if (await findRelyingParty(store.db, WALLET_CLIENT_ID)) return;
  await createRelyingParty(store, {
    clientId: WALLET_CLIENT_ID,
    name: 'デジタル身分証 (Kakunin wallet)',
    redirectUris: [WALLET_REDIRECT_URI],
    ceremonies: ['identity'],
    framework: 'jp_municipal',
    purpose: 'デジタル身分証(本人確認済みの証明書)をあなたのウォレットに発行するため',
    purposeEn: 'to issue your digital ID credential to your wallet',
  }).catch(async (e: unknown) => {
    // A concurrent first start registered it.
    if (!(await findRelyingParty(store.db, WALLET_CLIENT_ID))) throw e;
  });
}
