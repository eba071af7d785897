// What the digital ID tests share: the real `kakunin` CLI in a child process (asynchronously: the
// platform and the demo answer it from this process), a holder of the tests' own that redeems a
// credential offer with a key the test keeps (to build presentations an attacker would), and the
// pieces of a presentation (disclosures, key binding JWT) put together by hand.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { parseSdJwt, selectDisclosures, serializeSdJwt, type Disclosure } from '@kakunin/sd-jwt';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/kakunin.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `kakunin …` as a user would, without blocking this process's servers. */
export function kakunin(args: string[], input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** A credential the test holds with its private key. */
export interface HeldCredential {
  sdJwt: string;
  key: CryptoKey;
  jwk: JWK;
}

const PRE_AUTHORIZED = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

async function json(res: Response, what: string): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** OpenID4VCI with a pre-authorized code, as any wallet would do it: token, c_nonce, proof, credential. */
export async function redeemOffer(offerUri: string): Promise<HeldCredential> {
  const offer = JSON.parse(new URL(offerUri).searchParams.get('credential_offer')!) as {
    credential_issuer: string;
    credential_configuration_ids: string[];
    grants: Record<string, { 'pre-authorized_code': string }>;
  };
  const issuer = offer.credential_issuer;
  const as = await json(await fetch(`${issuer}/.well-known/openid-configuration`), 'discovery');
  const token = await json(
    await fetch(String(as.token_endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: PRE_AUTHORIZED,
        'pre-authorized_code': offer.grants[PRE_AUTHORIZED]!['pre-authorized_code'],
        client_id: 'kakunin-wallet',
      }),
    }),
    'token',
  );
  const { c_nonce } = await json(await fetch(`${issuer}/credentials/v1/nonce`, { method: 'POST' }), 'nonce');
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  const proof = await new SignJWT({ nonce: c_nonce })
    .setProtectedHeader({ alg: 'ES256', typ: 'openid4vci-proof+jwt', jwk })
    .setAudience(issuer)
    .setIssuedAt()
    .sign(privateKey);
  const answer = await json(
    await fetch(`${issuer}/credentials/v1/credential`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${String(token.access_token)}` },
      body: JSON.stringify({
        credential_configuration_id: offer.credential_configuration_ids[0],
        proofs: { jwt: [proof] },
      }),
    }),
    'credential',
  );
  const sdJwt = (answer.credentials as { credential: string }[])[0]!.credential;
  return { sdJwt, key: privateKey, jwk };
}

/** The disclosures that reveal `paths` (with their parents'), as a wallet following the query picks them. */
export function disclosuresFor(sdJwt: string, paths: (string | number | null)[][]): Disclosure[] {
  return selectDisclosures(parseSdJwt(sdJwt), paths);
}

/** `<issuer JWT>~<disclosures>~<KB-JWT>`: a KB-JWT over exactly these characters (sd_hash), signed by `key`. */
export async function presentation(
  sdJwt: string,
  disclosures: readonly Pick<Disclosure, 'encoded'>[],
  o: { key: CryptoKey; audience: string; nonce: string; iat?: number },
): Promise<string> {
  const presented = serializeSdJwt(parseSdJwt(sdJwt).issuerJwt, disclosures as Disclosure[]);
  const kb = await new SignJWT({ nonce: o.nonce, sd_hash: createHash('sha256').update(presented).digest('base64url') })
    .setProtectedHeader({ alg: 'ES256', typ: 'kb+jwt' })
    .setAudience(o.audience)
    .setIssuedAt(o.iat ?? Math.floor(Date.now() / 1000))
    .sign(o.key);
  return presented + kb;
}

/** A disclosure made up by hand: base64url of `[salt, name, value]`. */
export function handMadeDisclosure(salt: string, name: string, value: unknown): Pick<Disclosure, 'encoded'> {
  return { encoded: Buffer.from(JSON.stringify([salt, name, value])).toString('base64url') };
}
