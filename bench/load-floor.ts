// `npm run load`, the floor: PostgreSQL alone (pgbench, the same C clients, the same database
// server, scratch tables in the load database) running the least a verification must write — one
// round trip, one statement: consume the nonce, complete the ceremony, insert the record (a leaf:
// ~300 bytes of jsonb and a 32-byte leaf hash) into a table shaped and indexed like `records`. No row
// is touched by every transaction. The platform can at best approach this rate.
//
// Beside it, for comparison, the old design's transaction: BEGIN, the same three writes as separate
// statements with the record appended to one hash chain (every transaction updates the one chain-head
// row), COMMIT — which bounds any design that extends one chain inside each ceremony's transaction.
// And OpenSSL's RSA-2048 signing rate on one core (the simulated J-LIS signs one OCSP answer per
// ceremony that does not reuse an answer).

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export interface Reference {
  label: string;
  value: string;
  perSecond?: number;
}

const ROWS = 200_000;

// ~300 bytes of jsonb, the size of a login's verification record payload.
const PAYLOAD = JSON.stringify({
  schema: 'kakunin.verification.v1',
  ceremony: 'cer_0123456789abcdef01234567',
  kind: 'login',
  rp: 'rp_0123456789ab',
  certificate: {
    kind: 'auth',
    serial: '0123ABCD4567EF89',
    issuer: 'CN=JPKI-SIM Auth CA',
    not_after: '2030-01-01T00:00:00Z',
  },
  revocation: { source: 'ocsp', status: 'good', checked_at: '2025-01-01T00:00:00.000Z' },
});
export const FLOOR_PAYLOAD_BYTES = Buffer.byteLength(PAYLOAD);
const LEAF_HASH = `\\x${'ab'.repeat(32)}`;

const SCHEMA = `
CREATE TABLE load_floor_nonces (value text PRIMARY KEY, ceremony_id text NOT NULL, used_at timestamptz);
CREATE TABLE load_floor_ceremonies (id text PRIMARY KEY, rp_client_id text NOT NULL, state text NOT NULL, finished_at timestamptz);
CREATE TABLE load_floor_records (
  seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, created_at timestamptz NOT NULL, rp_client_id text, ceremony_id text,
  subject_id text, framework text NOT NULL, outcome text NOT NULL, payload jsonb, payload_hash text NOT NULL,
  leaf_hash bytea, leaf_index bigint UNIQUE, integrated_at timestamptz, prev_hash text, hash text);
CREATE INDEX ON load_floor_records (rp_client_id, created_at);
CREATE INDEX ON load_floor_records (subject_id);
CREATE INDEX ON load_floor_records (seq) WHERE leaf_index IS NULL;
CREATE TABLE load_floor_head (id int PRIMARY KEY, seq bigint NOT NULL, hash text NOT NULL);
INSERT INTO load_floor_ceremonies SELECT 'cer_' || g, 'rp_load', 'pending', NULL FROM generate_series(1, ${ROWS}) g;
INSERT INTO load_floor_nonces SELECT 'non_' || g, 'cer_' || g, NULL FROM generate_series(1, ${ROWS}) g;
INSERT INTO load_floor_head VALUES (1, 0, repeat('0', 64));
`;
const DROP = 'DROP TABLE IF EXISTS load_floor_nonces, load_floor_ceremonies, load_floor_records, load_floor_head';

const ONE_ROUND_TRIP = `\\set n random(1, ${ROWS})
WITH nonce AS (UPDATE load_floor_nonces SET used_at = now() WHERE value = 'non_' || :n RETURNING ceremony_id), ceremony AS (UPDATE load_floor_ceremonies c SET state = 'completed', finished_at = now() FROM nonce WHERE c.id = nonce.ceremony_id RETURNING c.id, c.rp_client_id) INSERT INTO load_floor_records (id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, leaf_hash) SELECT 'rec_' || md5(random()::text), clock_timestamp(), rp_client_id, id, 'sub_load', 'jp_aml', 'verified', '${PAYLOAD}'::jsonb, '${'cd'.repeat(32)}', '${LEAF_HASH}'::bytea FROM ceremony;
`;

