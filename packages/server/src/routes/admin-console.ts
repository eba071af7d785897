// The admin console: server-rendered pages over the same data as the JSON admin API (/admin/v1),
// for operators with a browser. Mounted at /admin; every page path is a fixed word (rps, records,
// events, crl, simulator, login, logout), so nothing here can shadow /admin/v1/….
//
// Sign-in exchanges the admin token for a stateless session cookie: `v1.<nonce>.<expiry>.<mac>`,
// HMAC-SHA256 under a key derived from the admin token (so rotating the token ends every session,
// and several processes sharing one database accept each other's sessions). Every POST carries a
// CSRF token, the session key's HMAC over the session nonce, on top of the SameSite=Strict cookie.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { LifeEventType, SimEvent } from '@kakunin/sim';
import * as pages from '@kakunin/web';
import {
  langFrom,
  type AdminContext,
  type AdminWatched,
  type Lang,
  type RecordFilters,
  type SignCertificateState,
} from '@kakunin/web';
import { TooManyAttempts, isServerError, toErrorBody } from '../errors.js';
import { listEvents } from '../monitor/events.js';
import { listMonitored, type MonitoredStatus } from '../monitor/watch.js';
import type { BackgroundJobs } from '../monitor/background.js';
import type { Platform } from '../platform.js';
import { usageReport } from '../usage.js';
import { jstDate } from '../records/citations.js';
import { latestCheckpoint, logBacklog } from '../records/log.js';
import { recordWithLogStatus, searchRecords } from '../records/query.js';
import { verifyLog } from '../records/verify-log.js';
import type { RecordOutcome } from '../records/chain.js';
import { createRelyingParty, listRelyingParties, updateRelyingParty, type RelyingParty } from '../relying-parties.js';
import type { CeremonyKind } from '../ceremony-domain.js';
import { listDeliveries } from '../webhooks/deliveries.js';
import { redeliverEvent } from '../webhooks/delivery.js';
import { findRelationship, retentionEnd, retentionPolicy } from '../records/retention.js';
import { findRelyingParty } from '../relying-parties.js';
import { queryObject } from './schemas.js';

type RecordRetention = NonNullable<NonNullable<pages.RecordDetailInput['summary']>['retention']>;

/**
 * When a record's retention ends, by the rules purgeExpired applies (records/retention.ts): from the
 * later of the relationship's end and the record's creation; never while the relationship is open;
 * from its creation for a rejected attempt with no relationship; platform notes are kept.
 */
function recordRetention(
  r: { framework: string; outcome: string; created_at: Date; purged_at: Date | null },
  relationshipEndedAt: Date | null | undefined,
): RecordRetention {
  const policy = retentionPolicy(r.framework);
  const base = { years: policy.years, basis: policy.basis };
  if (r.purged_at) return { ...base, state: 'purged', at: r.purged_at };
  if (relationshipEndedAt !== undefined) {
    if (relationshipEndedAt === null) return { ...base, state: 'open' };
    const start = relationshipEndedAt.getTime() >= r.created_at.getTime() ? relationshipEndedAt : r.created_at;
    return {
      ...base,
      state: 'ends',
      until: retentionEnd(start, policy.years),
      from: start === relationshipEndedAt ? 'relationship_end' : 'record',
    };
  }
  if (r.outcome === 'rejected')
    return { ...base, state: 'ends', until: retentionEnd(r.created_at, policy.years), from: 'record' };
  return { ...base, state: 'kept' };
}

export interface AdminConsoleOptions {
  platform: Platform;
  adminToken: string;
  /** Background jobs of this process ("re-check now" needs them). */
  jobs?: BackgroundJobs;
}

// ---- sessions and CSRF -------------------------------------------------------------------------

const COOKIE = 'kakunin_admin';
const SESSION_MS = 8 * 3600_000;

interface Session {
  nonce: string;
  expires: number;
}

const hmac = (key: Buffer, data: string): string => createHmac('sha256', key).update(data).digest('base64url');

/** Compares secrets in constant time (digests first, so lengths leak nothing). */
const sameSecret = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

function issueSession(key: Buffer, now = Date.now()): string {
  const body = `v1.${randomBytes(16).toString('base64url')}.${now + SESSION_MS}`;
  return `${body}.${hmac(key, body)}`;
}

