// The records log over HTTP (/records/v1), on both engines, against a running sandbox platform with
// its sequencer: real ceremonies of two RPs (openid-client, a virtual card), then what an RP does to
// keep evidence — its own record's inclusion bundle with its client credentials, the log's key and
// checkpoints — checked with @kakunin/tlog the way `kakunin records check-proof` does offline.

import * as oidc from 'openid-client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConsistency, checkInclusionBundle, openCheckpoint, parseVerifierKey } from '@kakunin/tlog';
import { appendRecord, defaultLogOrigin, RECORD_ENTRY_VERSION } from '../src/records/index.js';
import { createRelyingParty } from '../src/relying-parties.js';
import { ENGINES } from './support/databases.js';
import {
  createTestSandbox,
  finishFlow,
  holderLinkOf,
  holderRespond,
  REDIRECT,
  startFlow,
  startTestPlatform,
  type TestPlatform,
} from './support/platform.js';

/** An identity ceremony whose ID token carries the record id (verification_process). */
const IDENTITY_CLAIMS = {
  id_token: {
    verified_claims: {
      verification: { trust_framework: null, verification_process: null },
      claims: { birthdate: null },
    },
  },
};
/** The sequencer's advisory lock (records/log.ts). */
const SEQUENCER_LOCK = 7418542;

interface Client {
  clientId: string;
  clientSecret: string;
}

interface InclusionJson {
  record_id: string;
  rp_client_id: string | null;
  entry: string;
  leaf_hash: string;
  leaf_index: number;
  tree_size: number;
  proof: string[];
  checkpoint: string;
}

interface ConsistencyJson {
  first: number;
  second: number;
  proof: string[];
  first_checkpoint: string;
  second_checkpoint: string;
}

interface ErrorJson {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

const basic = (c: Client, secret = c.clientSecret): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let sim: Awaited<ReturnType<typeof createTestSandbox>>;
beforeAll(async () => {
  sim = await createTestSandbox();
}, 120_000);
afterAll(() => sim?.remove());

describe.each(ENGINES)('the records log over HTTP on %s', (engine) => {
  let p: TestPlatform;
  let a: Client;
  let b: Client;
  let admin: string;
  let key: string;
  let person: string;
  /** Record ids from the ID tokens: A's two identity verifications, B's one. */
  const records: { a1?: string; a2?: string; b1?: string } = {};
  /** The checkpoint GET /checkpoint answered once A's first record was in the tree. */
  let early: { note: string; size: number };

  const get = (path: string, authorization?: string): Promise<Response> =>
    fetch(`${p.server.url}/records/v1${path}`, { headers: authorization ? { authorization } : {} });
  const error = async (res: Response): Promise<ErrorJson['error']> => ((await res.json()) as ErrorJson).error;

  async function identity(client: Client): Promise<string> {
    const flow = await startFlow(p, client.clientId, client.clientSecret, { claims: IDENTITY_CLAIMS });
    expect((await holderRespond(p.sandbox, holderLinkOf(flow.page.body), { person })).status).toBe(200);
    const tokens = await oidc.authorizationCodeGrant(flow.config, await finishFlow(p, flow), {
      pkceCodeVerifier: flow.verifier,
      expectedState: flow.state,
    });
    const recordId = (tokens.claims()!.verified_claims as { verification: { verification_process: string } })
      .verification.verification_process;
    expect(recordId).toMatch(/^rec_/);
    return recordId;
  }

  /** Polls the inclusion proof until the sequencer has put the record in a signed checkpoint. */
  async function integrated(recordId: string, authorization: string): Promise<InclusionJson> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const res = await get(`/proof/inclusion?record_id=${recordId}`, authorization);
      if (res.status !== 409) {
        expect(res.status, await res.clone().text()).toBe(200);
        return (await res.json()) as InclusionJson;
      }
      // Not yet: a 409 the client can act on, with Retry-After.
      expect(res.headers.get('retry-after')).toBe('1');
      expect(await error(res)).toMatchObject({ code: 'RECORD_NOT_INTEGRATED', details: { recordId } });
      if (Date.now() > deadline) throw new Error(`record ${recordId} not integrated within 10 s`);
      await sleep(50);
    }
  }

  const check = (bundle: InclusionJson, o: { origin?: string } = {}): ReturnType<typeof checkInclusionBundle> =>
    checkInclusionBundle(
      {
        entry: bundle.entry,
        leafIndex: bundle.leaf_index,
        treeSize: bundle.tree_size,
        proof: bundle.proof,
        checkpoint: bundle.checkpoint,
      },
      key,
      o,
    );

