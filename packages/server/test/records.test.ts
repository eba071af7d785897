// The verification-record store on both engines: appended records verify as a log, the append-only
// trigger, concurrent appenders, the My Number guard, retention purges and export.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { myNumberCheckDigit } from '@kakunin/card';
import type { Database, Queryable } from '../src/db/database.js';
import {
  appendRecord,
  appendVerificationRecord,
  endRelationship,
  exportRecords,
  purgeExpired,
  CSV_COLUMNS,
  PURGE_EVENT,
  type RecordRow,
  type VerificationRecordInput,
} from '../src/records/index.js';
import { ENGINES, openTestDatabase, type TestDatabase } from './support/databases.js';
import { verifyRecords, view } from './support/records.js';

const DAY = 86_400_000;
const MY_NUMBER = `12345678901${myNumberCheckDigit('12345678901')}`;
const NOT_MY_NUMBER = `12345678901${(myNumberCheckDigit('12345678901') + 1) % 10}`;
const fullWidth = (s: string): string => s.replace(/[0-9]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
const yearsAgo = (now: Date, years: number, plusDays = 0): Date => {
  const d = new Date(now);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return new Date(d.getTime() + plusDays * DAY);
};

function identityInput(over: Partial<VerificationRecordInput> = {}): VerificationRecordInput {
  const at = new Date('2026-11-25T01:02:03.456Z');
  return {
    at,
    receivedAt: new Date(at.getTime() - 800),
    ceremony: { id: 'cer_1', kind: 'identity' },
    rp: { clientId: 'rp_bank', name: 'テスト銀行', framework: 'jp_aml', purpose: '口座開設の取引時確認' },
    subjectId: 'sub_1',
    outcome: 'verified',
    certificate: {
      kind: 'sign',
      issuer: 'CN=Sim Sign CA, O=JPKI Simulator',
      issuerId: 'sim-signca01',
      serial: '054CFCD8',
      notBefore: new Date('2025-01-01T00:00:00Z'),
      notAfter: new Date('2030-01-01T00:00:00Z'),
      medium: 'card',
      environment: 'sandbox',
    },
    basic4: {
      name: '山田 太郎',
      nameSubstitute: '',
      address: '福井県福井市大手3丁目10番1号',
      addressSubstitute: '',
      birthDate: '1985-04-01',
      sex: '男',
      sexCode: '1',
    },
    revocation: {
      source: 'ocsp',
      status: 'good',
      thisUpdate: new Date(at.getTime() - 60_000),
      nextUpdate: new Date(at.getTime() + DAY),
      checkedAt: at,
    },
    ...over,
  };
}

/** A strict RFC 4180 reader, to check what the exporter writes. */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let cell = '';
    if (text[i] === '"') {
      i++;
      while (true) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quote');
        cell += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          cell += '"';
          i++;
        } else break;
      }
    } else {
      const m = /[,\r]/.exec(text.slice(i));
      const end = m ? i + m.index : text.length;
      cell = text.slice(i, end);
      if (/["\n]/.test(cell)) throw new Error(`bare quote or newline in ${JSON.stringify(cell)}`);
      i = end;
    }
    row.push(cell);
    if (text[i] === ',') i++;
    else if (text.startsWith('\r\n', i)) {
      out.push(row);
      row = [];
      i += 2;
    } else if (i < text.length) throw new Error(`unexpected ${JSON.stringify(text[i])} at ${i}`);
  }
  if (row.length) out.push(row);
  return out;
}

const rows = (db: Queryable, where = 'TRUE', params: string[] = []): Promise<RecordRow[]> =>
  db.query<RecordRow>(`SELECT * FROM records WHERE ${where} ORDER BY seq`, params);

/** What an insider with table rights can do: switch the append-only trigger off around `sql`. */
async function asInsider(db: Database, sql: string, params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.exec('ALTER TABLE records DISABLE TRIGGER records_append_only');
    await tx.query(sql, params as never[]);
    await tx.exec('ALTER TABLE records ENABLE TRIGGER records_append_only');
  });
}