function readSession(key: Buffer, cookieHeader: string | undefined, now = Date.now()): Session | undefined {
  const value = (cookieHeader ?? '')
    .split(';')
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${COOKIE}=`))
    ?.slice(COOKIE.length + 1);
  const m = /^(v1\.([A-Za-z0-9_-]{22})\.(\d{1,16}))\.([A-Za-z0-9_-]{43})$/.exec(value ?? '');
  if (!m || !sameSecret(hmac(key, m[1]!), m[4]!)) return undefined;
  const expires = Number(m[3]);
  return expires > now ? { nonce: m[2]!, expires } : undefined;
}

const csrfOf = (key: Buffer, s: Session): string => hmac(key, `csrf.${s.nonce}`);

// ---- page plumbing -----------------------------------------------------------------------------

// No scripts at all; inline styles only (the shared shell's stylesheet); forms post only here.
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const html = (reply: FastifyReply, status: number, body: string): FastifyReply =>
  reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .header('content-security-policy', CSP)
    .send(body);

const langOf = (req: FastifyRequest): Lang => langFrom(queryObject(req));
const queryOf = (req: FastifyRequest): Record<string, string | undefined> => {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(queryObject(req))) if (typeof v === 'string') out[k] = v;
  return out;
};
/** The posted form (the platform parses urlencoded bodies as strings; oidc-provider needs them raw). */
const formOf = (req: FastifyRequest): URLSearchParams =>
  new URLSearchParams(typeof req.body === 'string' ? req.body : '');
const isPublic = (req: FastifyRequest): boolean => (req.routeOptions.config as { public?: boolean }).public === true;
/** Only console paths may follow a sign-in (no open redirect). */
const safeNext = (next: string | null | undefined): string | undefined =>
  next && /^\/admin(?:[/?][^\s\\]*)?$/.test(next) && !next.startsWith('/admin/v1') ? next : undefined;

const JST_MS = 9 * 3600_000;
/** A `YYYY-MM-DD` Japan date → the instant it starts (the day after, for an inclusive end). */
function jstDay(day: string | undefined, end: boolean): Date | undefined | 'invalid' {
  if (!day) return undefined;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return 'invalid';
  const start = new Date(Date.parse(`${day}T00:00:00Z`) - JST_MS);
  if (Number.isNaN(start.getTime()) || jstDate(start) !== day) return 'invalid';
  return end ? new Date(start.getTime() + 24 * 3600_000) : start;
}

const rpView = (rp: RelyingParty): pages.AdminRp => ({
  clientId: rp.clientId,
  name: rp.name,
  framework: rp.framework,
  ceremonies: rp.ceremonies,
  redirectUris: rp.redirectUris,
  webhookUrl: rp.webhookUrl,
  purpose: rp.purpose,
  createdAt: rp.createdAt,
  disabled: rp.disabledAt !== null,
});

const str = (v: unknown): string | null => (typeof v === 'string' || typeof v === 'number' ? String(v) : null);
const at = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);

// ---- the plugin --------------------------------------------------------------------------------

export async function adminConsoleRoutes(fastify: FastifyInstance, o: AdminConsoleOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  // The console reads its queries and forms itself (queryOf, formOf); only path parameters have a schema.
  const ClientIdParams = { params: Type.Object({ client_id: Type.String() }) };
  const IdParams = { params: Type.Object({ id: Type.String() }) };
  const { platform } = o;
  const { db } = platform;
  const key = createHmac('sha256', o.adminToken).update('kakunin admin console session v1').digest();
  const secure = platform.publicUrl.startsWith('https:') ? '; Secure' : '';
  const sessions = new WeakMap<FastifyRequest, Session>();

  // Browser pages, not an API: kept out of the OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true };
  });
  // The platform registers this parser for oidc-provider; a standalone app (tests) may not have.
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, body),
    );
  }

  const ctxOf = (req: FastifyRequest, switchPath?: string): AdminContext => {
    const s = sessions.get(req);
    return {
      lang: langOf(req),
      csrf: s ? csrfOf(key, s) : '',
      sandbox: platform.simulator !== undefined,
      path: switchPath ?? req.url.split('?')[0]!,
      query: switchPath ? {} : queryOf(req),
    };
  };
  const message = (lang: Lang, e: unknown): string => {
    const { body } = toErrorBody(e);
    return lang === 'ja' ? body.error.message_ja : body.error.message;
  };
  const problemPage = (
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    title: [string, string],
    detail: string,
  ): FastifyReply => {
    const ctx = ctxOf(req, '/admin/rps');
    const box = pages.messageBox('error', ctx.lang === 'ja' ? title[0] : title[1], detail);
    return html(
      reply,
      status,
      sessions.has(req)
        ? pages.adminPage(ctx, null, title, box)
        : pages.shell(
            ctx.lang,
            title[ctx.lang === 'ja' ? 0 : 1],
            box,
            pages.href(ctx.lang === 'ja' ? 'en' : 'ja', '/admin/login'),
          ),
    );
  };
  const notFound = (req: FastifyRequest, reply: FastifyReply): FastifyReply =>
    problemPage(
      req,
      reply,
      404,
      ['見つかりません', 'Not found'],
      langOf(req) === 'ja' ? 'このページはありません。' : 'There is no such page.',
    );

  app.setErrorHandler((error, req, reply) => {
    const { status } = toErrorBody(error);
    if (status >= 500) req.log.error({ err: error }, 'admin console request failed');
    return problemPage(req, reply, status, ['エラー', 'Error'], message(langOf(req), error));
  });

  // Every page needs a session (sign-in excepted); every POST also needs the session's CSRF token.
  app.addHook('onRequest', async (req, reply) => {
    if (isPublic(req)) return;
    const s = readSession(key, req.headers.cookie);
    if (!s) {
      const next = req.method === 'GET' ? safeNext(req.url) : undefined;
      return reply.redirect(pages.href(langOf(req), '/admin/login', next ? { next } : {}), 303);
    }
    sessions.set(req, s);
  });
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST' || isPublic(req)) return;
    const given = formOf(req).get('csrf') ?? '';
    if (!sameSecret(given, csrfOf(key, sessions.get(req)!))) {
      req.log.warn(
        { admin: 'csrf_rejected', url: req.routeOptions.url },
        'admin console post without a valid CSRF token',
      );
      return problemPage(
        req,
        reply,
        403,
        ['送信を受け付けられません', 'Request refused'],
        langOf(req) === 'ja'
          ? 'フォームの有効期限が切れたか、別のサイトから送信されました。ページを開き直してください。'
          : 'The form expired or was sent from another site. Open the page again.',
      );
    }
  });

  // ---- sign-in ----
  app.get('/', async (req, reply) => reply.redirect(pages.href(langOf(req), '/admin/rps'), 303));

  app.get('/login', { config: { public: true } }, async (req, reply) => {
    const q = queryOf(req);
    const next = safeNext(q.next);
    return html(
      reply,
      200,
      pages.loginPage({ lang: langOf(req), ...(next ? { next } : {}), signedOut: q.out === '1' }),
    );
  });

  app.post('/login', { config: { public: true } }, async (req, reply) => {
    const lang = langOf(req);
    const next = safeNext(queryOf(req).next);
    const { ok, retryAfter } = await platform.authThrottle.attempt(platform.authThrottle.keys('admin', req.ip), () =>
      sameSecret(formOf(req).get('token') ?? '', o.adminToken),
    );
    if (retryAfter) {
      req.log.warn(
        { admin: 'login_throttled', retryAfter },
        'admin console sign-in refused: too many failures from this address',
      );
      void reply.header('retry-after', String(retryAfter));
      return problemPage(
        req,
        reply,
        429,
        ['しばらくお待ちください', 'Too many attempts'],
        message(lang, new TooManyAttempts(retryAfter)),
      );
    }
    if (!ok) {
      req.log.warn({ admin: 'login_failed' }, 'admin console sign-in with a wrong token');
      return html(reply, 401, pages.loginPage({ lang, ...(next ? { next } : {}), failed: true }));
    }
    req.log.info({ admin: 'login' }, 'admin console sign-in');
    reply.header(
      'set-cookie',
      `${COOKIE}=${issueSession(key)}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MS / 1000}${secure}`,
    );
    return reply.redirect(next ?? pages.href(lang, '/admin/rps'), 303);
  });

  // Sessions are stateless: signing out drops the cookie (rotating the admin token ends them all).
  app.post('/logout', async (req, reply) => {
    reply.header('set-cookie', `${COOKIE}=; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=0${secure}`);
    return reply.redirect(pages.href(langOf(req), '/admin/login', { out: '1' }), 303);
  });

  // ---- relying parties ----
  const rpList = async (
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    extra: { form?: pages.RpFormValues; error?: string } = {},
  ): Promise<FastifyReply> => {
    const done = queryOf(req).done;
    const notice = done === 'enabled' || done === 'disabled' ? done : undefined;
    const rps = (await listRelyingParties(db)).map(rpView);
    return html(
      reply,
      status,
      pages.rpListPage({ ctx: ctxOf(req, '/admin/rps'), rps, ...extra, ...(notice ? { notice } : {}) }),
    );
  };
  app.get('/rps', async (req, reply) => rpList(req, reply, 200));

  app.post('/rps', async (req, reply) => {
    const f = formOf(req);
    const lang = langOf(req);
    const form: pages.RpFormValues = {
      name: f.get('name') ?? '',
      redirectUris: f.get('redirect_uris') ?? '',
      framework: f.get('framework') ?? '',
      ceremonies: f.getAll('ceremonies'),
      purpose: f.get('purpose') ?? '',
      webhookUrl: f.get('webhook_url') ?? '',
    };
    const ceremonies = form.ceremonies!.filter((c): c is CeremonyKind => c === 'login' || c === 'identity');
    const refuse = (ja: string, en: string): Promise<FastifyReply> =>
      rpList(req, reply, 400, { form, error: lang === 'ja' ? ja : en });
    if (!pages.FRAMEWORKS.some((x) => x.value === form.framework))
      return refuse('トラストフレームワークを選んでください。', 'Choose a trust framework.');
    if (ceremonies.length === 0)
      return refuse('利用できる手続きを1つ以上選んでください。', 'Choose at least one ceremony.');
    try {
      const rp = await createRelyingParty(platform, {
        name: form.name!,
        redirectUris: form
          .redirectUris!.split(/\r?\n/)
          .map((u) => u.trim())
          .filter(Boolean),
        ceremonies,
        framework: form.framework!,
        ...(form.purpose!.trim() ? { purpose: form.purpose!.trim() } : {}),
        ...(form.webhookUrl!.trim() ? { webhookUrl: form.webhookUrl!.trim() } : {}),
      });
      req.log.info({ admin: 'rp_created', clientId: rp.clientId }, 'relying party registered in the admin console');
      return html(
        reply,
        201,
        pages.rpCreatedPage({
          ctx: ctxOf(req, '/admin/rps'),
          rp: rpView(rp),
          clientSecret: rp.clientSecret,
          webhookSecret: rp.webhookSecret,
        }),
      );
    } catch (e) {
      if (isServerError(e) && e.status === 400) return rpList(req, reply, 400, { form, error: message(lang, e) });
      throw e;
    }
  });

  app.post('/rps/:client_id/disabled', { schema: ClientIdParams }, async (req, reply) => {
    const disabled = formOf(req).get('disabled') === 'true';
    const { client_id: clientId } = req.params;
    await updateRelyingParty(db, clientId, { disabled });
    req.log.info(
      { admin: disabled ? 'rp_disabled' : 'rp_enabled', clientId },
      'relying party state changed in the admin console',
    );
    return reply.redirect(pages.href(langOf(req), '/admin/rps', { done: disabled ? 'disabled' : 'enabled' }), 303);
  });

  // ---- records ----
  const PAGE = 50;
  app.get('/records', async (req, reply) => {
    const q = queryOf(req);
    const lang = langOf(req);
    const filters: RecordFilters = {
      rp: q.rp || undefined,
      from: q.from || undefined,
      to: q.to || undefined,
      outcome: q.outcome || undefined,
    };
    const from = jstDay(filters.from, false);
    const to = jstDay(filters.to, true);
    const before = q.before && /^\d{1,19}$/.test(q.before) ? q.before : undefined;
    const [rps, checkpoint, backlog] = await Promise.all([
      listRelyingParties(db),
      latestCheckpoint(db),
      logBacklog(db),
    ]);
    const names = new Map(rps.map((rp) => [rp.clientId, rp.name]));
    const log = {
      origin: platform.recordsLog.origin,
      verifierKey: platform.recordsLog.verifierKey,
      ...(checkpoint
        ? {
            checkpoint: {
              treeSize: checkpoint.treeSize,
              root: checkpoint.root.toString('base64'),
              createdAt: checkpoint.createdAt,
              note: checkpoint.note,
            },
          }
        : {}),
      backlog,
    };
    const base = {
      ctx: ctxOf(req),
      rps: rps.map((rp) => ({ clientId: rp.clientId, name: rp.name })),
      filters,
      paged: before !== undefined,
      log,
    };
    let error: string | undefined;
    if (from === 'invalid' || to === 'invalid')
      error = lang === 'ja' ? '日付は YYYY-MM-DD で指定してください。' : 'Dates must be YYYY-MM-DD.';
    else if (from && to && from >= to)
      error = lang === 'ja' ? '期間の開始が終了より後になっています。' : 'The start of the range is after its end.';
    else if (filters.outcome && !['verified', 'rejected', 'note'].includes(filters.outcome))
      error = lang === 'ja' ? '結果の指定が正しくありません。' : 'Unknown outcome.';
    if (error) return html(reply, 400, pages.recordListPage({ ...base, rows: [], error }));

    const raw = await searchRecords(db, {
      limit: PAGE + 1,
      ...(filters.rp ? { rpClientId: filters.rp } : {}),
      ...(from instanceof Date ? { from } : {}),
      ...(to instanceof Date ? { to } : {}),
      ...(filters.outcome ? { outcome: filters.outcome as RecordOutcome } : {}),
      ...(before ? { before } : {}),
    });
    const rows = raw.slice(0, PAGE);
    return html(
      reply,
      200,
      pages.recordListPage({
        ...base,
        rows: rows.map((r) => ({
          seq: r.seq,
          id: r.id,
          createdAt: r.created_at,
          rpClientId: r.rp_client_id,
          ...(r.rp_client_id && names.has(r.rp_client_id) ? { rpName: names.get(r.rp_client_id)! } : {}),
          framework: r.framework,
          outcome: r.outcome,
          method: str(at(r.payload, 'method', 'id')),
          serial: str(at(r.payload, 'certificate', 'serial')),
          purged: r.purged_at !== null,
        })),
        ...(raw.length > PAGE ? { nextBefore: rows.at(-1)!.seq } : {}),
      }),
    );
  });

  app.get('/records/:id', { schema: IdParams }, async (req, reply) => {
    const { id } = req.params;
    const found = await recordWithLogStatus(db, id);
    if (!found) return notFound(req, reply);
    const { record: r, status } = found;
    const record = {
      seq: r.seq,
      id: r.id,
      createdAt: r.created_at,
      rpClientId: r.rp_client_id,
      ceremonyId: r.ceremony_id,
      subjectId: r.subject_id,
      framework: r.framework,
      outcome: r.outcome,
      payload: r.payload,
      payloadHash: r.payload_hash,
      entryVersion: r.entry_version,
      leafHash: r.leaf_hash.toString('hex'),
      leafIndex: r.leaf_index,
      integratedAt: r.integrated_at,
      prevHash: r.prev_hash,
      hash: r.hash,
      purgedAt: r.purged_at,
    };
    // The summary's RP name and the end of this record's retention.
    const rp = r.rp_client_id ? await findRelyingParty(db, r.rp_client_id) : undefined;
    // The relationship of the record's RP and subject: its end and the retention end (and the record's).
    const relationship =
      r.rp_client_id && r.subject_id ? ((await findRelationship(db, r.rp_client_id, r.subject_id)) ?? null) : null;
    const summary = {
      ...(rp ? { rpName: rp.name } : {}),
      retention: recordRetention(r, relationship ? relationship.endedAt : undefined),
    };
    return html(
      reply,
      200,
      pages.recordDetailPage({ ctx: ctxOf(req), record, summary, status, publicUrl: platform.publicUrl, relationship }),
    );
  });

  app.post('/records/verify', async (req, reply) => {
    const result = await verifyLog(db, { key: platform.recordsLog.verifierKey });
    req.log.info(
      {
        admin: 'log_verified',
        ok: result.ok,
        checked: result.checked,
        treeSize: result.treeSize,
        problems: result.problems.length,
      },
      'records log verified in the admin console',
    );
    return html(reply, 200, pages.logVerifyPage({ ctx: ctxOf(req, '/admin/records'), ...result }));
  });

  // ---- CRL sources (the same as /readyz) ----
  app.get('/crl', async (req, reply) => {
    const { config } = platform;
    await platform.usage?.flush();
    const usage = await usageReport(db, new Date().toISOString().slice(0, 7));
    return html(
      reply,
      200,
      pages.revocationSourcesPage({
        ctx: ctxOf(req, '/admin/crl'),
        sources: platform.crl?.status() ?? [],
        refreshAheadSeconds: config.crlRefreshAheadSeconds,
        graceSeconds: config.crlGraceSeconds,
        retrySeconds: config.crlRetrySeconds,
        ...(platform.monitorMode ? { monitorMode: platform.monitorMode } : {}),
        usage,
      }),
    );
  });

  // ---- revocation events, webhook deliveries, watched certificates ----
  const EVENTS_PAGE = 25;
  const WATCH_PAGE = 100;
  const eventsPage = async (
    req: FastifyRequest,
    reply: FastifyReply,
    status: number,
    error?: string,
  ): Promise<FastifyReply> => {
    const q = queryOf(req);
    const before = q.before && /^evt_[A-Za-z0-9_-]{1,64}$/.test(q.before) ? q.before : undefined;
    const names = new Map((await listRelyingParties(db)).map((rp) => [rp.clientId, rp.name]));
    const found = await listEvents(db, { limit: EVENTS_PAGE + 1, ...(before ? { before } : {}) });
    const events = await Promise.all(
      found.slice(0, EVENTS_PAGE).map(async (e) => ({
        id: e.id,
        createdAt: e.createdAt,
        type: e.type,
        rpClientId: e.rpClientId,
        ...(e.rpClientId && names.has(e.rpClientId) ? { rpName: names.get(e.rpClientId)! } : {}),
        serial: str(e.data.serial),
        reason: str(e.data.reason),
        recordId: e.recordId,
        deliveries: (await listDeliveries(db, { eventId: e.id, limit: 50 })).map((d) => ({
          attempt: d.attempt,
          attemptedAt: d.attemptedAt,
          statusCode: d.statusCode,
          error: d.error,
          delivered: d.delivered,
          url: d.url,
        })),
      })),
    );
    const watched: Record<string, AdminWatched[]> = {};
    for (const { status: s } of pages.WATCH_STATUSES)
      watched[s] = await listMonitored(db, { status: s as MonitoredStatus, limit: WATCH_PAGE });
    const counts: Record<string, number> = {};
    for (const row of await db.query<{ status: string; n: number | string }>(
      'SELECT status, count(*) AS n FROM monitored_certificates GROUP BY status',
    ))
      counts[row.status] = Number(row.n);
    const done = q.done === 'monitor' || q.done === 'redeliver' ? q.done : undefined;
    return html(
      reply,
      status,
      pages.eventsPage({
        ctx: ctxOf(req, '/admin/events'),
        events,
        paged: before !== undefined,
        ...(found.length > EVENTS_PAGE ? { nextBefore: events.at(-1)!.id } : {}),
        watched,
        counts,
        jobsRunning: o.jobs !== undefined,
        ...(done ? { notice: done } : {}),
        ...(error ? { error } : {}),
      }),
    );
  };
  app.get('/events', async (req, reply) => eventsPage(req, reply, 200));

  app.post('/events/:id/redeliver', { schema: IdParams }, async (req, reply) => {
    const { id } = req.params;
    try {
      await redeliverEvent(db, id);
    } catch (e) {
      // redeliverEvent throws a plain Error for an unknown event or one without an RP.
      return eventsPage(req, reply, 400, (e as Error).message);
    }
    req.log.info({ admin: 'event_redelivered', eventId: id }, 'webhook redelivery queued in the admin console');
    return reply.redirect(pages.href(langOf(req), '/admin/events', { done: 'redeliver' }), 303);
  });

  app.post('/monitor/run', async (req, reply) => {
    if (!o.jobs)
      return eventsPage(
        req,
        reply,
        400,
        langOf(req) === 'ja'
          ? 'このプロセスではバックグラウンドジョブが動いていません。'
          : 'Background jobs are not running in this process.',
      );
    const job = await o.jobs.runMonitorNow();
    req.log.info({ admin: 'monitor_run', jobId: job.id }, 'revocation monitor run queued in the admin console');
    return reply.redirect(pages.href(langOf(req), '/admin/events', { done: 'monitor' }), 303);
  });

  // ---- simulator (sandbox mode only) ----
  const SIM_TYPES: readonly LifeEventType[] = ['move', 'renew', 'lose'];
  const simulatorPage = (req: FastifyRequest, reply: FastifyReply, status: number, error?: string): FastifyReply => {
    const simulator = platform.simulator!;
    const sandbox = simulator.sandbox;
    sandbox.reload(); // another process (kakunin sim …) may have changed it
    const people = sandbox.people().map((p) => {
      const sign = sandbox.certificates({ personId: p.id, kind: 'sign', medium: 'card' }).at(-1);
      const signCertificate: SignCertificateState = sign ? simulator.certificateStatus(sign) : 'none';
      return {
        id: p.id,
        name: p.trueName,
        ...(p.name !== p.trueName ? { certificateName: p.name } : {}),
        birthDate: p.birthDate,
        address: p.trueAddress,
        ...(p.address !== p.trueAddress ? { certificateAddress: p.address } : {}),
        municipalityCode: p.municipalityCode,
        municipality: `${p.prefecture}${p.municipality}`,
        signCertificate,
        pins: { auth: p.pins.auth, sign: p.pins.sign, cardInfo: p.pins.cardInfo },
      };
    });
    return html(
      reply,
      status,
      pages.simulatorPage({ ctx: ctxOf(req, '/admin/simulator'), people, ...(error ? { error } : {}) }),
    );
  };

  app.get('/simulator', async (req, reply) =>
    platform.simulator ? simulatorPage(req, reply, 200) : notFound(req, reply),
  );

  app.post('/simulator/people/:id/events', { schema: IdParams }, async (req, reply) => {
    const simulator = platform.simulator;
    if (!simulator) return notFound(req, reply);
    const { id } = req.params;
    const type = formOf(req).get('type') as LifeEventType;
    if (!SIM_TYPES.includes(type))
      return simulatorPage(req, reply, 400, langOf(req) === 'ja' ? '不明なイベントです。' : 'Unknown event.');
    let event: SimEvent;
    try {
      // In process on purpose: the sandbox OCSP responder shares this object and sees the change.
      event = await simulator.sandbox.applyEvent(id, type);
    } catch (e) {
      if (simulator.isSimError(e)) return simulatorPage(req, reply, 400, e.message);
      throw e;
    }
    req.log.info(
      { admin: 'sim_event', personId: id, type, eventId: event.id },
      'simulator life event applied in the admin console',
    );
    return reply.redirect(pages.href(langOf(req), `/admin/simulator/events/${encodeURIComponent(event.id)}`), 303);
  });

  app.get('/simulator/events/:id', { schema: IdParams }, async (req, reply) => {
    const sandbox = platform.simulator?.sandbox;
    if (!sandbox) return notFound(req, reply);
    sandbox.reload();
    const { id } = req.params;
    const e = sandbox.events().find((x) => x.id === id);
    if (!e) return notFound(req, reply);
    const person = sandbox.people().find((p) => p.id === e.personId);
    const view: pages.SimEventView = {
      id: e.id,
      type: e.type,
      at: e.at,
      personId: e.personId,
      personName: person?.trueName ?? '',
      revoked: e.revoked.map((r) => ({
        issuerId: r.issuerId,
        serial: r.serial,
        kind: r.kind,
        medium: r.medium,
        reason: r.reason,
        revokedAt: r.revokedAt,
      })),
      issued: e.issued.map((r) => ({ issuerId: r.issuerId, serial: r.serial, kind: r.kind, medium: r.medium })),
      ...(e.changes ? { changes: e.changes } : {}),
    };
    return html(reply, 200, pages.simEventPage(ctxOf(req), view));
  });
}