  beforeAll(async () => {
    p = await startTestPlatform(engine, sim.dir, { noJobs: false });
    a = await createRelyingParty(p.server.platform, {
      name: 'はぴコイン',
      redirectUris: [REDIRECT],
      framework: 'jp_aml',
      purpose: 'ウォレット開設の本人確認',
    });
    b = await createRelyingParty(p.server.platform, {
      name: 'まちの銀行',
      redirectUris: [REDIRECT],
      framework: 'jp_aml',
      purpose: '口座開設',
    });
    admin = `Bearer ${p.server.adminToken}`;
    key = p.server.platform.recordsLog.verifierKey;
    person = p.sandbox
      .people()
      .find((x) => p.sandbox.certificates({ personId: x.id, kind: 'sign', medium: 'card' }).length > 0)!.id;
  }, 120_000);
  afterAll(async () => p?.close());

  it("GET /key is the log's verifier key; GET /checkpoint a note it signed, of the platform's origin", async () => {
    const res = await get('/key');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe(`${key}\n`);
    const origin = defaultLogOrigin(p.server.url);
    expect(parseVerifierKey(key).name).toBe(origin);

    const cp = await get('/checkpoint');
    expect(cp.status).toBe(200);
    expect(cp.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(cp.headers.get('cache-control')).toBe('no-cache');
    expect(openCheckpoint(await cp.text(), key, origin)).toMatchObject({ origin, size: 0 }); // the empty log, signed at the first start
  });

  it('ceremonies of two RPs; each record is in a signed checkpoint within moments, with Retry-After until then', async () => {
    records.a1 = await identity(a);
    const first = await integrated(records.a1, basic(a));
    const note = await (await get('/checkpoint')).text();
    early = { note, size: openCheckpoint(note, key).size };
    expect(early.size).toBeGreaterThan(first.leaf_index);

    records.b1 = await identity(b);
    records.a2 = await identity(a);
    for (const [id, client] of [
      [records.b1, b],
      [records.a2, a],
    ] as const)
      await integrated(id, basic(client));
  });

  if (engine === 'postgres') {
    it('while the sequencer cannot run, a new record is 409 RECORD_NOT_INTEGRATED with Retry-After: 1; then it is integrated', async () => {
      const blocker = new pg.Client({ connectionString: p.databaseUrl });
      await blocker.connect();
      try {
        // Held by another session, the lock makes every process's sequencer step a no-op.
        await blocker.query('SELECT pg_advisory_lock($1)', [SEQUENCER_LOCK]);
        const record = await appendRecord(p.server.platform.db, {
          rpClientId: a.clientId,
          ceremonyId: null,
          subjectId: null,
          framework: 'jp_aml',
          outcome: 'note',
          payload: { event: 'http_test' },
        });
        await sleep(500);
        const res = await get(`/proof/inclusion?record_id=${record.id}`, basic(a));
        expect(res.status).toBe(409);
        expect(res.headers.get('retry-after')).toBe('1');
        expect(await error(res)).toMatchObject({
          code: 'RECORD_NOT_INTEGRATED',
          message: `record ${record.id} is not in a signed checkpoint yet; retry in a second`,
          details: { recordId: record.id },
        });
        await blocker.query('SELECT pg_advisory_unlock($1)', [SEQUENCER_LOCK]);
        const started = Date.now();
        const bundle = await integrated(record.id, basic(a));
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(check(bundle).ok).toBe(true);
      } finally {
        await blocker.end();
      }
    });
  }

  it("an RP's inclusion bundle of its own record holds offline with the log's key alone", async () => {
    const bundle = (await (await get(`/proof/inclusion?record_id=${records.a1}`, basic(a))).json()) as InclusionJson;
    expect(bundle).toMatchObject({ record_id: records.a1, rp_client_id: a.clientId });
    const entry = JSON.parse(bundle.entry) as unknown[];
    expect(entry.slice(0, 2)).toEqual([RECORD_ENTRY_VERSION, records.a1]);
    expect(entry[3]).toBe(a.clientId);
    const ok = check(bundle, { origin: defaultLogOrigin(p.server.url) });
    expect(ok.leafHash.toString('hex')).toBe(bundle.leaf_hash);
    expect(ok.checkpoint.size).toBe(bundle.tree_size);
    // The latest checkpoint: what GET /checkpoint answers now.
    expect(bundle.checkpoint).toBe(await (await get('/checkpoint')).text());

    // Against an earlier checkpoint, the one an RP may already hold.
    const earlier = (await (
      await get(`/proof/inclusion?record_id=${records.a1}&tree_size=${early.size}`, basic(a))
    ).json()) as InclusionJson;
    expect(earlier).toMatchObject({ leaf_index: bundle.leaf_index, tree_size: early.size, checkpoint: early.note });
    expect(check(earlier).ok).toBe(true);
    // A record that came later is not in that tree.
    const later = await get(`/proof/inclusion?record_id=${records.a2}&tree_size=${early.size}`, basic(a));
    expect(later.status).toBe(400);
    expect((await error(later)).message).toMatch(
      new RegExp(`^record ${records.a2} is leaf \\d+, not in the tree of size ${early.size}$`),
    );

    // Tampering with what was saved shows.
    expect(() => check({ ...bundle, entry: bundle.entry.replace('"verified"', '"rejected"') })).toThrow(
      /does not lead to the root/,
    );
  });

  it('an RP sees only its own records; wrong or missing credentials are 401 with WWW-Authenticate: Basic', async () => {
    const others = await get(`/proof/inclusion?record_id=${records.b1}`, basic(a));
    expect(others.status).toBe(404);
    expect(await error(others)).toMatchObject({
      code: 'NOT_FOUND',
      message: `no record ${records.b1} of this relying party`,
    });
    const bLeaf = ((await (await get(`/proof/inclusion?record_id=${records.b1}`, basic(b))).json()) as InclusionJson)
      .leaf_index;
    const byIndex = await get(`/proof/inclusion?leaf_index=${bLeaf}`, basic(a));
    expect(byIndex.status).toBe(404);
    expect((await error(byIndex)).message).toBe(`no leaf ${bLeaf} of this relying party`);
    const unknown = await get('/proof/inclusion?record_id=rec_nothing', basic(a));
    expect(unknown.status).toBe(404);

    const refusals = [
      await get(`/proof/inclusion?record_id=${records.a1}`, basic(a, 'not-the-secret')),
      await get(`/proof/inclusion?record_id=${records.a1}`),
      await get(`/proof/inclusion?record_id=${records.a1}`, basic({ clientId: 'rp_nobody', clientSecret: 'x' })),
      await get(`/proof/inclusion?record_id=${records.a1}`, 'Bearer not-the-admin-token'),
      await get(`/proof/inclusion?record_id=${records.a1}`, 'Basic !!!'),
      await get('/proof/consistency?first=0', basic(b, 'not-the-secret')),
      await get('/proof/consistency?first=0'),
    ];
    for (const res of refusals) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="kakunin records"');
      expect(await error(res)).toMatchObject({
        code: 'UNAUTHORIZED',
        message:
          'authenticate with your client credentials (HTTP Basic, client_id:client_secret) or the admin token (Bearer)',
      });
    }
  });

