// The ceremony store (all SQL of a ceremony, grant_ceremonies included): what it writes reads back as
// written, a grant names its ceremony, a stage change keeps the card's error, and the purge removes a
// stale ceremony with its nonce and its grant while a current one stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCeremony } from '../src/ceremonies.js';
import {
  bindGrantCeremony,
  ceremonyOfGrant,
  ceremonyOfInteraction,
  findCeremony,
  purgeStaleCeremonies,
  setCeremonyStage,
} from '../src/ceremony-store.js';
import { DEFAULTS } from '../src/config.js';
import { MasterKey } from '../src/master-key.js';
import { createRelyingParty } from '../src/relying-parties.js';
import { openTestDatabase, type TestDatabase } from './support/databases.js';

let t: TestDatabase;
let rpClientId: string;
beforeAll(async () => {
  t = await openTestDatabase('pglite');
  const rp = await createRelyingParty(
    { db: t.db, masterKey: MasterKey.generate() },
    { name: 'Store RP', redirectUris: ['http://127.0.0.1:9/callback'] },
  );
  rpClientId = rp.clientId;
}, 60_000);
afterAll(async () => t?.close());

const start = (o: { interactionUid?: string; now?: Date } = {}) =>
  createCeremony({ db: t.db, config: DEFAULTS }, { kind: 'identity', rpClientId, ...o });

describe('ceremony store', () => {
  it('reads a ceremony back as created, by id and by interaction', async () => {
    const created = await start({ interactionUid: 'uid-read' });
    expect(await findCeremony(t.db, created.id)).toEqual(created);
    expect(await ceremonyOfInteraction(t.db, 'uid-read')).toEqual(created);
    expect(await findCeremony(t.db, 'cer_none')).toBeUndefined();
  });

  it('moves a pending ceremony through its stages, with the card error while waiting', async () => {
    const c = await start();
    await setCeremonyStage(t.db, c.id, 'reading');
    expect(await findCeremony(t.db, c.id)).toMatchObject({ stage: 'reading', cardError: null });
    await setCeremonyStage(t.db, c.id, 'waiting', { code: 'PIN_INCORRECT', remaining: 2 });
    expect(await findCeremony(t.db, c.id)).toMatchObject({
      stage: 'waiting',
      cardError: { code: 'PIN_INCORRECT', remaining: 2 },
    });
  });

  it('names the ceremony of a grant; a new consent replaces it', async () => {
    const first = await start();
    const second = await start();
    expect(await ceremonyOfGrant(t.db, undefined)).toBeUndefined();
    expect(await ceremonyOfGrant(t.db, 'grant-none')).toBeUndefined();
    await bindGrantCeremony(t.db, 'grant-1', first.id);
    expect((await ceremonyOfGrant(t.db, 'grant-1'))?.id).toBe(first.id);
    await bindGrantCeremony(t.db, 'grant-1', second.id);
    expect((await ceremonyOfGrant(t.db, 'grant-1'))?.id).toBe(second.id);
  });

  it('purges a ceremony a day past its expiry with its nonce and grant, and keeps a current one', async () => {
    const stale = await start({ now: new Date(Date.now() - 3 * 86_400_000) });
    const current = await start();
    await bindGrantCeremony(t.db, 'grant-stale', stale.id);
    await bindGrantCeremony(t.db, 'grant-current', current.id);
    expect(await purgeStaleCeremonies(t.db)).toBeGreaterThanOrEqual(1);
    expect(await findCeremony(t.db, stale.id)).toBeUndefined();
    expect(await t.db.query('SELECT 1 FROM nonces WHERE value = $1', [stale.nonce])).toEqual([]);
    expect(await t.db.query("SELECT 1 FROM grant_ceremonies WHERE grant_id = 'grant-stale'")).toEqual([]);
    expect((await ceremonyOfGrant(t.db, 'grant-current'))?.id).toBe(current.id);
  });
});
