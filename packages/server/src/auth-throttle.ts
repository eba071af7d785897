// Limits on failed authentication attempts (client authentication at the token endpoint, admin
// sign-in), counted in the database so that every process sharing it enforces one limit: a fixed
// window per key (`client:<id>`, `address:<ip>`, …) that starts at the first failure. Only failures
// count, so legitimate traffic never pays more than the one SELECT that checks the window.

import type { Queryable } from './db/sql.js';

export interface AuthLimits {
  /** Failed client authentications per client id and window (0: no limit). */
  perClient: number;
  /** Failed attempts per remote address and window, for each of the token endpoint and admin sign-in (0: no limit). */
  perAddress: number;
  windowSeconds: number;
}

/** A counter and its limit, e.g. `{ key: 'token:client:rp_1', limit: 10 }`. */
export interface ThrottleKey {
  key: string;
  limit: number;
}

export class AuthThrottle {
  private readonly db: Queryable;
  readonly limits: AuthLimits;
  constructor(db: Queryable, limits: AuthLimits) {
    this.db = db;
    this.limits = limits;
  }

  /** The keys of one attempt: per address always, per client when one is named and known. */
  keys(scope: 'token' | 'admin', address: string, clientId?: string): ThrottleKey[] {
    return [
      { key: `${scope}:address:${address}`, limit: this.limits.perAddress },
      ...(clientId !== undefined ? [{ key: `${scope}:client:${clientId}`, limit: this.limits.perClient }] : []),
    ].filter((k) => k.limit > 0);
  }

  /** Seconds until an attempt under these keys may be made again; 0 when it may be made now. */
  async retryAfter(keys: readonly ThrottleKey[]): Promise<number> {
    if (!keys.length) return 0;
    const rows = await this.db.query<{ key: string; failures: number; seconds_left: number }>(
      `SELECT key, failures, ceil(extract(epoch FROM window_start + make_interval(secs => $2::double precision) - now()))::int AS seconds_left
         FROM auth_failures WHERE key IN (SELECT jsonb_array_elements_text($1::jsonb)) AND window_start > now() - make_interval(secs => $2::double precision)`,
      [keys.map((k) => k.key), this.limits.windowSeconds],
    );
    const limit = new Map(keys.map((k) => [k.key, k.limit]));
    return Math.max(
      0,
      ...rows.filter((r) => r.failures >= limit.get(r.key)!).map((r) => Math.max(1, Number(r.seconds_left))),
    );
  }

  /**
   * One attempt under the limit: refused without running `check` while the keys are over their
   * limit (`retryAfter` seconds); otherwise `check` decides, and a failure is counted.
   */
  async attempt(
    keys: readonly ThrottleKey[],
    check: () => boolean | Promise<boolean>,
  ): Promise<{ ok: boolean; retryAfter?: number }> {
    const retryAfter = await this.retryAfter(keys);
    if (retryAfter > 0) return { ok: false, retryAfter };
    if (await check()) return { ok: true };
    await this.failed(keys);
    return { ok: false };
  }

  async failed(keys: readonly ThrottleKey[]): Promise<void> {
    for (const { key } of keys) {
      await this.db.query(
        `INSERT INTO auth_failures (key, window_start, failures) VALUES ($1, now(), 1)
         ON CONFLICT (key) DO UPDATE SET
           failures = CASE WHEN auth_failures.window_start > now() - make_interval(secs => $2::double precision) THEN auth_failures.failures + 1 ELSE 1 END,
           window_start = CASE WHEN auth_failures.window_start > now() - make_interval(secs => $2::double precision) THEN auth_failures.window_start ELSE now() END`,
        [key, this.limits.windowSeconds],
      );
    }
  }

  /** Counters whose window ended (run with the hourly purge). */
  async purge(): Promise<void> {
    await this.db.query(
      'DELETE FROM auth_failures WHERE window_start < now() - make_interval(secs => $1::double precision)',
      [this.limits.windowSeconds],
    );
  }
}