  it('the admin token gets any record, by id or by leaf index', async () => {
    const ofB = await get(`/proof/inclusion?record_id=${records.b1}`, admin);
    expect(ofB.status).toBe(200);
    const bundle = (await ofB.json()) as InclusionJson;
    expect(bundle.rp_client_id).toBe(b.clientId);
    expect(check(bundle).ok).toBe(true);

    const leaf0 = (await (await get('/proof/inclusion?leaf_index=0', admin)).json()) as InclusionJson;
    expect(leaf0).toMatchObject({ leaf_index: 0, record_id: records.a1 }); // the first record of a fresh log
    expect(check(leaf0).ok).toBe(true);
    const sameLeaf = (await (
      await get(`/proof/inclusion?leaf_index=${bundle.leaf_index}&tree_size=${bundle.tree_size}`, admin)
    ).json()) as InclusionJson;
    expect(sameLeaf).toEqual(bundle);
    const beyond = await get(`/proof/inclusion?leaf_index=${bundle.tree_size + 1000}`, admin);
    expect(beyond.status).toBe(404);
    expect((await error(beyond)).message).toBe(`no leaf ${bundle.tree_size + 1000}`);
  });

  it('a consistency proof between the first and the latest checkpoints verifies; checkpoints by tree size', async () => {
    const latest = openCheckpoint(await (await get('/checkpoint')).text(), key);
    expect(latest.size).toBeGreaterThan(early.size);
    for (const authorization of [basic(a), admin]) {
      const res = await get(`/proof/consistency?first=${early.size}`, authorization);
      expect(res.status).toBe(200);
      const c = (await res.json()) as ConsistencyJson;
      expect(c).toMatchObject({
        first: early.size,
        second: latest.size,
        first_checkpoint: early.note,
        second_checkpoint: latest.note,
      });
      const ok = checkConsistency({ older: c.first_checkpoint, newer: c.second_checkpoint, proof: c.proof, key });
      expect([ok.older.size, ok.newer.size]).toEqual([early.size, latest.size]);
      // An altered proof does not.
      expect(c.proof.length).toBeGreaterThan(0);
      const altered = Buffer.from(c.proof[0]!, 'base64');
      altered[0]! ^= 1;
      expect(() =>
        checkConsistency({
          older: c.first_checkpoint,
          newer: c.second_checkpoint,
          proof: [altered.toString('base64'), ...c.proof.slice(1)],
          key,
        }),
      ).toThrow(/is not an extension/);
    }
    const fromEmpty = (await (
      await get(`/proof/consistency?first=0&second=${early.size}`, basic(b))
    ).json()) as ConsistencyJson;
    expect(fromEmpty).toMatchObject({ first: 0, second: early.size, proof: [] });
    expect(
      checkConsistency({
        older: fromEmpty.first_checkpoint,
        newer: fromEmpty.second_checkpoint,
        proof: fromEmpty.proof,
        key,
      }).ok,
    ).toBe(true);

    const atEarly = await get(`/checkpoint?tree_size=${early.size}`);
    expect(atEarly.status).toBe(200);
    expect(await atEarly.text()).toBe(early.note);
    const none = await get(`/checkpoint?tree_size=${latest.size + 1000}`);
    expect(none.status).toBe(404);
    expect(await error(none)).toMatchObject({
      code: 'NO_SUCH_CHECKPOINT',
      message: `the log has no checkpoint of tree size ${latest.size + 1000} (the latest is ${latest.size}); ask for a size a checkpoint was signed at`,
    });
    const noSecond = await get(`/proof/consistency?first=0&second=${latest.size + 1000}`, admin);
    expect(noSecond.status).toBe(404);
    expect((await error(noSecond)).code).toBe('NO_SUCH_CHECKPOINT');
  });

