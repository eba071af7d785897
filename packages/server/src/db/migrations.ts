// The one schema of Kakunin, for PGlite and PostgreSQL alike. Migrations are append-only: never edit
// one that has shipped, add the next. They run in one transaction under an advisory lock so that
// several server processes starting together apply each exactly once.

import { certIdHashesOfDer } from '../monitor/watch.js';
import { fillV1LeafHashes } from '../records/chain.js';
import type { Database, Queryable } from './sql.js';

export interface Migration {
  readonly id: number;
  readonly name: string;
  readonly sql: string;
  /** Work SQL cannot do (e.g. parsing certificates), run after `sql` in the same transaction. */
  readonly run?: (tx: Queryable) => Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: 'platform',
    sql: `
-- Shared secrets (signing keys, cookie keys, pairwise salt) so that every process uses the same ones.
CREATE TABLE kv_secrets (
  name text PRIMARY KEY,
  value jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- oidc-provider's models (sessions, interactions, codes, tokens, grants), one row per model instance.
CREATE TABLE oidc_store (
  model text NOT NULL,
  id text NOT NULL,
  payload jsonb NOT NULL,
  grant_id text,
  user_code text,
  uid text,
  expires_at timestamptz,
  consumed_at timestamptz,
  PRIMARY KEY (model, id)
);
CREATE INDEX oidc_store_grant ON oidc_store (grant_id) WHERE grant_id IS NOT NULL;
CREATE INDEX oidc_store_uid ON oidc_store (uid) WHERE uid IS NOT NULL;
CREATE INDEX oidc_store_expiry ON oidc_store (expires_at);

CREATE TABLE relying_parties (
  client_id text PRIMARY KEY,
  client_secret text NOT NULL,
  name text NOT NULL,
  redirect_uris jsonb NOT NULL,
  ceremonies jsonb NOT NULL,
  framework text NOT NULL,
  purpose text NOT NULL,
  purpose_en text,
  webhook_url text,
  webhook_secret text NOT NULL,
  token_endpoint_auth_method text NOT NULL DEFAULT 'client_secret_basic',
  created_at timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);

-- Platform subjects: one per person as far as JPKI can tell (auth and signing certificates linked
-- through renewals). Never keyed by the basic 4 info or a certificate serial.
CREATE TABLE subjects (
  id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE subject_certificates (
  issuer_id text NOT NULL,
  serial text NOT NULL,
  kind text NOT NULL,
  medium text NOT NULL,
  subject_id text NOT NULL REFERENCES subjects (id),
  first_seen_at timestamptz NOT NULL DEFAULT now(),
  -- set once linkage showed this certificate has a successor (its successors are mapped too)
  succeeded_at timestamptz,
  PRIMARY KEY (issuer_id, serial)
);
CREATE INDEX subject_certificates_subject ON subject_certificates (subject_id);

CREATE TABLE ceremonies (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('login', 'identity')),
  rp_client_id text NOT NULL REFERENCES relying_parties (client_id),
  interaction_uid text,
  purpose text NOT NULL,
  to_be_signed bytea NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'completed', 'failed')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  finished_at timestamptz,
  subject_id text REFERENCES subjects (id),
  record_id text,
  error_code text,
  error_message text,
  result jsonb
);
CREATE INDEX ceremonies_interaction ON ceremonies (interaction_uid);

-- Single-use challenges. "used_at IS NULL" is flipped by one UPDATE, so two processes can never both
-- consume a nonce.
CREATE TABLE nonces (
  value text PRIMARY KEY,
  ceremony_id text NOT NULL REFERENCES ceremonies (id),
  rp_client_id text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

-- The OIDC grant a finished ceremony led to (which verified claims a token may carry).
CREATE TABLE grant_ceremonies (
  grant_id text PRIMARY KEY,
  ceremony_id text NOT NULL REFERENCES ceremonies (id),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Verification records: append-only and hash-chained (see records/). A purge may only blank the
-- payload of a record past its retention; the chain covers payload_hash, so it still verifies.
CREATE TABLE records (
  seq bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  rp_client_id text,
  ceremony_id text,
  subject_id text,
  framework text NOT NULL,
  outcome text NOT NULL,
  payload jsonb,
  payload_hash text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  purged_at timestamptz
);
CREATE INDEX records_rp_time ON records (rp_client_id, created_at);
CREATE INDEX records_subject ON records (subject_id);

CREATE FUNCTION records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'records are append-only: DELETE is not allowed';
  END IF;
  IF NEW.seq IS DISTINCT FROM OLD.seq OR NEW.id IS DISTINCT FROM OLD.id OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR NEW.rp_client_id IS DISTINCT FROM OLD.rp_client_id OR NEW.ceremony_id IS DISTINCT FROM OLD.ceremony_id
     OR NEW.subject_id IS DISTINCT FROM OLD.subject_id OR NEW.framework IS DISTINCT FROM OLD.framework
     OR NEW.outcome IS DISTINCT FROM OLD.outcome OR NEW.payload_hash IS DISTINCT FROM OLD.payload_hash
     OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash OR NEW.hash IS DISTINCT FROM OLD.hash
     OR OLD.purged_at IS NOT NULL OR NEW.purged_at IS NULL OR NEW.payload IS NOT NULL THEN
    RAISE EXCEPTION 'records are append-only: only a retention purge may blank a payload';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON records
  FOR EACH ROW EXECUTE FUNCTION records_append_only();

-- The business relationship between an RP and a subject; retention counts from its end.
CREATE TABLE relationships (
  rp_client_id text NOT NULL REFERENCES relying_parties (client_id),
  subject_id text NOT NULL REFERENCES subjects (id),
  started_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  PRIMARY KEY (rp_client_id, subject_id)
);

-- Signing certificates under revocation watch (one row per RP relationship that relies on one).
CREATE TABLE monitored_certificates (
  id bigserial PRIMARY KEY,
  rp_client_id text NOT NULL REFERENCES relying_parties (client_id),
  subject_id text NOT NULL REFERENCES subjects (id),
  record_id text NOT NULL,
  issuer_id text NOT NULL,
  serial text NOT NULL,
  certificate bytea NOT NULL,
  not_after timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'good',
  last_checked_at timestamptz,
  revoked_at timestamptz,
  revocation_reason text,
  UNIQUE (rp_client_id, issuer_id, serial)
);

CREATE TABLE events (
  id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  type text NOT NULL,
  rp_client_id text,
  subject_id text,
  record_id text,
  data jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX events_rp_time ON events (rp_client_id, created_at);

-- A PostgreSQL-backed job queue: workers claim rows with FOR UPDATE SKIP LOCKED.
CREATE TABLE jobs (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  payload jsonb NOT NULL DEFAULT '{}'::jsonb,
  run_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  locked_until timestamptz,
  done_at timestamptz,
  last_error text,
  dedupe_key text UNIQUE
);
CREATE INDEX jobs_ready ON jobs (queue, run_at) WHERE done_at IS NULL;

CREATE TABLE webhook_deliveries (
  id bigserial PRIMARY KEY,
  event_id text NOT NULL REFERENCES events (id),
  rp_client_id text NOT NULL,
  url text NOT NULL,
  attempt integer NOT NULL,
  attempted_at timestamptz NOT NULL DEFAULT now(),
  status_code integer,
  error text,
  delivered boolean NOT NULL
);
CREATE INDEX webhook_deliveries_event ON webhook_deliveries (event_id);
`,
  },
  {
    id: 3,
    name: 'jobs-failure-and-listing',
    sql: `
-- A job that gave up is done (never claimed again) and failed; completed jobs keep failed_at NULL.
ALTER TABLE jobs ADD COLUMN failed_at timestamptz;
ALTER TABLE jobs ADD COLUMN created_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX jobs_failed ON jobs (queue, failed_at) WHERE failed_at IS NOT NULL;
-- Admin listings: deliveries per RP, monitored certificates per RP and status.
CREATE INDEX webhook_deliveries_rp ON webhook_deliveries (rp_client_id, id);
CREATE INDEX monitored_certificates_status ON monitored_certificates (status, id);
`,
  },
  {
    id: 4,
    name: 'ceremony progress',
    sql: `
-- What the holder side reported (reading the card, or a card error such as a wrong PIN) and when the
-- platform started verifying, for the live progress of the ceremony page.
ALTER TABLE ceremonies ADD COLUMN stage text NOT NULL DEFAULT 'waiting';
ALTER TABLE ceremonies ADD COLUMN card_error jsonb;
`,
  },
  {
    id: 5,
    name: 'nonce lookup by ceremony',
    sql: `CREATE INDEX nonces_ceremony ON nonces (ceremony_id);`,
  },
  {
    id: 6,
    name: 'record chain head',
    sql: `
-- The head of the record chain in one row. An append updates it and inserts the record in one
-- statement: the row lock serialises appenders (all processes) and, under READ COMMITTED, the
-- UPDATE re-reads the newest committed head after waiting, so the chain cannot fork. It replaces an
-- advisory lock taken several round trips before the insert and held for all of them.
CREATE TABLE record_chain_head (
  id integer PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL
);
INSERT INTO record_chain_head (id, seq, prev_hash, hash)
SELECT 1, coalesce((SELECT max(seq) FROM records), 0), '',
       coalesce((SELECT hash FROM records ORDER BY seq DESC LIMIT 1), '${'0'.repeat(64)}');
`,
  },
  {
    id: 7,
    name: 'crl sources',
    sql: `
-- The newest good CRL of each configured source (URL or file) and how its last refresh went. One
-- process fetches (a job); every process installs the stored CRL into its own lookups. A CRL is
-- only ever replaced by a newer one (the upsert's WHERE), so no race can put an older one back.
CREATE TABLE crl_sources (
  source text PRIMARY KEY,            -- 'url:<url>' or 'file:<path>'
  issuer text,                        -- label of the trust anchor that signed the stored CRL
  authority_key_id text,
  crl_number text,                    -- upper-case hex
  this_update timestamptz,
  next_update timestamptz,
  sha256 text,
  der bytea,
  fetched_at timestamptz,             -- when the stored CRL was fetched
  last_attempt_at timestamptz,
  last_success_at timestamptz,        -- last attempt that got a valid CRL (new or the same one)
  last_failure_at timestamptz,
  last_error text                     -- of the last attempt; NULL when it succeeded
);
`,
  },
  {
    id: 8,
    name: 'monitor keeps CertIDs, not certificates; OCSP answers for reuse',
    sql: `
-- The revocation monitor keeps what OCSP and CRLs need of a certificate: issuer generation
-- (issuer_id), serial, and the OCSP CertID's SHA-1 hashes of the issuer's name and key. run()
-- computes them from the stored DER and rewrites every row without it; then the column goes.
ALTER TABLE monitored_certificates ADD COLUMN issuer_name_hash bytea;
ALTER TABLE monitored_certificates ADD COLUMN issuer_key_hash bytea;
ALTER TABLE monitored_certificates ALTER COLUMN certificate DROP NOT NULL;

-- Good OCSP answers that ceremonies may reuse within their kind's window (ocsp-answers.ts).
CREATE TABLE ocsp_answers (
  issuer_id text NOT NULL,
  serial text NOT NULL,
  checked_at timestamptz NOT NULL,
  this_update timestamptz,
  next_update timestamptz,
  PRIMARY KEY (issuer_id, serial)
);
CREATE INDEX ocsp_answers_checked ON ocsp_answers (checked_at);
`,
    run: async (tx) => {
      for (;;) {
        const rows = await tx.query<{ id: string; certificate: Uint8Array }>(
          'SELECT id, certificate FROM monitored_certificates WHERE certificate IS NOT NULL ORDER BY id LIMIT 500',
        );
        for (const row of rows) {
          const { issuerNameHash, issuerKeyHash } = certIdHashesOfDer(row.certificate, String(row.id));
          await tx.query(
            'UPDATE monitored_certificates SET issuer_name_hash = $2, issuer_key_hash = $3, certificate = NULL WHERE id = $1',
            [row.id, issuerNameHash, issuerKeyHash],
          );
        }
        if (rows.length < 500) break;
      }
      await tx.exec(`
ALTER TABLE monitored_certificates ALTER COLUMN issuer_name_hash SET NOT NULL;
ALTER TABLE monitored_certificates ALTER COLUMN issuer_key_hash SET NOT NULL;
ALTER TABLE monitored_certificates DROP COLUMN certificate;
`);
    },
  },
  {
    id: 9,
    name: 'failed authentication counters',
    sql: `
-- Failed client authentications and admin sign-ins per key ('token:client:<id>', 'token:address:<ip>',
-- 'admin:address:<ip>') in a fixed window from the first failure (auth-throttle.ts), shared by all
-- processes. Client secrets and the admin token become verifiers, and the secrets that must stay
-- usable are sealed under the master key, at start-up (secrets.ts): that needs the master key,
-- which SQL does not have.
CREATE TABLE auth_failures (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  failures integer NOT NULL
);
`,
  },
  {
    id: 10,
    name: 'CRL-driven revocation monitor; J-LIS usage counters',
    sql: `
-- The monitor matches each CRL's new entries against the watched certificates by issuer and serial.
CREATE INDEX monitored_certificates_issuer_serial ON monitored_certificates (issuer_id, serial);
-- The CRL distribution point the certificate names (J-LIS partitions its CRLs per municipality):
-- which CRL covers it. A municipality's name, nothing of the holder. NULL for rows watched before.
ALTER TABLE monitored_certificates ADD COLUMN crl_distribution_point text;

-- Per CRL scope (issuer, and distribution point for a partitioned CRL): the last CRL the monitor
-- processed, with its DER, so the next one is diffed against it (and not against whatever this
-- process saw last) across restarts and processes (monitor/crl-monitor.ts).
CREATE TABLE crl_monitor_state (
  scope text PRIMARY KEY,             -- '<issuer label>' or '<issuer label>|<distribution point DN>'
  issuer text NOT NULL,
  distribution_point text,
  crl_number text,
  this_update timestamptz NOT NULL,
  sha256 text NOT NULL,
  der bytea NOT NULL,
  entries integer NOT NULL,
  processed_at timestamptz NOT NULL
);

-- Every J-LIS revocation lookup the platform makes, per day (UTC), RP, ceremony kind and purpose
-- (usage.ts): for reconciling J-LIS's charges and re-billing RPs. '' where there is no RP or kind.
CREATE TABLE jlis_usage (
  day date NOT NULL,
  rp_client_id text NOT NULL,
  ceremony_kind text NOT NULL,
  purpose text NOT NULL,              -- proofing | login | monitoring | crl-refresh
  lookup text NOT NULL,               -- ocsp | crl | linkage
  requests bigint NOT NULL DEFAULT 0, -- sent to J-LIS
  reused bigint NOT NULL DEFAULT 0,   -- answered from the OCSP answer-reuse window instead
  PRIMARY KEY (day, rp_client_id, ceremony_kind, purpose, lookup)
);
`,
  },
  {
    id: 11,
    name: 'records as a Merkle-tree transparency log',
    sql: `
-- Records become the leaves of an RFC 9162 Merkle tree (records/log.ts). A ceremony inserts its
-- record with its leaf hash and touches no shared row; the sequencer (one at a time, under an
-- advisory lock) later gives committed leaves contiguous indices in arrival (seq) order, stores the
-- new full subtree nodes and a signed checkpoint, all in one transaction. Rows of the v1 hash chain
-- stay as they are (prev_hash, hash) and become the first leaves, in chain order.
ALTER TABLE records ADD COLUMN entry_version smallint NOT NULL DEFAULT 1;
ALTER TABLE records ALTER COLUMN entry_version SET DEFAULT 2;
ALTER TABLE records ADD COLUMN leaf_hash bytea;
ALTER TABLE records ADD COLUMN leaf_index bigint UNIQUE;
ALTER TABLE records ADD COLUMN integrated_at timestamptz;
ALTER TABLE records ALTER COLUMN prev_hash DROP NOT NULL;
ALTER TABLE records ALTER COLUMN hash DROP NOT NULL;
CREATE INDEX records_unintegrated ON records (seq) WHERE leaf_index IS NULL;
DROP TABLE record_chain_head;

-- Full subtrees of 2^level leaves (level >= 1) starting at leaf idx * 2^level; leaves are records.leaf_hash.
CREATE TABLE log_nodes (
  level smallint NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (level, idx)
);
-- Every signed checkpoint (C2SP tlog-checkpoint), with the right edge of its tree to extend it.
CREATE TABLE log_checkpoints (
  tree_size bigint PRIMARY KEY,
  root_hash bytea NOT NULL,
  note text NOT NULL,
  edge bytea NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE OR REPLACE FUNCTION records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'records are append-only: DELETE is not allowed';
  END IF;
  IF NEW.seq IS DISTINCT FROM OLD.seq OR NEW.id IS DISTINCT FROM OLD.id OR NEW.created_at IS DISTINCT FROM OLD.created_at
     OR NEW.rp_client_id IS DISTINCT FROM OLD.rp_client_id OR NEW.ceremony_id IS DISTINCT FROM OLD.ceremony_id
     OR NEW.subject_id IS DISTINCT FROM OLD.subject_id OR NEW.framework IS DISTINCT FROM OLD.framework
     OR NEW.outcome IS DISTINCT FROM OLD.outcome OR NEW.payload_hash IS DISTINCT FROM OLD.payload_hash
     OR NEW.prev_hash IS DISTINCT FROM OLD.prev_hash OR NEW.hash IS DISTINCT FROM OLD.hash
     OR NEW.entry_version IS DISTINCT FROM OLD.entry_version OR NEW.leaf_hash IS DISTINCT FROM OLD.leaf_hash
     OR (OLD.leaf_index IS NOT NULL AND NEW.leaf_index IS DISTINCT FROM OLD.leaf_index)
     OR (OLD.integrated_at IS NOT NULL AND NEW.integrated_at IS DISTINCT FROM OLD.integrated_at) THEN
    RAISE EXCEPTION 'records are append-only: only the sequencer may index a leaf, and only a retention purge may blank a payload';
  END IF;
  IF OLD.leaf_index IS NULL AND NEW.leaf_index IS NOT NULL THEN
    -- The sequencer integrates the leaf: nothing else may change with it.
    IF NEW.payload IS DISTINCT FROM OLD.payload OR NEW.purged_at IS DISTINCT FROM OLD.purged_at OR NEW.integrated_at IS NULL THEN
      RAISE EXCEPTION 'records are append-only: integrating a leaf changes nothing else';
    END IF;
    RETURN NEW;
  END IF;
  IF OLD.purged_at IS NOT NULL OR NEW.purged_at IS NULL OR NEW.payload IS NOT NULL THEN
    RAISE EXCEPTION 'records are append-only: only a retention purge may blank a payload';
  END IF;
  RETURN NEW;
END $$;

CREATE FUNCTION log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER log_nodes_append_only BEFORE UPDATE OR DELETE ON log_nodes FOR EACH ROW EXECUTE FUNCTION log_append_only();
CREATE TRIGGER log_checkpoints_append_only BEFORE UPDATE OR DELETE ON log_checkpoints FOR EACH ROW EXECUTE FUNCTION log_append_only();
`,
    // The v1 rows' leaf hashes: SQL cannot rebuild the canonical JSON they were hashed over.
    run: async (tx) => {
      await tx.query('ALTER TABLE records DISABLE TRIGGER records_append_only');
      await fillV1LeafHashes(tx);
      await tx.query('ALTER TABLE records ENABLE TRIGGER records_append_only');
      await tx.query('ALTER TABLE records ALTER COLUMN leaf_hash SET NOT NULL');
    },
  },
  {
    id: 12,
    name: 'one round trip per ceremony outcome; relationships know the pairwise sub of the RP',
    sql: `
-- The read before a verification looks up the submitted certificate by serial (its issuer is known
-- only once the chain is validated): the subject it belongs to and any reusable OCSP answer.
CREATE INDEX subject_certificates_serial ON subject_certificates (serial);
CREATE INDEX ocsp_answers_serial ON ocsp_answers (serial);

-- An RP names a holder by the pairwise sub of its ID tokens (never the platform's subject id): the
-- relationship keeps it, so that /rp/v1/relationships/end finds the subject without scanning. The
-- pairwise salt is not available to SQL: rows written before are filled in batches after start-up
-- and, for one RP, when its sub is not found (records/retention.ts fillRelationshipSubs); a
-- ceremony's write sets it from p->>'rp_sub' (kept when a process that sends none writes).
ALTER TABLE relationships ADD COLUMN rp_sub text;
CREATE UNIQUE INDEX relationships_rp_sub ON relationships (rp_client_id, rp_sub);
CREATE INDEX relationships_rp_sub_missing ON relationships (rp_client_id, subject_id) WHERE rp_sub IS NULL;

-- A ceremony's outcome in one round trip (ceremony-store.ts): consume the nonce (the serialisation
-- point), bind the subject, (re)open the relationship, finish the ceremony, watch the signing
-- certificate, insert the record's leaf. One statement, so all or nothing. A refusal raises with a
-- SQLSTATE of our own: KK001 nonce already used, KK002 ceremony already finished, KK003 another
-- ceremony bound this certificate to another subject first (the message is that subject).
CREATE FUNCTION kakunin_finish_ceremony(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  m jsonb := p->'map';
  w jsonb := p->'watch';
  r jsonb := p->'record';
  bound text;
  uid text;
  watched bigint;
BEGIN
  UPDATE nonces SET used_at = now() WHERE value = p->>'nonce' AND used_at IS NULL;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the nonce has already been used' USING ERRCODE = 'KK001';
  END IF;
  IF p->>'outcome' = 'verified' THEN
    IF jsonb_typeof(m) = 'object' THEN
      INSERT INTO subjects (id) VALUES (p->>'subject_id') ON CONFLICT (id) DO NOTHING;
      INSERT INTO subject_certificates (issuer_id, serial, kind, medium, subject_id)
        VALUES (m->>'issuer_id', m->>'serial', m->>'kind', m->>'medium', p->>'subject_id') ON CONFLICT (issuer_id, serial) DO NOTHING;
      SELECT subject_id INTO bound FROM subject_certificates WHERE issuer_id = m->>'issuer_id' AND serial = m->>'serial';
      IF bound IS DISTINCT FROM p->>'subject_id' THEN
        RAISE EXCEPTION '%', bound USING ERRCODE = 'KK003';
      END IF;
      IF jsonb_typeof(p->'partner') = 'object' THEN
        INSERT INTO subject_certificates (issuer_id, serial, kind, medium, subject_id)
          VALUES (p->'partner'->>'issuer_id', p->'partner'->>'serial', p->'partner'->>'kind', p->'partner'->>'medium', p->>'subject_id') ON CONFLICT (issuer_id, serial) DO NOTHING;
      END IF;
    END IF;
    INSERT INTO relationships (rp_client_id, subject_id, started_at, rp_sub) VALUES (p->>'rp_client_id', p->>'subject_id', (p->>'now')::timestamptz, p->>'rp_sub')
      ON CONFLICT (rp_client_id, subject_id) DO UPDATE SET ended_at = NULL, rp_sub = COALESCE(EXCLUDED.rp_sub, relationships.rp_sub);
    UPDATE ceremonies SET state = 'completed', finished_at = (p->>'now')::timestamptz, subject_id = p->>'subject_id', record_id = r->>'id', result = p->'result'
      WHERE id = p->>'ceremony_id' AND state = 'pending' RETURNING interaction_uid INTO uid;
  ELSE
    UPDATE ceremonies SET state = 'failed', finished_at = (p->>'now')::timestamptz, record_id = r->>'id', error_code = p->>'error_code', error_message = p->>'error_message'
      WHERE id = p->>'ceremony_id' AND state = 'pending' RETURNING interaction_uid INTO uid;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'the ceremony is already finished' USING ERRCODE = 'KK002';
  END IF;
  IF uid IS NOT NULL THEN
    PERFORM pg_notify('kakunin_ceremony', uid);
  END IF;
  IF jsonb_typeof(w) = 'object' THEN
    INSERT INTO monitored_certificates (rp_client_id, subject_id, record_id, issuer_id, serial, issuer_name_hash, issuer_key_hash, not_after, crl_distribution_point)
      VALUES (w->>'rp_client_id', p->>'subject_id', r->>'id', w->>'issuer_id', w->>'serial', decode(w->>'issuer_name_hash', 'hex'), decode(w->>'issuer_key_hash', 'hex'), (w->>'not_after')::timestamptz, w->>'crl_distribution_point')
      ON CONFLICT (rp_client_id, issuer_id, serial) DO UPDATE
        SET record_id = EXCLUDED.record_id, crl_distribution_point = EXCLUDED.crl_distribution_point,
            status = CASE WHEN monitored_certificates.status = 'ended' THEN 'good' ELSE monitored_certificates.status END
      RETURNING id INTO watched;
  END IF;
  INSERT INTO records (id, created_at, rp_client_id, ceremony_id, subject_id, framework, outcome, payload, payload_hash, leaf_hash)
    VALUES (r->>'id', (r->>'created_at')::timestamptz, r->>'rp_client_id', r->>'ceremony_id', r->>'subject_id', r->>'framework', r->>'outcome', r->'payload', r->>'payload_hash', decode(r->>'leaf_hash', 'hex'));
  RETURN jsonb_build_object('watched', watched);
END $$;
`,
  },
  {
    id: 13,
    name: 'a ceremony keeps what its authorization releases',
    sql: `
-- The claims (by name, claims.ts SHARED_CLAIM_NAMES) this ceremony's authorization releases, computed
-- from its claims parameter and scope when it is created: shown on the pages and to the holder app,
-- named in the signed statement, and the most a token can carry. NULL: a ceremony from before (its
-- kind's full list).
ALTER TABLE ceremonies ADD COLUMN shares jsonb;
`,
  },
  {
    id: 14,
    name: 'digital ID credentials, their status lists and proof nonces',
    sql: `
-- One status list per credential signing key (kid): the IETF Token Status List its credentials point
-- to. Indexes are drawn at random (no issuance order to read from a list).
CREATE TABLE credential_status_lists (
  id text PRIMARY KEY,
  kid text NOT NULL,
  size integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- An issued credential (one copy of a batch): where it came from (ceremony, 確認記録, the signing certificate) and its
-- status entry; never its claim values. status: 0 valid, 1 invalid (the certificate was revoked).
CREATE TABLE credentials (
  id text PRIMARY KEY,
  issued_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  rp_client_id text NOT NULL REFERENCES relying_parties (client_id),
  subject_id text NOT NULL REFERENCES subjects (id),
  ceremony_id text NOT NULL,
  record_id text NOT NULL,
  issuer_id text NOT NULL,
  serial text NOT NULL,
  holder_jkt text NOT NULL,
  status_list_id text NOT NULL REFERENCES credential_status_lists (id),
  status_idx integer NOT NULL,
  status smallint NOT NULL DEFAULT 0,
  status_changed_at timestamptz,
  status_event_id text,
  -- The copies of one issuance (batch issuance: each bound to its own holder key, shown once).
  batch_index smallint NOT NULL DEFAULT 0,
  UNIQUE (status_list_id, status_idx),
  UNIQUE (ceremony_id, batch_index)
);
CREATE INDEX credentials_certificate ON credentials (issuer_id, serial);
-- c_nonce values of the nonce endpoint: each proof of possession uses one, once.
CREATE TABLE credential_nonces (
  nonce text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
-- Pre-authorized codes of credential offers: an RP's verified identity ceremony, redeemable once.
CREATE TABLE credential_offers (
  code_hash text PRIMARY KEY,
  ceremony_id text NOT NULL,
  rp_client_id text NOT NULL REFERENCES relying_parties (client_id),
  tx_code_hash text,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);
`,
  },
];

/** Applies, in `MIGRATIONS` order, every migration not applied yet; ids may have gaps (a later id can land before an earlier one). */
export async function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  await db.transaction(async (tx) => {
    // Serialises concurrent starters; released at commit.
    await tx.query('SELECT pg_advisory_xact_lock(7418541)');
    await tx.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const done = new Set((await tx.query<{ id: number }>('SELECT id FROM schema_migrations')).map((r) => Number(r.id)));
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await tx.exec(m.sql);
      await m.run?.(tx);
      await tx.query('INSERT INTO schema_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
    }
  });
}
