// The bank demo against a real sandbox platform: the application, the identity ceremony that signs
// it, the 確認記録 with every field 犯収法 asks for, the revocation note and re-check, closing.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayInJapan, retentionUntil } from '../shared/index.js';
import { BANK_RP, startBank } from '../bank/index.js';
import {
  attr,
  eventually,
  residents,
  runMonitor,
  startDemo,
  startPlatform,
  testid,
  Visitor,
  type Harness,
  type Page,
  type RunningTestDemo,
} from './support.js';

let h: Harness;
let bank: RunningTestDemo;
beforeAll(async () => {
  h = await startPlatform();
  bank = await startDemo(h, BANK_RP, startBank);
}, 120_000);
afterAll(async () => {
  await bank?.close();
  await h?.close();
});

describe('bank account opening demo (犯収法, JPKI signature method)', () => {
  let person: string;
  let visitor: Visitor;
  let account: Page;

  it('refuses an incomplete application', async () => {
    const v = new Visitor(h);
    const form = await v.go(`${bank.demo.url}/apply`);
    expect(form.body).toContain('data-testid="application-form"');
    const refused = await v.submit(form, 'application-form', { accountType: 'sogo', occupation: '' });
    expect(refused.status).toBe(400);
    expect(testid(refused.body, 'form-errors')).toMatch(
      /取引を行う目的を 1 つ以上選んでください。職業を選んでください。/,
    );
    expect(refused.url).toBe(`${bank.demo.url}/apply`);
  });

  it('a holder who cancels on the platform comes back to a clear page, and nothing is opened', async () => {
    const v = new Visitor(h);
    const ceremony = await v.submit(await v.go(`${bank.demo.url}/apply`), 'application-form', {
      accountType: 'futsu',
      purpose: 'salary',
      occupation: 'student',
    });
    const uid = /\/interaction\/([^/?]+)/.exec(ceremony.url)![1]!;
    const back = await v.go(`${h.p.server.url}/interaction/${uid}/abort`, {});
    expect(back.url.startsWith(`${bank.demo.url}/callback?`)).toBe(true);
    expect(back.status).toBe(400);
    expect(back.body).toContain('手続きを中止しました');
    expect(back.body).toContain('data-testid="problem"');
    // The platform's error code in small print only, never as the message.
    expect(testid(back.body, 'problem')).toBe('手続きを取りやめたため、このサービスには何も提供されていません。');
    expect(testid(back.body, 'problem-detail')).toMatch(/^access_denied/);
  });

  it('opens an account after the applicant signs with the signing certificate, and keeps the 確認記録', async () => {
    [person] = residents(h.p, 'elsewhere') as [string];
    visitor = new Visitor(h);
    const home = await visitor.go(bank.demo.url);
    const form = await visitor.go(new URL(attr(home.body, 'start-application', 'href')!, bank.demo.url).toString());
    const ceremony = await visitor.submit(form, 'application-form', {
      accountType: 'sogo',
      purpose: ['living', 'savings'],
      occupation: 'employee',
    });
    expect(ceremony.url).toMatch(new RegExp(`^${h.p.server.url}/interaction/`));
    expect(ceremony.body).toContain(BANK_RP.purpose);
    account = await visitor.ceremony(ceremony, person, 'sign');
    expect(account.url).toMatch(new RegExp(`^${bank.demo.url}/accounts/\\d{7}$`));
    expect(testid(account.body, 'message')).toMatch(/口座を開設しました/);

    const who = h.p.sandbox.person(person);
    const cert = h.p.sandbox.currentCertificateRecord(person, 'sign', 'card');
    const field = (id: string) => testid(account.body, id);
    expect(field('account-number')).toMatch(/^\d{7}$/);
    expect(field('account-type')).toBe('総合口座');
    expect(attr(account.body, 'account-status', 'data-status')).toBe('open');
    expect(field('record-id')).toMatch(/^KR-\d{8}-\d{5}$/);
    expect(field('record-confirmed-by')).toContain('デモ銀行');
    expect(field('record-verified-by')).toContain(h.p.server.url);
    expect(field('record-recorded-by')).toContain('デモ銀行');
    expect(field('record-recorded-at')).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/);
    expect(Date.now() - Date.parse(attr(account.body, 'record-received-at', 'data-value')!)).toBeLessThan(120_000);
    expect(attr(account.body, 'record-method', 'data-method')).toBe('jpki_signature');
    expect(field('record-method')).toContain('犯収法施行規則第6条第1項第1号');
    expect(field('record-cert-serial')).toBe(cert.serial);
    expect(field('record-cert-issuer')).toMatch(/JPKI/);
    expect(field('record-name')).toBe(who.name);
    expect(field('record-address')).toBe(who.address);
    expect(attr(account.body, 'record-birthdate', 'data-value')).toBe(who.birthDate);
    expect(field('record-purposes')).toBe('生計費決済、貯蓄・資産運用');
    expect(field('record-occupation')).toBe('会社員');
    expect(field('record-account')).toBe(field('account-number'));
    expect(field('record-retention')).toBe('取引終了日から7年間 (取引継続中)');

    // The record id quoted is the platform's own verification record for this RP, under jp_aml.
    const kakuninId = field('record-kakunin-id')!;
    const platformRecord = (await (
      await fetch(`${h.p.server.url}/admin/v1/records/${kakuninId}`, {
        headers: { authorization: `Bearer ${h.p.server.adminToken}` },
      })
    ).json()) as Record<string, unknown>;
    expect(platformRecord).toMatchObject({ id: kakuninId, rp_client_id: BANK_RP.clientId, framework: 'jp_aml' });

    // English page, same data.
    const en = await visitor.go(`${account.url}?lang=en`);
    expect(en.body).toContain('Verification record');
    expect(testid(en.body, 'record-occupation')).toBe('Company employee');
    expect(en.body).toContain('<html lang="en">');
    // The choice sticks to the session until switched back.
    expect((await visitor.go(bank.demo.url)).body).toContain('<html lang="en">');
    expect((await visitor.go(`${bank.demo.url}/?lang=ja`)).body).toContain('<html lang="ja">');
  }, 60_000);

  it('no one else sees the account', async () => {
    const stranger = await new Visitor(h).go(account.url);
    expect(stranger.status).toBe(404);
    expect(stranger.body).not.toContain(h.p.sandbox.person(person).name);
  });

  it('a revoked certificate appends a note and asks for a re-check; the re-check is appended, never overwriting', async () => {
    const original = testid(account.body, 'record-address');
    await h.p.sandbox.applyEvent(person, 'move');
    await runMonitor(h);
    const flagged = await eventually('the review flag', async () => {
      const page = await visitor.go(account.url);
      return attr(page.body, 'review-status', 'data-status') === 'review-needed' ? page : undefined;
    });
    // The reason in words (its code in small print), the time in Japan time; in English, the note's English.
    expect(testid(flagged.body, 'record-notes')).toMatch(
      /失効通知を受領 \(理由: 氏名・住所などの変更 \(転居・婚姻など\)、失効日時 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}、通知 evt_/,
    );
    expect(flagged.body).toContain('<small class="code" data-code="affiliationChanged">(affiliationChanged)</small>');
    expect(attr(flagged.body, 'review-reason', 'data-reason')).toBe('affiliationChanged');
    expect(testid(flagged.body, 'review-reason')).toMatch(/^氏名・住所などの変更/);
    const english = await visitor.go(`${account.url}?lang=en`);
    expect(testid(english.body, 'record-notes')).toMatch(
      /Notice received that the signing certificate \(serial \S+\) was revoked \(reason: a change of name or address \(a move, marriage …\); revoked \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} JST; notice evt_/,
    );
    expect(testid(english.body, 'review-reason')).toMatch(/^a change of name or address/);
    expect(testid(english.body, 'record-confirmed-by')).toBe(
      'Demo Bank account opening centre (the specified business operator)',
    );
    expect(testid(english.body, 'record-recorded-by')).toBe('Demo Bank account opening system');
    expect(testid(english.body, 'record-verified-by')).toBe(`Kakunin JPKI platform (${h.p.server.url})`);
    expect(testid(english.body, 'account-branch')).toBe('001 Head office');
    await visitor.go(`${account.url}?lang=ja`);

    const rechecked = await visitor.ceremony(await visitor.submit(flagged, 'recheck-form'), person, 'sign');
    expect(rechecked.url).toBe(account.url);
    expect(rechecked.body).not.toContain('data-testid="review-status"');
    expect(testid(rechecked.body, 'record-address')).toBe(original); // the record keeps what was confirmed
    const notes = testid(rechecked.body, 'record-notes')!;
    expect(notes).toContain(`変更 — 住居 ${h.p.sandbox.person(person).address}`);
    expect(notes).toContain(h.p.sandbox.currentCertificateRecord(person, 'sign', 'card').serial);
  }, 60_000);

  const monitored = async () => {
    const rows = (await (
      await fetch(`${h.p.server.url}/admin/v1/monitored-certificates?rp=${BANK_RP.clientId}`, {
        headers: { authorization: `Bearer ${h.p.server.adminToken}` },
      })
    ).json()) as { status: string }[];
    return rows.map((r) => r.status).sort();
  };
  const endNotes = () =>
    h.p.server.platform.db.query(
      "SELECT id FROM records WHERE rp_client_id = $1 AND outcome = 'note' AND payload->>'event' = 'relationship_ended'",
      [BANK_RP.clientId],
    );

  it('closing one of two accounts asks for confirmation first, and the relationship with the platform goes on', async () => {
    // A second account of the same customer (another identity ceremony).
    const form = await visitor.go(`${bank.demo.url}/apply`);
    const second = await visitor.ceremony(
      await visitor.submit(form, 'application-form', {
        accountType: 'futsu',
        purpose: 'salary',
        occupation: 'employee',
      }),
      person,
      'sign',
    );
    expect(second.url).not.toBe(account.url);
    const confirm = await visitor.go(new URL(attr(second.body, 'close-account', 'href')!, second.url).toString());
    expect(confirm.url).toBe(`${second.url}/close`);
    expect(attr(confirm.body, 'close-confirmation', 'data-last-account')).toBe('false');
    expect(testid(confirm.body, 'confirm-platform')).toContain('取引関係は続きます');
    // Nothing happens before the confirmation: still open, and a post without it only shows the page again.
    expect(attr((await visitor.go(second.url)).body, 'account-status', 'data-status')).toBe('open');
    const unconfirmed = await visitor.go(`${second.url}/close`, {
      csrf: /name="csrf" value="([^"]+)"/.exec(confirm.body)![1]!,
    });
    expect(unconfirmed.url).toBe(`${second.url}/close`);
    expect(attr((await visitor.go(second.url)).body, 'account-status', 'data-status')).toBe('open');

    const closed = await visitor.submit(confirm, 'close-account-form');
    expect(attr(closed.body, 'account-status', 'data-status')).toBe('closed');
    expect(attr(closed.body, 'platform-relationship', 'data-status')).toBe('continues');
    expect(await monitored()).toContain('good');
    expect(await endNotes()).toHaveLength(0);
  }, 60_000);

  it('closing the last account, after confirming, ends the relationship at the platform: monitoring stops, the 7-year retention starts', async () => {
    const page = await visitor.go(account.url);
    const confirm = await visitor.go(new URL(attr(page.body, 'close-account', 'href')!, page.url).toString());
    expect(attr(confirm.body, 'close-confirmation', 'data-last-account')).toBe('true');
    expect(testid(confirm.body, 'confirm-platform')).toContain('失効監視は止まり');
    const closed = await visitor.submit(confirm, 'close-account-form');
    expect(attr(closed.body, 'account-status', 'data-status')).toBe('closed');
    const until = retentionUntil(dayInJapan(), 7);
    expect(attr(closed.body, 'record-retention', 'data-until')).toBe(until);
    expect(testid(closed.body, 'record-retention')).toContain('から7年間');
    expect(testid(closed.body, 'record-notes')).toContain(`確認記録は ${until} まで保存`);
    expect(testid(closed.body, 'record-notes')).toContain(`Kakunin の記録は ${until} まで保存`);
    // What the platform answered, in Japan time: the same last day as the bank's own record.
    expect(attr(closed.body, 'platform-relationship', 'data-status')).toBe('ended');
    expect(attr(closed.body, 'platform-retained-until', 'data-last-day')).toBe(until);
    const [y, m, d] = until.split('-').map(Number);
    expect(testid(closed.body, 'platform-retained-until')).toBe(
      `${y}年${m}月${d}日まで (日本時間、終了日の翌日から7年間)`,
    );
    expect(testid(closed.body, 'platform-monitoring')).toBe('停止しました');
    expect(await monitored()).not.toContain('good');
    expect(await monitored()).toContain('ended');
    const [rel] = await h.p.server.platform.db.query<{ ended_at: Date }>(
      'SELECT ended_at FROM relationships WHERE rp_client_id = $1',
      [BANK_RP.clientId],
    );
    expect(new Date(rel!.ended_at).toISOString()).toBe(attr(closed.body, 'platform-ended-at', 'data-value'));
    expect(await endNotes()).toHaveLength(1);

    // A second close (the confirmation posted again) changes nothing, at the bank or the platform.
    const again = await visitor.submit(confirm, 'close-account-form');
    expect(testid(again.body, 'message')).toBe('この口座は解約済みです。');
    expect(attr(again.body, 'platform-ended-at', 'data-value')).toBe(
      attr(closed.body, 'platform-ended-at', 'data-value'),
    );
    expect(testid(again.body, 'record-notes')).toBe(testid(closed.body, 'record-notes'));
    expect(await endNotes()).toHaveLength(1);
    const [same] = await h.p.server.platform.db.query<{ ended_at: Date }>(
      'SELECT ended_at FROM relationships WHERE rp_client_id = $1',
      [BANK_RP.clientId],
    );
    expect(new Date(same!.ended_at).getTime()).toBe(new Date(rel!.ended_at).getTime());
  }, 60_000);
});
