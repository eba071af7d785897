// Prometheus gauges of the CRL sources, computed at scrape time from the refresher's status (labels:
// the source's URL or path and its issuer label; no personal data).

import { Gauge, type Registry } from 'prom-client';
import type { CrlSourceStatus } from './refresher.js';

const LABELS = ['source', 'issuer'] as const;

export function registerCrlMetrics(
  registry: Registry,
  status: () => CrlSourceStatus[],
  clock: () => Date = () => new Date(),
): void {
  const gauge = (name: string, help: string, value: (s: CrlSourceStatus, now: number) => number | null): void => {
    new Gauge({
      name,
      help,
      labelNames: LABELS,
      registers: [registry],
      collect() {
        this.reset();
        const now = clock().getTime();
        for (const s of status()) {
          const v = value(s, now);
          if (v !== null) this.set({ source: s.location, issuer: s.issuer ?? '' }, v);
        }
      },
    });
  };
  const seconds = (d: Date | null): number | null => (d ? d.getTime() / 1000 : null);
  gauge('kakunin_crl_age_seconds', 'Seconds since the thisUpdate of the CRL in use, by source', (s, now) =>
    s.thisUpdate ? (now - s.thisUpdate.getTime()) / 1000 : null,
  );
  gauge(
    'kakunin_crl_next_update_seconds',
    'Seconds until the nextUpdate of the CRL in use (negative once past), by source',
    (s, now) => (s.nextUpdate ? (s.nextUpdate.getTime() - now) / 1000 : null),
  );
  gauge(
    'kakunin_crl_usable',
    '1 while the CRL of the source answers lookups (until nextUpdate + grace), else 0',
    (s) => (s.state === 'fresh' || s.state === 'grace' ? 1 : 0),
  );
  gauge(
    'kakunin_crl_last_refresh_success_timestamp_seconds',
    'When a refresh of the source last got a valid CRL (Unix time)',
    (s) => seconds(s.lastSuccessAt),
  );
  gauge(
    'kakunin_crl_last_refresh_failure_timestamp_seconds',
    'When a refresh of the source last failed (Unix time)',
    (s) => seconds(s.lastFailureAt),
  );
}
