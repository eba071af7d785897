// Prometheus metrics (no personal data in labels: outcomes, kinds, sources only).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly ceremonies = new Counter({
    name: 'kakunin_ceremonies_total',
    help: 'Finished ceremonies by kind and outcome',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly verificationSeconds = new Histogram({
    name: 'kakunin_verification_seconds',
    help: 'Time to verify a holder response (profile, chain, signature, revocation)',
    labelNames: ['kind'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly revocationAgeSeconds = new Gauge({
    name: 'kakunin_revocation_source_age_seconds',
    help: 'Age (now − thisUpdate) of the last revocation answer, by source',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly webhookDeliveries = new Counter({
    name: 'kakunin_webhook_deliveries_total',
    help: 'Webhook delivery attempts by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly monitorChecks = new Counter({
    name: 'kakunin_monitor_checks_total',
    help: 'Revocation monitor re-checks by status',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly jlisLookups = new Counter({
    name: 'kakunin_jlis_lookups_total',
    help: 'J-LIS revocation lookups (OCSP requests, CRL downloads, linkage calls) by ceremony kind, purpose and outcome (requested: sent to J-LIS; reused: answered from the OCSP answer-reuse window). Per RP: kakunin usage, /admin/v1/usage',
    labelNames: ['lookup', 'kind', 'purpose', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly crlMonitor = new Counter({
    name: 'kakunin_crl_monitor_crls_total',
    help: 'CRLs the CRL-driven revocation monitor was given, by issuer and outcome (processed, already-processed, refused: older than the last processed CRL of its scope)',
    labelNames: ['issuer', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly crlMonitorMatches = new Counter({
    name: 'kakunin_crl_monitor_matches_total',
    help: 'Watched certificates found revoked by a new CRL entry, by issuer',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
  });
  readonly monitorUncovered = new Counter({
    name: 'kakunin_monitor_uncovered_total',
    help: 'Certificates put under watch that no installed CRL covers (in CRL monitoring mode their revocation would not be seen)',
    labelNames: ['issuer'] as const,
    registers: [this.registry],
  });

  readonly recordsIntegrationSeconds = new Histogram({
    name: 'kakunin_records_integration_seconds',
    help: 'Time from a record being written to its inclusion in a signed checkpoint of the records log',
    buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10],
    registers: [this.registry],
  });
  readonly recordsTreeSize = new Gauge({
    name: 'kakunin_records_tree_size',
    help: 'Leaves in the latest signed checkpoint of the records log (as integrated by this process)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'kakunin_process_' });
  }
}
