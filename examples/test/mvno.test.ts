// The MVNO demo against a real sandbox platform: plan, identity ceremony, contract with the
// 本人確認記録 of 携帯法, a revocation note, and the 3-year retention after the contract ends.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayInJapan, retentionUntil, type Verified } from '../shared/index.js';
import { MVNO_RP, emptyMvno, makeContract, startMvno } from '../mvno/index.js';
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
let mvno: RunningTestDemo;
beforeAll(async () => {
  h = await startPlatform();
  mvno = await startDemo(h, MVNO_RP, startMvno);
}, 120_000);
afterAll(async () => {
  await mvno?.close();
  await h?.close();
});

describe('MVNO contract demo (携帯法)', () => {
  let person: string;
  let visitor: Visitor;
  let contract: Page;

  it('signs a voice SIM contract after an identity ceremony and keeps the 本人確認記録', async () => {
    [person] = residents(h.p, 'fukui') as [string];
    visitor = new Visitor(h);
    const home = await visitor.go(mvno.demo.url);
    expect(home.body).toContain('data-testid="plan-unlimited"');
    const ceremony = await visitor.submit(home, 'plan-form', { plan: 'unlimited' });
    expect(ceremony.body).toContain(MVNO_RP.purpose);
    contract = await visitor.ceremony(ceremony, person, 'sign');
    expect(contract.url).toMatch(new RegExp(`^${mvno.demo.url}/contracts/MC-\\d{8}$`));

    const who = h.p.sandbox.person(person);
    const field = (id: string) => testid(contract.body, id);
    expect(field('message')).toBe('ご契約が完了しました。');
    expect(field('phone-number')).toMatch(/^070-\d{4}-\d{4}$/);
    expect(attr(contract.body, 'contract-plan', 'data-plan')).toBe('unlimited');
    expect(attr(contract.body, 'contract-status', 'data-status')).toBe('active');
    expect(field('record-id')).toMatch(/^HK-\d{8}-\d{5}$/);
    expect(field('record-confirmed-by')).toContain('デモモバイル');
    expect(field('record-verified-by')).toContain(h.p.server.url);
    expect(field('record-recorded-by')).toContain('デモモバイル');
    expect(Date.now() - Date.parse(attr(contract.body, 'record-confirmed-at', 'data-value')!)).toBeLessThan(120_000);
    expect(attr(contract.body, 'record-method', 'data-method')).toBe('jpki_signature');
    expect(field('record-kakunin-id')).toMatch(/^rec_/);
    expect(field('record-cert-type')).toContain('署名用電子証明書');
    expect(field('record-cert-serial')).toBe(h.p.sandbox.currentCertificateRecord(person, 'sign', 'card').serial);
    expect(field('record-name')).toBe(who.name);
    expect(field('record-address')).toBe(who.address);
    expect(attr(contract.body, 'record-birthdate', 'data-value')).toBe(who.birthDate);
    expect(field('record-contract')).toBe(`${field('contract-number')} / ${field('phone-number')}`);
    expect(field('record-retention')).toBe('契約終了日から3年間 (契約中)');

    const platformRecord = (await (
      await fetch(`${h.p.server.url}/admin/v1/records/${field('record-kakunin-id')}`, {
        headers: { authorization: `Bearer ${h.p.server.adminToken}` },
      })
    ).json()) as Record<string, unknown>;
    expect(platformRecord).toMatchObject({ rp_client_id: MVNO_RP.clientId, framework: 'jp_mpiupa' });
  }, 60_000);

  it('refuses minors (the contract holder must be 18 on the day of verification)', () => {
    const today = dayInJapan();
    const v: Verified & { name: string; address: string; birthdate: string } = {
      trustFramework: 'jp_mpiupa',
      time: new Date().toISOString(),
      recordId: 'rec_x',
      certificate: { issuer: 'x', serial: '01', createdAt: new Date().toISOString() },
      name: '試験　太郎',
      address: '福井県福井市大手３－１０－１',
      birthdate: `${Number(today.slice(0, 4)) - 17}${today.slice(4)}`,
    };
    expect(() => makeContract(emptyMvno(), 's', 'light', v, 'http://x')).toThrow(/guardian/);
    // Whose 18th birthday is tomorrow has reached 18 today.
    const tomorrow = new Date(Date.parse(`${today}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
    expect(
      makeContract(
        emptyMvno(),
        's',
        'light',
        { ...v, birthdate: `${Number(tomorrow.slice(0, 4)) - 18}${tomorrow.slice(4)}` },
        'http://x',
      ).plan,
    ).toBe('light');
  });

  it('notes a revocation of the certificate on the record', async () => {
    await h.p.sandbox.applyEvent(person, 'rename');
    await runMonitor(h);
    const noted = await eventually('the revocation note', async () => {
      const page = await visitor.go(contract.url);
      return testid(page.body, 'record-notes')?.includes('失効通知') ? page : undefined;
    });
    expect(testid(noted.body, 'record-name')).toBe(testid(contract.body, 'record-name'));
    // The reason in words with its code in small print; in English, the note's English.
    expect(testid(noted.body, 'record-notes')).toMatch(
      /理由: 氏名・住所などの変更 \(転居・婚姻など\)、失効日時 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}、/,
    );
    expect(noted.body).toContain('<small class="code" data-code="affiliationChanged">(affiliationChanged)</small>');
    const english = await visitor.go(`${contract.url}?lang=en`);
    expect(testid(english.body, 'record-notes')).toMatch(
      /Notice that the signing certificate \(serial \S+\) was revoked \(reason: a change of name or address/,
    );
    expect(testid(english.body, 'record-cert-type')).toBe('JPKI signing certificate');
    expect(testid(english.body, 'record-confirmed-by')).toBe('Demo Mobile online sign-up (mobile voice carrier)');
    await visitor.go(`${contract.url}?lang=ja`);
  }, 60_000);

  it('ending the contract, after confirming, ends the relationship at the platform: monitoring stops, the 3-year retention starts', async () => {
    // (The certificate was revoked above: nothing of this pair is watched any more; the relationship is still open.)
    const relationship = async () =>
      (
        await h.p.server.platform.db.query<{ ended_at: Date | null }>(
          'SELECT ended_at FROM relationships WHERE rp_client_id = $1',
          [MVNO_RP.clientId],
        )
      )[0]!.ended_at;
    expect(await relationship()).toBeNull();
    const page = await visitor.go(contract.url);
    const confirm = await visitor.go(new URL(attr(page.body, 'cancel-contract', 'href')!, page.url).toString());
    expect(attr(confirm.body, 'cancel-confirmation', 'data-last-contract')).toBe('true');
    expect(attr((await visitor.go(contract.url)).body, 'contract-status', 'data-status')).toBe('active');
    const ended = await visitor.submit(confirm, 'cancel-contract-form');
    expect(attr(ended.body, 'contract-status', 'data-status')).toBe('ended');
    const until = retentionUntil(dayInJapan(), 3);
    expect(attr(ended.body, 'record-retention', 'data-until')).toBe(until);
    expect(ended.body).not.toContain('data-testid="cancel-contract"');
    expect(attr(ended.body, 'platform-relationship', 'data-status')).toBe('ended');
    expect(attr(ended.body, 'platform-retained-until', 'data-last-day')).toBe(until);
    expect(testid(ended.body, 'platform-retained-until')).toContain('終了日の翌日から3年間');
    expect(new Date((await relationship())!).toISOString()).toBe(attr(ended.body, 'platform-ended-at', 'data-value'));
    // Posted again: nothing changes.
    const again = await visitor.submit(confirm, 'cancel-contract-form');
    expect(testid(again.body, 'message')).toBe('このご契約は解約済みです。');
    expect(attr(again.body, 'platform-ended-at', 'data-value')).toBe(
      attr(ended.body, 'platform-ended-at', 'data-value'),
    );
    expect(
      await h.p.server.platform.db.query(
        "SELECT id FROM records WHERE rp_client_id = $1 AND outcome = 'note' AND payload->>'event' = 'relationship_ended'",
        [MVNO_RP.clientId],
      ),
    ).toHaveLength(1);
  });
});