describe.each(ENGINES)('records on %s', (engine) => {
  let t: TestDatabase;
  let db: Database;

  beforeAll(async () => {
    t = await openTestDatabase(engine);
    db = t.db;
    const rps: [string, string][] = [
      ['rp_bank', 'jp_aml'],
      ['rp_mvno', 'jp_mpiupa'],
      ['rp_city', 'jp_municipal'],
    ];
    for (const [id, framework] of rps) {
      await db.query(
        `INSERT INTO relying_parties (client_id, client_secret, name, redirect_uris, ceremonies, framework, purpose, webhook_secret)
         VALUES ($1, 'secret', $1, '[]', '["identity"]', $2, 'test', 'whsec')`,
        [id, framework],
      );
    }
    for (let i = 1; i <= 12; i++) await db.query('INSERT INTO subjects (id) VALUES ($1)', [`sub_${i}`]);
  });
  afterAll(async () => t?.close());

  it('appends records that verify as a log (the tamper tests are in records-log.test.ts)', async () => {
    const empty = await verifyRecords(db);
    expect(empty).toMatchObject({ ok: true, checked: 0, purged: 0, problems: [], treeSize: 0 });
    const first = await appendVerificationRecord(db, identityInput());
    expect(first.id).toMatch(/^rec_[A-Za-z0-9_-]{22}$/);
    for (let i = 0; i < 5; i++) {
      await db.transaction((tx) =>
        appendVerificationRecord(
          tx,
          identityInput({ ceremony: { id: `cer_l${i}`, kind: 'login' }, basic4: undefined }),
        ),
      );
    }
    const all = await rows(db);
    expect(all).toHaveLength(6);
    expect(all[0]).toMatchObject({
      id: first.id,
      seq: first.seq,
      rp_client_id: 'rp_bank',
      ceremony_id: 'cer_1',
      subject_id: 'sub_1',
      framework: 'jp_aml',
      outcome: 'verified',
      prev_hash: null,
      hash: null,
      entry_version: 2,
    });
    expect(Buffer.from(all[0]!.leaf_hash).toString('hex')).toBe(first.leafHash);
    const payload = view(all[0]!.payload);
    expect(payload.method.id).toBe('jpki_signature');
    expect(payload.citation).toMatchObject({ article: '第6条第1項第1号', item: 'ワ', confidence: 'confirmed' });
    expect(payload.identity?.name).toBe('山田 太郎');
    expect(payload.certificate).toMatchObject({ serial: '054CFCD8', kindJa: '署名用電子証明書' });
    expect(view(all[1]!.payload).method.id).toBe('jpki_user_authentication');
    expect(view(all[1]!.payload).identity).toBeUndefined();
    const result = await verifyRecords(db);
    expect(result).toMatchObject({ ok: true, checked: 6, purged: 0, problems: [], treeSize: 6, pending: 0 });
  });

  it('the trigger refuses UPDATE and DELETE, and a blank payload without purged_at', async () => {
    const [row] = await rows(db);
    await expect(db.query("UPDATE records SET payload = '{}'::jsonb WHERE seq = $1", [row!.seq])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query('UPDATE records SET payload = NULL WHERE seq = $1', [row!.seq])).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query("UPDATE records SET outcome = 'rejected' WHERE seq = $1", [row!.seq])).rejects.toThrow(
      /append-only/,
    );
    await expect(
      db.query('UPDATE records SET leaf_index = leaf_index + 100 WHERE seq = $1', [row!.seq]),
    ).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM records WHERE seq = $1', [row!.seq])).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM log_checkpoints')).rejects.toThrow(/append-only/);
    await expect(db.query('UPDATE log_nodes SET hash = hash')).rejects.toThrow(/append-only/);
    expect((await verifyRecords(db)).ok).toBe(true);
  });

  it('masks a My Number in any payload string before hashing and storing', async () => {
    const rec = await appendRecord(db, {
      rpClientId: 'rp_bank',
      ceremonyId: null,
      subjectId: 'sub_1',
      framework: 'jp_aml',
      outcome: 'note',
      payload: {
        memo: `個人番号 ${MY_NUMBER} を受領`,
        wide: `番号:${fullWidth(MY_NUMBER)}`,
        grouped: `${MY_NUMBER.slice(0, 4)} ${MY_NUMBER.slice(4, 8)} ${MY_NUMBER.slice(8)}`,
        nested: { list: [MY_NUMBER, 1, null], [MY_NUMBER]: true },
        asNumber: Number(MY_NUMBER),
        other: `serial ${NOT_MY_NUMBER}`,
        longer: `${MY_NUMBER}0`,
      },
    });
    expect(rec.masked).toBe(6);
    const [row] = await rows(db, 'id = $1', [rec.id]);
    expect(row!.payload).toEqual({
      memo: '個人番号 ************ を受領',
      wide: '番号:************',
      grouped: '**************',
      nested: { list: ['************', 1, null], '************': true },
      asNumber: '************',
      other: `serial ${NOT_MY_NUMBER}`, // fails the check digit: not a My Number
      longer: `${MY_NUMBER}0`, // 13 digits: not a My Number
    });

    const viaCeremony = await appendVerificationRecord(
      db,
      identityInput({
        basic4: { ...identityInput().basic4!, address: `福井県福井市 ${MY_NUMBER}` },
        error: { code: 'X', message: `got ${MY_NUMBER}` },
      }),
    );
    const [stored] = await rows(db, 'id = $1', [viaCeremony.id]);
    expect(JSON.stringify(stored!.payload)).not.toContain(MY_NUMBER);
    expect((await verifyRecords(db)).ok).toBe(true);
  });

  describe('retention', () => {
    const now = new Date(Date.now() - 60_000);
    const ids: Record<string, string> = {};
    const verified = async (
      key: string,
      rp: string,
      framework: string,
      subject: string | null,
      at: Date,
      outcome: 'verified' | 'rejected' = 'verified',
    ): Promise<void> => {
      ids[key] = (
        await appendRecord(db, {
          rpClientId: rp,
          ceremonyId: `cer_${key}`,
          subjectId: subject,
          framework,
          outcome,
          payload: { key },
          at,
        })
      ).id;
    };
    const payloadOf = async (key: string): Promise<unknown> => (await rows(db, 'id = $1', [ids[key]!]))[0]!.payload;

    beforeAll(async () => {
      await verified('aml_keep', 'rp_bank', 'jp_aml', 'sub_3', yearsAgo(now, 10));
      await verified('aml_purge', 'rp_bank', 'jp_aml', 'sub_4', yearsAgo(now, 10));
      await verified('aml_open', 'rp_bank', 'jp_aml', 'sub_5', yearsAgo(now, 20));
      await verified('aml_norel', 'rp_bank', 'jp_aml', 'sub_6', yearsAgo(now, 20));
      await verified('aml_rej_old', 'rp_bank', 'jp_aml', null, yearsAgo(now, 7, -1), 'rejected');
      await verified('aml_rej_new', 'rp_bank', 'jp_aml', null, yearsAgo(now, 7, 1), 'rejected');
      await verified('mvno_keep', 'rp_mvno', 'jp_mpiupa', 'sub_7', yearsAgo(now, 5));
      await verified('mvno_purge', 'rp_mvno', 'jp_mpiupa', 'sub_8', yearsAgo(now, 5));
      await verified('city_purge', 'rp_city', 'jp_municipal', 'sub_9', yearsAgo(now, 3));
      await verified('city_keep', 'rp_city', 'jp_municipal', 'sub_10', yearsAgo(now, 3));
      await endRelationship(db, 'rp_bank', 'sub_3', yearsAgo(now, 7, 1)); // 7 years minus a day ago
      await endRelationship(db, 'rp_bank', 'sub_4', yearsAgo(now, 7, -1)); // 7 years plus a day ago
      await db.query(
        "INSERT INTO relationships (rp_client_id, subject_id, started_at) VALUES ('rp_bank', 'sub_5', $1)",
        [yearsAgo(now, 20)],
      );
      await endRelationship(db, 'rp_mvno', 'sub_7', yearsAgo(now, 3, 1));
      await endRelationship(db, 'rp_mvno', 'sub_8', yearsAgo(now, 3, -1));
      await endRelationship(db, 'rp_city', 'sub_9', yearsAgo(now, 1, -1));
      await endRelationship(db, 'rp_city', 'sub_10', yearsAgo(now, 1, 1));
    });

    it('endRelationship sets ended_at and appends a note (a repeat is a no-op)', async () => {
      const [rel] = await db.query<{ ended_at: Date }>(
        "SELECT ended_at FROM relationships WHERE rp_client_id = 'rp_bank' AND subject_id = 'sub_4'",
      );
      expect(new Date(rel!.ended_at).getTime()).toBe(yearsAgo(now, 7, -1).getTime());
      const notes = await rows(db, "outcome = 'note' AND payload->>'event' = 'relationship_ended'");
      expect(notes).toHaveLength(6);
      expect(notes[0]!.payload).toMatchObject({ event: 'relationship_ended', retention: { years: 7 } });
      const again = await endRelationship(db, 'rp_bank', 'sub_4', yearsAgo(now, 7, -1));
      expect(again.record).toBeNull();
      await expect(endRelationship(db, 'rp_bank', 'sub_nobody', now)).rejects.toThrow(/no subject/);
    });

    it('a dry run counts without touching anything; a future now is refused', async () => {
      const before = await verifyRecords(db);
      const dry = await purgeExpired(db, { now, dryRun: true });
      expect(dry).toMatchObject({ dryRun: true, purged: 4, byFramework: { jp_aml: 2, jp_mpiupa: 1, jp_municipal: 1 } });
      expect(await verifyRecords(db)).toMatchObject({ checked: before.checked, purged: 0 });
      await expect(purgeExpired(db, { now: new Date(Date.now() + DAY) })).rejects.toThrow(/future/);
    });

    it('blanks only records strictly past retention, logs the purge, and the chain still verifies', async () => {
      const result = await purgeExpired(db, { now, batchSize: 3 });
      expect(result).toMatchObject({
        dryRun: false,
        purged: 4,
        byFramework: { jp_aml: 2, jp_mpiupa: 1, jp_municipal: 1 },
      });
      expect(result.notes).toHaveLength(2);
      for (const key of ['aml_purge', 'aml_rej_old', 'mvno_purge', 'city_purge'])
        expect(await payloadOf(key), key).toBeNull();
      for (const key of ['aml_keep', 'aml_open', 'aml_norel', 'aml_rej_new', 'mvno_keep', 'city_keep'])
        expect(await payloadOf(key), key).toEqual({ key });
      const purgeNotes = await rows(db, "outcome = 'note' AND payload->>'event' = $1", [PURGE_EVENT]);
      expect(purgeNotes.flatMap((n) => (n.payload as { records: string[] }).records).sort()).toEqual(
        [ids.aml_purge, ids.aml_rej_old, ids.mvno_purge, ids.city_purge].sort(),
      );
      const verification = await verifyRecords(db);
      expect(verification).toMatchObject({ ok: true, purged: 4, problems: [] });
      expect((await purgeExpired(db, { now })).purged).toBe(0); // idempotent
    });

    it('a payload blanked outside a purge is reported', async () => {
      const [target] = await rows(db, 'id = $1', [ids.aml_keep!]);
      await asInsider(db, 'UPDATE records SET payload = NULL, purged_at = now() WHERE seq = $1', [target!.seq]);
      const result = await verifyRecords(db);
      expect(result.problems).toEqual([expect.objectContaining({ recordId: target!.id, code: 'purge' })]);
      await asInsider(db, 'UPDATE records SET payload = $2::jsonb, purged_at = NULL WHERE seq = $1', [
        target!.seq,
        JSON.stringify(target!.payload),
      ]);
      expect((await verifyRecords(db)).ok).toBe(true);
    });
  });

  it('exports CSV (RFC 4180, formulas neutralised) and JSON, filtered and streamed', async () => {
    await appendVerificationRecord(
      db,
      identityInput({
        ceremony: { id: 'cer_csv', kind: 'identity' },
        rp: {
          clientId: 'rp_city',
          name: '=HYPERLINK("http://evil")',
          framework: 'jp_municipal',
          purpose: '住所確認, "福井県"\n2行目',
        },
        basic4: { ...identityInput().basic4!, name: '@SUM(A1)', address: '+81 福井', addressSubstitute: '-1' },
      }),
    );
    const chunks: string[] = [];
    const csv = await exportRecords(
      db,
      { format: 'csv', rpClientId: 'rp_city', pageSize: 2 },
      (c) => void chunks.push(c),
    );
    const text = chunks.join('');
    expect(text.startsWith(`${CSV_COLUMNS.join(',')}\r\n`)).toBe(true);
    expect(text).toContain('"住所確認, ""福井県""\n2行目"');
    const table = parseCsv(text);
    expect(table).toHaveLength(csv.exported + 1);
    expect(table.every((r) => r.length === CSV_COLUMNS.length)).toBe(true);
    const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, table[table.length - 1]![i]]));
    expect(row).toMatchObject({
      rp_client_id: 'rp_city',
      rp_name: `'=HYPERLINK("http://evil")`,
      purpose: '住所確認, "福井県"\n2行目',
      name: `'@SUM(A1)`,
      address: `'+81 福井`,
      address_substitute: `'-1`,
      method: 'jpki_signature',
      certificate_serial: '054CFCD8',
      certificate_kind: '署名用電子証明書',
      revocation_source: 'ocsp',
      framework: 'jp_municipal',
    });
    expect(row.citation).toMatch(/公的個人認証法\) 第17条第1項$/);
    // Purged records are exported too, with their chain columns and no content.
    expect(table.some((r) => r[CSV_COLUMNS.indexOf('purged_at')] !== '' && r[CSV_COLUMNS.indexOf('name')] === '')).toBe(
      true,
    );

    const json: string[] = [];
    const all = await exportRecords(db, { format: 'json' }, async (c) => void json.push(c));
    const parsed = JSON.parse(json.join('')) as { seq: string; payload: unknown; hash: string }[];
    expect(parsed).toHaveLength(all.exported);
    expect(parsed.length).toBe((await verifyRecords(db)).checked);
    for (let i = 0; i < 3; i++)
      await appendRecord(db, {
        rpClientId: 'rp_bank',
        ceremonyId: `cer_r${i}`,
        subjectId: null,
        framework: 'jp_aml',
        outcome: 'rejected',
        payload: { i },
      });
    const rejected: string[] = [];
    await exportRecords(
      db,
      { format: 'json', outcome: 'rejected', from: new Date(Date.now() - DAY), to: new Date(Date.now() + DAY) },
      (c) => void rejected.push(c),
    );
    const recent = JSON.parse(rejected.join('')) as { outcome: string }[];
    expect(recent.length).toBe(3); // the old rejected ones (7 years ago) are outside the range
    expect(recent.every((r) => r.outcome === 'rejected')).toBe(true);
    const none: string[] = [];
    await exportRecords(db, { format: 'json', rpClientId: 'rp_nobody' }, (c) => void none.push(c));
    expect(JSON.parse(none.join(''))).toEqual([]);
  });
});
