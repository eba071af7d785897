// The municipal portal demo against a real sandbox platform: login with the authentication
// certificate, the services, a childcare e-application signed with the signing certificate, and
// the digital ID card (invalidated by a revocation webhook, then issued again).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MUNICIPAL_RP, childCovered, startMunicipal } from '../municipal/index.js';
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
  type RunningTestDemo,
} from './support.js';

let h: Harness;
let portal: RunningTestDemo;
beforeAll(async () => {
  h = await startPlatform();
  portal = await startDemo(h, MUNICIPAL_RP, startMunicipal);
}, 120_000);
afterAll(async () => {
  await portal?.close();
  await h?.close();
});

describe('municipal portal demo', () => {
  let person: string;
  let visitor: Visitor;

  it('lists the services; using them needs a login with the authentication certificate', async () => {
    [, , person] = residents(h.p, 'fukui') as [string, string, string];
    visitor = new Visitor(h);
    const home = await visitor.go(portal.demo.url);
    for (const id of ['library', 'facilities', 'taxi', 'health', 'e-application'])
      expect(home.body).toContain(`data-testid="service-${id}"`);
    expect(home.body).not.toContain('href="/services/library"');
    expect((await visitor.go(`${portal.demo.url}/apply/childcare`)).url).toBe(`${portal.demo.url}/`);

    const ceremony = await visitor.submit(home, 'login-form');
    const landed = await visitor.ceremony(ceremony, person, 'auth');
    expect(landed.url).toBe(`${portal.demo.url}/`);
    expect(testid(landed.body, 'message')).toBe('ログインしました。');
    expect(landed.body).toContain('href="/services/library"');
    expect(landed.body).not.toContain('data-testid="login"');

    const library = await visitor.go(`${portal.demo.url}/services/library`);
    expect(library.status).toBe(200);
    expect(testid(library.body, 'service-status')).toMatch(/ログイン済み/);
    expect(testid(library.body, 'service-user')).toMatch(/…$/);
    expect(library.body).not.toContain(h.p.sandbox.person(person).name); // a login shares no personal data
  }, 60_000);

  it('refuses an incomplete or ineligible e-application before any signature', async () => {
    const form = await visitor.go(`${portal.demo.url}/apply/childcare`);
    expect(form.body).toContain('data-testid="application-form"');
    const refused = await visitor.submit(form, 'application-form', {
      childName: '',
      childBirthdate: '1990-01-01',
      receive: 'coin',
      phone: 'x',
    });
    expect(refused.status).toBe(400);
    const errors = testid(refused.body, 'form-errors')!;
    expect(errors).toContain('お子さんの氏名');
    expect(errors).toContain('18歳に達する日以後の最初の3月31日');
    expect(errors).toContain('電話番号');
  });

  it('submits the childcare e-application signed with the signing certificate and shows what was received', async () => {
    const form = await visitor.go(`${portal.demo.url}/apply/childcare`);
    const ceremony = await visitor.submit(form, 'application-form', {
      childName: '福井　はな',
      childBirthdate: '2022-05-05',
      receive: 'coin',
      phone: '0776-20-0000',
    });
    expect(ceremony.body).toContain(MUNICIPAL_RP.purpose);
    const received = await visitor.ceremony(ceremony, person, 'sign');
    expect(received.url).toMatch(new RegExp(`^${portal.demo.url}/applications/SN-\\d{8}-\\d{6}$`));
    const who = h.p.sandbox.person(person);
    const field = (id: string) => testid(received.body, id);
    expect(field('message')).toMatch(/申請を受け付けました/);
    expect(attr(received.body, 'application-status', 'data-status')).toBe('received');
    expect(field('application-child-name')).toBe('福井　はな');
    expect(attr(received.body, 'application-child-birthdate', 'data-value')).toBe('2022-05-05');
    expect(field('application-child-birthdate')).toBe('2022年5月5日');
    expect(field('application-receive')).toBe('はぴコイン');
    expect(field('application-phone')).toBe('0776-20-0000');
    expect(field('applicant-name')).toBe(who.name);
    expect(attr(received.body, 'applicant-birthdate', 'data-value')).toBe(who.birthDate);
    expect(field('applicant-address')).toBe(who.address);
    expect(attr(received.body, 'applicant-residency', 'data-status')).toBe('resident');
    expect(field('signature-serial')).toBe(h.p.sandbox.currentCertificateRecord(person, 'sign', 'card').serial);
    expect(field('record-id')).toMatch(/^rec_/);
    expect(Date.now() - Date.parse(attr(received.body, 'signed-at', 'data-value')!)).toBeLessThan(120_000);

    const list = await visitor.go(`${portal.demo.url}/applications`);
    expect(testid(list.body, 'application-link')).toBe(field('application-number'));
    expect((await new Visitor(h).go(received.url)).status).toBe(404);
  }, 60_000);

  it('issues a digital ID card from verified_claims; a revocation invalidates it; it can be issued again', async () => {
    const none = await visitor.go(`${portal.demo.url}/id-card`);
    // After the signed application this browser is signed in as the signer; no card yet.
    expect(none.body).toContain('data-testid="no-id-card"');
    const card = await visitor.ceremony(await visitor.submit(none, 'issue-id-card-form'), person, 'sign');
    expect(card.url).toBe(`${portal.demo.url}/id-card`);
    const who = h.p.sandbox.person(person);
    expect(testid(card.body, 'id-name')).toBe(who.name);
    expect(attr(card.body, 'id-birthdate', 'data-value')).toBe(who.birthDate);
    expect(testid(card.body, 'id-address')).toBe(who.address);
    expect(testid(card.body, 'id-record-id')).toMatch(/^rec_/);
    expect(testid(card.body, 'id-card-number')).toMatch(/^ID-\d{8}$/);
    expect(Date.now() - Date.parse(attr(card.body, 'id-issued-at', 'data-value')!)).toBeLessThan(120_000);
    expect(attr(card.body, 'id-status', 'data-status')).toBe('valid');

    await h.p.sandbox.applyEvent(person, 'move', { municipalityCode: '18201' });
    await runMonitor(h);
    const revoked = await eventually('the card to be invalidated', async () => {
      const page = await visitor.go(`${portal.demo.url}/id-card`);
      return attr(page.body, 'id-status', 'data-status') === 'revoked' ? page : undefined;
    });
    // Why and when, in words (the reason's code in small print), in both languages.
    expect(attr(revoked.body, 'id-revoked-reason', 'data-reason')).toBe('affiliationChanged');
    expect(testid(revoked.body, 'id-revoked-reason')).toBe(
      '氏名・住所などの変更 (転居・婚姻など) (affiliationChanged)',
    );
    expect(testid(revoked.body, 'id-revoked-at')).toMatch(/^\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}$/);
    const english = await visitor.go(`${portal.demo.url}/id-card?lang=en`);
    expect(testid(english.body, 'id-revoked-reason')).toMatch(/^a change of name or address/);
    expect(testid(english.body, 'id-revoked-at')).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2} JST$/);
    await visitor.go(`${portal.demo.url}/id-card?lang=ja`);
    const again = await visitor.ceremony(await visitor.submit(revoked, 'issue-id-card-form'), person, 'sign');
    expect(attr(again.body, 'id-status', 'data-status')).toBe('valid');
    expect(testid(again.body, 'id-address')).toBe(h.p.sandbox.person(person).address);
    expect(testid(again.body, 'id-card-number')).not.toBe(testid(card.body, 'id-card-number'));
  }, 60_000);

  it('childcare support covers a child until the first 31 March after the child reaches 18', () => {
    // Born 1 April: reaches 18 on 31 March (the day before the birthday).
    expect(childCovered('2008-04-01', '2026-03-31')).toBe(true);
    expect(childCovered('2008-04-01', '2026-04-01')).toBe(false);
    expect(childCovered('2008-04-02', '2027-03-31')).toBe(true);
    expect(childCovered('2008-04-02', '2027-04-01')).toBe(false);
    expect(childCovered('2030-01-01', '2026-04-01')).toBe(false); // not born yet
  });
});