  it('malformed parameters are 400 with a clear message', async () => {
    const cases: [string, string | undefined, RegExp][] = [
      ['/proof/inclusion?leaf_index=-1', basic(a), /^leaf_index must be a whole number ≥ 0 \(got "-1"\)$/],
      ['/proof/inclusion?leaf_index=1.5', basic(a), /^leaf_index must be a whole number ≥ 0 \(got "1\.5"\)$/],
      [
        `/proof/inclusion?record_id=${records.a1}&tree_size=abc`,
        basic(a),
        /^tree_size must be a whole number ≥ 0 \(got "abc"\)$/,
      ],
      [
        `/proof/inclusion?record_id=${records.a1}&leaf_index=0`,
        basic(a),
        /^name the record by record_id or by leaf_index \(one of them\)$/,
      ],
      ['/proof/inclusion', admin, /^name the record by record_id or by leaf_index \(one of them\)$/],
      [
        '/proof/inclusion?leaf_index=99999999999999999999',
        admin,
        /^leaf_index must be a whole number ≥ 0 \(got "99999999999999999999"\)$/,
      ],
      ['/checkpoint?tree_size=abc', undefined, /^tree_size must be a whole number ≥ 0 \(got "abc"\)$/],
      ['/proof/consistency?first=x', basic(a), /^first must be a whole number ≥ 0 \(got "x"\)$/],
      ['/proof/consistency?first=0&second=-2', basic(a), /^second must be a whole number ≥ 0 \(got "-2"\)$/],
      [
        `/proof/consistency?first=${early.size}&second=0`,
        basic(a),
        new RegExp(`^first \\(${early.size}\\) is larger than second \\(0\\)$`),
      ],
      ['/proof/consistency', basic(a), /first/],
    ];
    for (const [path, authorization, message] of cases) {
      const res = await get(path, authorization);
      expect(res.status, path).toBe(400);
      const e = await error(res);
      expect(e.code, path).toBe('INVALID_REQUEST');
      expect(e.message, path).toMatch(message);
    }
  });
});
