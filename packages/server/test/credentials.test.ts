// The digital ID credential (issue 21) end to end on both engines: the wallet client's authorization
// code flow with a stock OIDC client and a sandbox virtual card → c_nonce → JWT proof → an SD-JWT VC
// that verifies against /.well-known/jwt-vc-issuer and carries the certificate's attributes (never a
// My Number), bound to the proof key, with a status list entry that turns invalid in the transaction
// of the certificate's revocation; the issuer and type metadata; and the pre-authorized code of an
// RP's credential offer (tx_code, reuse, records of other RPs and of logins).

import { X509Certificate } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeProtectedHeader, type JWK } from 'jose';
import { verifySdJwtVc, verifyStatusListToken } from '@kakunin/sd-jwt';
import { RECORD_CLAIM } from '../src/oidc/claims.js';
import { createRelyingParty, type RegisteredRelyingParty } from '../src/relying-parties.js';
import { runRevocationMonitor } from '../src/monitor/index.js';
import { CredentialAlreadyIssued, ensureStatusList, insertCredential } from '../src/credentials/store.js';
import { ENGINES } from './support/databases.js';
import {
  BATCH_SIZE,
  CONFIGURATION_ID,
  CREDENTIAL_SCOPE,
  cNonce,
  credentialRequest,
  holderKey,
  proofJwt,
  redeemOffer,
  requestCredential,
  walletAuthorization,
} from './support/credentials.js';
import {
  createTestSandbox,
  finishFlow,
  holderLinkOf,
  holderRespond,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
beforeAll(async () => {
  sim = await createTestSandbox();
}, 120_000);
afterAll(() => sim?.remove());

const basic = (rp: { clientId: string; clientSecret: string }): string =>
  `Basic ${Buffer.from(`${rp.clientId}:${rp.clientSecret}`).toString('base64')}`;

/** Age on the current day in Japan, computed here from the date of birth (not by the platform's code). */
function ageInJapan(birthdate: string): number {
  const today = new Date(Date.now() + 9 * 3600_000).toISOString().slice(0, 10);
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const [by, bm, bd] = birthdate.split('-').map(Number) as [number, number, number];
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

interface IssuerMetadata {
  credential_issuer: string;
  credential_configurations_supported: Record<
    string,
    {
      vct: string;
      credential_metadata: {
        display: { locale: string; name: string }[];
        claims: { path: string[] }[];
      };
    }
  >;
}

type Grants = Record<
  string,
  { 'pre-authorized_code': string; tx_code?: { input_mode?: string; length?: number; description?: string } }
>;

/** Twelve digits in a row, however separated: what a My Number looks like. */
const MY_NUMBER_LIKE = /(?:\d[\s-]?){12}/;

describe.each(ENGINES)('the digital ID credential on %s', (engine) => {
  let p: TestPlatform;
  let base: string;
  let rp: RegisteredRelyingParty;
  let other: RegisteredRelyingParty;
  /** Residents with a signing certificate on their card, each used by one test. */
  let signers: string[];
  const keysOfIssuer = async (): Promise<{ keys: JWK[] }> =>
    ((await (await fetch(`${base}/.well-known/jwt-vc-issuer`)).json()) as { jwks: { keys: JWK[] } }).jwks;

  beforeAll(async () => {
    p = await startTestPlatform(engine, sim.dir);
    base = p.server.url;
    const redirectUris = ['http://127.0.0.1:9/callback'];
    rp = await createRelyingParty(p.server.platform, { name: '銀行', redirectUris, framework: 'jp_aml' });
    other = await createRelyingParty(p.server.platform, { name: '別の会社', redirectUris });
    signers = p.sandbox
      .people()
      .filter((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)
      .map((x) => x.id);
    expect(signers.length).toBeGreaterThanOrEqual(8);
  }, 120_000);
  afterAll(async () => p?.close());

  /** An identity (or login) verification of `who` by `by`: the record id of its ID token. */
  async function verification(by: RegisteredRelyingParty, who: string, scope = 'openid identity'): Promise<string> {
    const flow = await startFlow(p, by.clientId, by.clientSecret, { scope });
    expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person: who })).status).toBe(200);
    const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(p, flow), {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const record = tokens.claims()![RECORD_CLAIM];
    expect(record).toEqual(expect.any(String));
    return record as string;
  }

  const offer = (by: RegisteredRelyingParty, body: Record<string, unknown>) =>
    fetch(`${base}/rp/v1/credential-offers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: basic(by) },
      body: JSON.stringify(body),
    });

  it('publishes the OpenID4VCI issuer metadata, the SD-JWT VC issuer keys and the type metadata', async () => {
    const meta = (await (await fetch(`${base}/.well-known/openid-credential-issuer`)).json()) as IssuerMetadata;
    expect(meta).toMatchObject({
      credential_issuer: base,
      authorization_servers: [base],
      credential_endpoint: `${base}/credentials/v1/credential`,
      nonce_endpoint: `${base}/credentials/v1/nonce`,
      batch_credential_issuance: { batch_size: BATCH_SIZE },
    });
    const configuration = meta.credential_configurations_supported[CONFIGURATION_ID]!;
    expect(Object.keys(meta.credential_configurations_supported)).toEqual([CONFIGURATION_ID]);
    expect(configuration).toMatchObject({
      format: 'dc+sd-jwt',
      scope: CREDENTIAL_SCOPE,
      vct: `${base}/credentials/types/jp-resident`,
      cryptographic_binding_methods_supported: ['jwk'],
      credential_signing_alg_values_supported: ['ES256'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256'] } },
    });
    const paths = configuration.credential_metadata.claims.map((c) => c.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['name', 'birthdate', 'address.formatted', 'age_equal_or_over.18']));
    expect(configuration.credential_metadata.display.map((d) => d.locale)).toEqual(['ja', 'en']);
    for (const d of configuration.credential_metadata.display) expect(d.name).toBeTruthy();

    const as = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as {
      scopes_supported: string[];
      grant_types_supported: string[];
    };
    expect(as.scopes_supported).toContain(CREDENTIAL_SCOPE);
    expect(as.grant_types_supported).toContain('urn:ietf:params:oauth:grant-type:pre-authorized_code');

    const issuerKeys = (await (await fetch(`${base}/.well-known/jwt-vc-issuer`)).json()) as {
      issuer: string;
      jwks: { keys: JWK[] };
    };
    expect(issuerKeys.issuer).toBe(base);
    expect(issuerKeys.jwks.keys.length).toBeGreaterThanOrEqual(1);
    for (const k of issuerKeys.jwks.keys) {
      expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', kid: expect.any(String) });
      expect(k).not.toHaveProperty('d');
    }

    const type = await fetch(configuration.vct);
    expect(type.status).toBe(200);
    const t = (await type.json()) as {
      vct: string;
      display: { lang: string }[];
      claims: { path: string[]; sd: string }[];
    };
    expect(t.vct).toBe(configuration.vct);
    expect(t.display.map((d) => d.lang)).toEqual(['ja', 'en']);
    expect(t.claims.every((c) => c.sd === 'always')).toBe(true);
    expect(t.claims.map((c) => c.path.join('.'))).toEqual(
      expect.arrayContaining(['name', 'birthdate', 'address.formatted', 'address.prefecture_code']),
    );
  });

  it('batch issuance: one request, one c_nonce, a proof per key → that many copies: the same claims, their own key, salts and status entry; a revocation invalidates every copy', async () => {
    const person = signers[7]!;
    const tokens = await walletAuthorization(p, person);
    const nonce = await cNonce(base);
    const keys = await Promise.all(Array.from({ length: BATCH_SIZE }, () => holderKey()));
    const answer = await credentialRequest(base, tokens.access_token, {
      credential_configuration_id: CONFIGURATION_ID,
      proofs: { jwt: await Promise.all(keys.map((k) => proofJwt(k, base, nonce))) },
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.credentials).toHaveLength(BATCH_SIZE);
    const copies = await Promise.all(
      answer.body.credentials!.map(async (c) => verifySdJwtVc(c.credential, { keys: await keysOfIssuer() })),
    );
    const claimsOf = (v: (typeof copies)[number]) => {
      const { cnf: _cnf, status: _status, ...rest } = v.claims;
      return rest;
    };
    for (const [i, v] of copies.entries()) {
      expect(claimsOf(v)).toEqual(claimsOf(copies[0]!));
      expect(v.holderJwk).toMatchObject({ x: keys[i]!.publicJwk.x, y: keys[i]!.publicJwk.y });
    }
    // Nothing a verifier sees twice: no salt, digest, key or status index in common between copies.
    const seen = (pick: (v: (typeof copies)[number]) => string[]) => copies.flatMap(pick);
    for (const values of [
      seen((v) => v.disclosures.map((d) => d.salt)),
      seen((v) => v.disclosures.map((d) => d.digest)),
      seen((v) => [String(v.status!.idx)]),
      seen((v) => [String(v.holderJwk!.x)]),
    ])
      expect(new Set(values).size).toBe(values.length);
    // The same c_nonce again: spent by the batch.
    const again = await credentialRequest(base, tokens.access_token, {
      credential_configuration_id: CONFIGURATION_ID,
      proofs: { jwt: [await proofJwt(await holderKey(), base, nonce)] },
    });
    expect(again.body.error).toBe('invalid_nonce');

    await p.sandbox.applyEvent(person, 'move');
    await runRevocationMonitor(p.server.platform, { now: new Date() });
    const { uri } = copies[0]!.status!;
    const list = await verifyStatusListToken(await (await fetch(uri)).text(), { keys: await keysOfIssuer(), uri });
    for (const v of copies) expect(list.list.get(v.status!.idx)).toBe(1);
    // One records-log note for the issuance's revocation, naming every copy (as its issuance note does).
    const record = String(tokens.claims()![RECORD_CLAIM]);
    const notes = await p.server.platform.db.query<{ event: string; copies: { credentialId: string }[] }>(
      "SELECT payload->>'event' AS event, payload->'copies' AS copies FROM records WHERE outcome = 'note' AND payload->>'verificationRecordId' = $1 ORDER BY created_at",
      [record],
    );
    expect(notes.map((n) => n.event)).toEqual(['credential_issued', 'credential_revoked']);
    for (const n of notes) expect(n.copies).toHaveLength(BATCH_SIZE);
  }, 60_000);

  it('authorization code flow → nonce → proof → an SD-JWT VC of the certificate; revocation turns its status bit', async () => {
    const person = signers[0]!;
    const resident = p.sandbox.person(person);
    const tokens = await walletAuthorization(p, person);
    expect(tokens.scope?.split(' ')).toContain(CREDENTIAL_SCOPE);
    const key = await holderKey();
    const answer = await requestCredential(base, tokens.access_token, key);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body.credentials).toHaveLength(1);
    const sdJwt = answer.body.credentials![0]!.credential;
    expect(sdJwt.endsWith('~')).toBe(true);

    const verified = await verifySdJwtVc(sdJwt, { keys: await keysOfIssuer() });
    expect(verified.header).toMatchObject({ alg: 'ES256', typ: 'dc+sd-jwt' });
    const certificate = new X509Certificate(p.sandbox.currentCertificate(person, 'sign', 'card'));
    const age = ageInJapan(resident.birthDate);
    expect(verified.claims).toMatchObject({
      iss: base,
      vct: `${base}/credentials/types/jp-resident`,
      name: resident.name,
      birthdate: resident.birthDate,
      address: { formatted: resident.address, prefecture_code: resident.municipalityCode.slice(0, 2) },
      age_equal_or_over: { '18': age >= 18, '20': age >= 20 },
    });
    expect(verified.payload.exp).toBe(Math.floor(new Date(certificate.validTo).getTime() / 1000));
    expect(verified.holderJwk).toEqual({ kty: 'EC', crv: 'P-256', x: key.publicJwk.x, y: key.publicJwk.y });
    // Every attribute is selectively disclosable: none sits in the signed payload in clear.
    for (const claim of ['name', 'birthdate', 'address', 'age_equal_or_over'])
      expect(verified.payload).not.toHaveProperty(claim);
    expect(verified.disclosures.map((d) => d.name)).toEqual(
      expect.arrayContaining(['name', 'birthdate', 'address', 'formatted', 'prefecture_code', 'age_equal_or_over']),
    );
    // No My Number anywhere: not in the payload, not in any disclosure (the certificate has none either).
    const everything = [JSON.stringify(verified.payload), ...verified.disclosures.map((d) => JSON.stringify(d))].join();
    expect(everything).not.toMatch(MY_NUMBER_LIKE);
    expect(everything).not.toMatch(/my_?number|個人番号/i);
    expect(Object.keys(verified.claims).sort()).toEqual(
      ['address', 'age_equal_or_over', 'birthdate', 'cnf', 'exp', 'iat', 'iss', 'name', 'status', 'vct'].sort(),
    );

    const { idx, uri } = (verified.payload.status as { status_list: { idx: number; uri: string } }).status_list;
    expect(verified.status).toEqual({ idx, uri });
    expect(Number.isInteger(idx)).toBe(true);
    expect(uri).toBe(`${base}/credentials/v1/status/${decodeProtectedHeader(sdJwt.split('~')[0]!).kid}`);
    const status = async (): Promise<number> => {
      const res = await fetch(uri);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/statuslist\+jwt/);
      expect(res.headers.get('cache-control')).toBe('public, max-age=60');
      const token = await res.text();
      const list = await verifyStatusListToken(token, { keys: await keysOfIssuer(), uri });
      expect(list.header.typ).toBe('statuslist+jwt');
      expect(list.payload.sub).toBe(uri);
      expect(list.payload.ttl).toBe(60);
      return list.list.get(idx);
    };
    expect(await status()).toBe(0);
    expect((await fetch(`${base}/credentials/v1/status/no-such-list`)).status).toBe(404);

    // One credential per verification: the same access token gets no second one.
    const again = await requestCredential(base, tokens.access_token, await holderKey());
    expect(again.status).toBe(401);
    expect(again.body.error).toBe('invalid_token');
    expect(again.body.credentials).toBeUndefined();

    // The resident moves: the signing certificate is revoked; one monitor pass later the bit is 1.
    const serial = p.sandbox.currentCertificateRecord(person, 'sign', 'card').serial;
    // An RP verified the same resident with the same certificate (its offer is redeemed after the revocation).
    const rpRecord = await verification(rp, person);
    await p.sandbox.applyEvent(person, 'move');
    const report = await runRevocationMonitor(p.server.platform, { now: new Date() });
    expect(report.revoked).toBeGreaterThanOrEqual(1);
    expect(await status()).toBe(1);
    const db = p.server.platform.db;
    const [row] = await db.query<{ id: string; status: number; status_event_id: string; status_changed_at: Date }>(
      'SELECT id, status, status_event_id, status_changed_at FROM credentials WHERE status_list_id = $1 AND status_idx = $2',
      [decodeProtectedHeader(sdJwt.split('~')[0]!).kid!, idx],
    );
    expect(row).toMatchObject({ status: 1 });
    const [revoked] = await db.query<{ id: string; at: Date; data: Record<string, unknown> }>(
      "SELECT id, created_at AS at, data FROM events WHERE type = 'certificate.revoked' AND id = $1",
      [row!.status_event_id],
    );
    expect(revoked).toBeDefined();
    expect(revoked!.data).toMatchObject({ serial });
    expect(new Date(row!.status_changed_at).getTime()).toBe(new Date(revoked!.at).getTime());
    const credentialEvents = await db.query<{ data: Record<string, unknown>; at: Date }>(
      "SELECT data, created_at AS at FROM events WHERE type = 'credential.revoked' AND data->>'credential_id' = $1",
      [row!.id],
    );
    expect(credentialEvents).toHaveLength(1);
    expect(credentialEvents[0]!.data).toMatchObject({ cause: revoked!.id, status_idx: idx });
    expect(new Date(credentialEvents[0]!.at).getTime()).toBe(new Date(revoked!.at).getTime());
    expect(JSON.stringify(credentialEvents[0]!.data)).not.toContain(resident.name);

    // No new credential from a revoked certificate: the RP's offer still gives a token, the issuer refuses.
    const o = (await (await offer(rp, { record_id: rpRecord })).json()) as { credential_offer: { grants: Grants } };
    const code = o.credential_offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']!;
    const late = await redeemOffer(base, code['pre-authorized_code']);
    expect(late.status).toBe(200);
    const refused = await requestCredential(base, late.body.access_token!, await holderKey());
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe('credential_request_denied');
  }, 60_000);

  it("pre-authorized code: an RP's offer for its own identity record → token → credential; reuse is invalid_grant", async () => {
    const person = signers[1]!;
    const record = await verification(rp, person);
    const res = await offer(rp, { record_id: record });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const o = (await res.json()) as {
      credential_offer: { credential_issuer: string; credential_configuration_ids: string[]; grants: Grants };
      offer_uri: string;
      qr_svg: string;
      tx_code?: string;
      expires_at: string;
    };
    expect(o.tx_code).toBeUndefined();
    expect(o.credential_offer).toMatchObject({
      credential_issuer: base,
      credential_configuration_ids: [CONFIGURATION_ID],
    });
    const grant = o.credential_offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']!;
    expect(grant['pre-authorized_code']).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(grant.tx_code).toBeUndefined();
    const link = new URL(o.offer_uri);
    expect(link.protocol).toBe('openid-credential-offer:');
    expect(JSON.parse(link.searchParams.get('credential_offer')!)).toEqual(o.credential_offer);
    expect(o.qr_svg).toMatch(/^<svg/);
    expect(new Date(o.expires_at).getTime()).toBeGreaterThan(Date.now());

    const token = await redeemOffer(base, grant['pre-authorized_code']);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.body).toMatchObject({ token_type: 'Bearer', scope: CREDENTIAL_SCOPE });
    const key = await holderKey();
    const answer = await requestCredential(base, token.body.access_token!, key);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const verified = await verifySdJwtVc(answer.body.credentials![0]!.credential, { keys: await keysOfIssuer() });
    const resident = p.sandbox.person(person);
    expect(verified.claims).toMatchObject({ name: resident.name, birthdate: resident.birthDate });
    expect(verified.holderJwk).toMatchObject({ x: key.publicJwk.x, y: key.publicJwk.y });
    const [row] = await p.server.platform.db.query<{ rp_client_id: string; record_id: string }>(
      'SELECT rp_client_id, record_id FROM credentials WHERE record_id = $1',
      [record],
    );
    expect(row).toEqual({ rp_client_id: rp.clientId, record_id: record });

    // The code is spent.
    const reuse = await redeemOffer(base, grant['pre-authorized_code']);
    expect(reuse.status).toBe(400);
    expect(reuse.body.error).toBe('invalid_grant');
    // An unknown code too.
    expect((await redeemOffer(base, 'x'.repeat(43))).body.error).toBe('invalid_grant');
    // A new offer for a verification whose credential is issued: refused at once (one per verification).
    const again = await offer(rp, { record_id: record });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(/already been issued/);
  }, 60_000);

  it('tx_code: the right one gives the credential; a wrong one spends the offer; a missing one is refused', async () => {
    const record = await verification(rp, signers[2]!);
    const make = async () => {
      const res = await offer(rp, { record_id: record, tx_code: true });
      expect(res.status).toBe(200);
      const o = (await res.json()) as { credential_offer: { grants: Grants }; tx_code: string };
      const grant = o.credential_offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']!;
      expect(grant.tx_code).toMatchObject({ input_mode: 'numeric', length: 6 });
      expect(o.tx_code).toMatch(/^\d{6}$/);
      return { code: grant['pre-authorized_code'] as string, tx: o.tx_code };
    };
    const wrongDigit = (tx: string): string => `${tx.slice(0, 5)}${(Number(tx[5]) + 1) % 10}`;

    const wrong = await make();
    const refused = await redeemOffer(base, wrong.code, wrongDigit(wrong.tx));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    const late = await redeemOffer(base, wrong.code, wrong.tx);
    expect(late.body.error).toBe('invalid_grant');
    expect(late.body.access_token).toBeUndefined();

    const missing = await make();
    const none = await redeemOffer(base, missing.code);
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_grant');
    expect((await redeemOffer(base, missing.code, missing.tx)).body.error).toBe('invalid_grant');

    // An offer without a tx_code takes none.
    const plain = (await (await offer(rp, { record_id: record })).json()) as { credential_offer: { grants: Grants } };
    const plainCode = plain.credential_offer.grants['urn:ietf:params:oauth:grant-type:pre-authorized_code']!;
    expect((await redeemOffer(base, plainCode['pre-authorized_code'], '123456')).status).toBe(400);

    const right = await make();
    const token = await redeemOffer(base, right.code, right.tx);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const answer = await requestCredential(base, token.body.access_token!, await holderKey());
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  }, 60_000);

  it("offers only for the RP's own identity records: another RP's record and a login record are 404", async () => {
    const theirs = await verification(other, signers[3]!);
    const res = await offer(rp, { record_id: theirs });
    expect(res.status).toBe(404);
    const login = await verification(rp, signers[3]!, 'openid');
    expect((await offer(rp, { record_id: login })).status).toBe(404);
    expect((await offer(rp, { record_id: 'rec_unknown' })).status).toBe(404);
    // The same answer as an unknown record: nothing tells another RP's record from none.
    const answer = async (id: string): Promise<string> =>
      JSON.stringify(await (await offer(rp, { record_id: id })).json()).replace(id, 'REC');
    expect(await answer(theirs)).toBe(await answer('rec_unknown'));
    const noAuth = await fetch(`${base}/rp/v1/credential-offers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ record_id: theirs }),
    });
    expect(noAuth.status).toBe(401);
  }, 60_000);

  it('refuses an unknown or missing credential_configuration_id and a body that is no request', async () => {
    const tokens = await walletAuthorization(p, signers[4]!);
    const key = await holderKey();
    const ask = async (body: Record<string, unknown>) => {
      const a = await credentialRequest(base, tokens.access_token, body);
      expect(a.status).toBe(400);
      return a.body.error;
    };
    const proof = async () => ({ jwt: [await proofJwt(key, base, await cNonce(base))] });
    expect(await ask({ credential_configuration_id: 'mdoc_mdl', proofs: await proof() })).toBe(
      'unknown_credential_configuration',
    );
    expect(await ask({ proofs: await proof() })).toBe('invalid_credential_request');
    expect(await ask({ credential_configuration_id: CONFIGURATION_ID, proofs: 'x' })).toBe(
      'invalid_credential_request',
    );
    // None of these spent the verification: the well-formed request still gets its credential.
    expect((await requestCredential(base, tokens.access_token, key)).status).toBe(200);
  }, 60_000);

  it('concurrent credential requests with one access token: exactly one credential, the others refused', async () => {
    const tokens = await walletAuthorization(p, signers[5]!);
    // The proofs first, so that the requests meet at the issuance itself.
    const proofs = await Promise.all(
      Array.from({ length: 4 }, async () => proofJwt(await holderKey(), base, await cNonce(base))),
    );
    const answers = await Promise.all(
      proofs.map((proof) =>
        credentialRequest(base, tokens.access_token, {
          credential_configuration_id: CONFIGURATION_ID,
          proofs: { jwt: [proof] },
        }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401]);
    for (const a of answers.filter((x) => x.status !== 200)) expect(a.body.error).toBe('invalid_token');
  }, 60_000);

  it('two issuances of one verification in overlapping transactions: one row, the other "already issued"', async () => {
    const db = p.server.platform.db;
    const record = await verification(rp, signers[6]!);
    const [c] = await db.query<{ id: string; subject_id: string }>(
      'SELECT id, subject_id FROM ceremonies WHERE record_id = $1',
      [record],
    );
    // The list exists already (as it does after the first issuance with a key).
    await ensureStatusList(db, 'race-list');
    const attempt = (id: string, holdSeconds: number) =>
      db.transaction(async (tx) => {
        const listId = await ensureStatusList(tx, 'race-list');
        const idx = await insertCredential(tx, {
          id,
          issuedAt: new Date(),
          expiresAt: new Date(Date.now() + 86_400_000),
          rpClientId: rp.clientId,
          subjectId: c!.subject_id,
          ceremonyId: c!.id,
          recordId: record,
          issuerId: 'sim-signca01',
          serial: '01',
          holderJkt: id,
          statusListId: listId,
          batchIndex: 0,
        });
        // The first transaction stays open while the second inserts.
        if (holdSeconds) await tx.query('SELECT pg_sleep($1)', [holdSeconds]);
        return idx;
      });
    const first = attempt('vc_race_1', 0.3);
    await new Promise((r) => setTimeout(r, 50));
    const results = await Promise.allSettled([first, attempt('vc_race_2', 0)]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]!.status).toBe('rejected');
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(CredentialAlreadyIssued);
    const rows = await db.query('SELECT id FROM credentials WHERE ceremony_id = $1', [c!.id]);
    expect(rows).toEqual([{ id: 'vc_race_1' }]);
  }, 60_000);
});