const WITH_CHAIN_HEAD = `\\set n random(1, ${ROWS})
BEGIN;
UPDATE load_floor_nonces SET used_at = now() WHERE value = 'non_' || :n;
UPDATE load_floor_ceremonies SET state = 'completed', finished_at = now() WHERE id = 'cer_' || :n;
WITH head AS (UPDATE load_floor_head SET seq = seq + 1, hash = encode(sha256(convert_to(hash || seq::text, 'UTF8')), 'hex') WHERE id = 1 RETURNING seq, hash) INSERT INTO load_floor_records (id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, prev_hash, hash) SELECT 'rec_' || md5(random()::text), clock_timestamp(), 'rp_load', 'cer_' || :n, 'sub_load', 'jp_aml', 'verified', '${PAYLOAD}'::jsonb, '${'cd'.repeat(32)}', hash, hash FROM head;
END;
`;

async function pgbench(
  url: string,
  script: string,
  clients: number,
  seconds: number,
): Promise<{ tps: number; latency: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'kakunin-load-floor-'));
  try {
    writeFileSync(join(dir, 'tx.sql'), script);
    const { hostname, port, username, pathname } = new URL(url);
    const args = [
      '-n',
      '-M',
      'prepared',
      '-h',
      hostname,
      '-p',
      port || '5432',
      '-U',
      decodeURIComponent(username || 'postgres'),
      '-c',
      String(clients),
      '-j',
      '2',
      '-T',
      String(seconds),
      '-f',
      join(dir, 'tx.sql'),
      decodeURIComponent(pathname.slice(1)),
    ];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('pgbench', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr.on('data', (d: Buffer) => (text += d.toString()));
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0
          ? resolve(text)
          : reject(new Error(`pgbench exited with ${code}: ${text.trim().split('\n').at(-1)}`)),
      );
    });
    const tps = Number(/tps = ([\d.]+)/.exec(out)?.[1]);
    const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
    if (!Number.isFinite(tps)) throw new Error(`no tps in pgbench's output: ${out.trim().split('\n').at(-1)}`);
    return { tps, latency };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The floor, and the old design's chain-head transaction, on scratch tables dropped afterwards. */
export async function measureFloor(
  url: string,
  clients: number,
  seconds: number,
  withChainHead: boolean,
): Promise<{ floor: Reference; chainHead?: Reference }> {
  const floorLabel = `floor: PostgreSQL alone, 1 round trip per verification (pgbench -M prepared -c ${clients})`;
  const chainLabel = `old design, for comparison: one chain head in every transaction (pgbench -c ${clients})`;
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(DROP);
    await db.query(SCHEMA);
    await db.query('VACUUM ANALYZE load_floor_nonces, load_floor_ceremonies');
    let floor: Reference;
    try {
      const r = await pgbench(url, ONE_ROUND_TRIP, clients, seconds);
      floor = {
        label: floorLabel,
        value: `${r.tps.toFixed(0)} tx/s, mean latency ${r.latency.toFixed(1)} ms`,
        perSecond: r.tps,
      };
    } catch (e) {
      floor = { label: floorLabel, value: `not measured (${(e as Error).message})` };
    }
    if (!withChainHead) return { floor };
    let chainHead: Reference;
    try {
      const r = await pgbench(url, WITH_CHAIN_HEAD, clients, seconds);
      chainHead = {
        label: chainLabel,
        value: `${r.tps.toFixed(0)} tx/s, mean latency ${r.latency.toFixed(1)} ms`,
        perSecond: r.tps,
      };
    } catch (e) {
      chainHead = { label: chainLabel, value: `not measured (${(e as Error).message})` };
    }
    return { floor, chainHead };
  } finally {
    await db.query(DROP).catch(() => undefined);
    await db.end();
  }
}

/** OpenSSL's RSA-2048 signatures per second on one core (`openssl speed`). */
export async function rsaReference(): Promise<Reference> {
  const label = 'OpenSSL RSA-2048 signatures/s, one core (the simulated J-LIS signs each fresh OCSP answer)';
  const out = await new Promise<string>((resolve) => {
    const child = spawn('openssl', ['speed', '-seconds', '2', 'rsa2048'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.once('error', () => resolve(''));
    child.once('exit', () => resolve(text));
  });
  const m = /rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/.exec(out);
  return m
    ? { label, value: Number(m[1]).toFixed(0), perSecond: Number(m[1]) }
    : { label, value: 'not measured (openssl speed failed)' };
}
