// A persistent simulated J-LIS: roots, residents, their certificates and life events, all under
// one directory that survives process restarts.

import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { CertKind, Medium } from '@kakunin/jpki/oids';
import { DEFAULT_BASE_URL, defaultRootSpecs, SimCa, type IssuedCertificate } from './ca.js';
import { generateRsaKeyPair } from './keys.js';
import {
  InvalidEvent,
  InvalidInput,
  NoSuchCertificate,
  SandboxCorrupt,
  SandboxExists,
  UnknownPerson,
} from './errors.js';
import {
  ageAt,
  birthdayIn,
  DAY_MS,
  endOfJstDay,
  fifthBirthdayNotAfter,
  lastBirthdayBefore,
  truncateToSecond,
} from './japanese.js';
import { municipality, municipalityOfAddress } from './municipalities.js';
import {
  generatePeople,
  otherMunicipality,
  randomAddress,
  randomFamilyName,
  Rng,
  SIGN_CERT_MIN_AGE,
  withNameAndAddress,
  type Person,
} from './people.js';
import {
  readState,
  STATE_FILE,
  STATE_FORMAT,
  withLock,
  writeFileAtomic,
  writeState,
  type CertificateRecord,
  type CertLink,
  type CertPair,
  type CertRef,
  type EventType,
  type Revocation,
  type RevocationReason,
  type SandboxState,
  type SimEvent,
} from './state.js';

export const DEFAULT_SANDBOX_DIR = '.kakunin/sim';
export const DEFAULT_SEED = 'kakunin';

/** The life events a sandbox accepts (`issue` is recorded by initSandbox only). */
export type LifeEventType = Exclude<EventType, 'issue'>;
export const LIFE_EVENTS: readonly LifeEventType[] = ['renew', 'move', 'rename', 'lose', 'expire'];

const MEDIA: readonly Medium[] = ['card', 'android', 'iphone'];

export interface InitOptions {
  /** Default `./.kakunin/sim`. */
  dir?: string;
  /** Base of the OCSP URI written into every certificate (`<baseUrl>/ocsp`); default `http://127.0.0.1:8900`. */
  baseUrl?: string;
  /** Seed of the people registry (names, dates, addresses, PINs); keys and serials are random. */
  seed?: string | number;
  /** The instant root validity and issuance dates are computed from; default the current time. */
  now?: Date;
  /** Replace an existing sandbox. */
  force?: boolean;
}

export interface RootInfo {
  readonly id: string;
  readonly kind: CertKind;
  readonly medium: Medium;
  readonly generation: number;
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly pem: string;
  readonly der: Buffer;
}

export interface EventOptions {
  /** When the event happens; default now. Must not precede the person's previous event. */
  at?: Date;
  /** renew / lose / expire: the media affected (default `['card']`). */
  media?: readonly Medium[];
  /** move: the new true address (default: a generated one in another municipality). */
  address?: string;
  /** move: the municipality of the new address (derived from a known address when omitted). */
  municipalityCode?: string;
  /** rename: the new true name (default: another family name, same given name). */
  name?: string;
  /** move / rename: also re-issue revoked smartphone signing certificates (default false: the holder re-applies on the phone). */
  reissueSmartphone?: boolean;
}

export type CertificateStatus = 'valid' | 'revoked' | 'expired' | 'notYetValid';

/** Status of a recorded certificate at an instant (revocation wins over expiry). */
export function certificateStatus(record: CertificateRecord, at: Date = new Date()): CertificateStatus {
  if (record.revocation && Date.parse(record.revocation.revokedAt) <= at.getTime()) return 'revoked';
  if (Date.parse(record.notAfter) < at.getTime()) return 'expired';
  if (Date.parse(record.notBefore) > at.getTime()) return 'notYetValid';
  return 'valid';
}

const refOf = (r: CertRef): CertRef => ({ issuerId: r.issuerId, serial: r.serial, kind: r.kind, medium: r.medium });
const keyOf = (issuerId: string, serial: string): string => `${issuerId}/${serial.toUpperCase()}`;

/** Everything a change reads and writes: the live state plus the CA that signs. */
interface Store {
  readonly dir: string;
  readonly ca: SimCa;
  state: SandboxState;
  index: Map<string, CertificateRecord>;
}

function current(store: Store, personId: string, kind: CertKind, medium: Medium): CertificateRecord | undefined {
  // Records are appended in issuance order, so the last match is what the card or phone holds now.
  const certs = store.state.certificates;
  for (let i = certs.length - 1; i >= 0; i--) {
    const c = certs[i]!;
    if (c.personId === personId && c.kind === kind && c.medium === medium) return c;
  }
  return undefined;
}

/**
 * One event being applied: changes the in-memory state and stages the new files. The caller
 * writes the files (each atomically) and then state.json, so a crash leaves at worst unreferenced
 * files, never a state that names a missing file.
 */
class Change {
  readonly revoked: Revocation[] = [];
  readonly issued: CertRef[] = [];
  readonly links: CertLink[] = [];
  readonly pairs: CertPair[] = [];
  private readonly files: { path: string; data: string | Buffer; mode?: number }[] = [];
  private readonly store: Store;
  readonly eventId: string;
  readonly type: EventType;
  readonly personId: string;
  readonly at: Date;

  constructor(store: Store, eventId: string, type: EventType, personId: string, at: Date) {
    this.store = store;
    this.eventId = eventId;
    this.type = type;
    this.personId = personId;
    this.at = at;
  }

  private person(): Person {
    const p = this.store.state.people.find((x) => x.id === this.personId);
    if (!p) throw new UnknownPerson(this.personId);
    return p;
  }

  /** Issues a certificate for the person's current data and records it. */
  async issue(
    kind: CertKind,
    medium: Medium,
    o: { notBefore?: Date; notAfter?: Date; key?: { privateKey: KeyObject; publicKey: KeyObject } } = {},
  ): Promise<CertificateRecord> {
    const person = this.person();
    const notBefore = o.notBefore ?? this.at;
    const root = this.store.ca.issuerFor(kind, medium, notBefore);
    let notAfter = o.notAfter ?? fifthBirthdayNotAfter(person.birthDate, notBefore);
    if (!o.notAfter && medium !== 'card') {
      // A smartphone certificate does not outlive the card's signing certificate it was issued from.
      const cardSign = current(this.store, person.id, 'sign', 'card');
      if (cardSign && Date.parse(cardSign.notAfter) < notAfter.getTime()) notAfter = new Date(cardSign.notAfter);
    }
    if (notAfter > root.notAfter) notAfter = root.notAfter;
    const key = o.key ?? (await generateRsaKeyPair());
    const options = {
      publicKey: key.publicKey,
      medium,
      issuerId: root.id,
      notBefore,
      notAfter,
      municipality: person.municipalityCode,
    };
    const cert: IssuedCertificate =
      kind === 'auth'
        ? await this.store.ca.issueAuth(person, options)
        : await this.store.ca.issueSign(
            {
              name: person.name,
              nameSubstitute: person.nameSubstitute,
              sex: person.sex,
              birthDate: person.birthDate,
              address: person.address,
              addressSubstitute: person.addressSubstitute,
            },
            options,
          );
    const record: CertificateRecord = {
      issuerId: cert.issuerId,
      serial: cert.serial,
      kind,
      medium,
      personId: person.id,
      subjectId: cert.subjectId,
      municipalityCode: cert.municipalityCode,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
      file: `certs/${cert.issuerId}/${cert.serial}.der`,
      keyFile: `keys/${person.id}/${cert.issuerId}-${cert.serial}.pem`,
      eventId: this.eventId,
    };
    this.files.push({ path: record.file, data: cert.der });
    this.files.push({
      path: record.keyFile,
      data: key.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
      mode: 0o600,
    });
    this.store.state.certificates.push(record);
    this.store.index.set(keyOf(record.issuerId, record.serial), record);
    this.issued.push(refOf(record));
    return record;
  }

  /** Revokes a certificate that is still usable; revoked or expired ones are left alone. */
  revoke(record: CertificateRecord, reason: RevocationReason): boolean {
    if (certificateStatus(record, this.at) !== 'valid') return false;
    const revokedAt = this.at.toISOString();
    record.revocation = { reason, revokedAt, eventId: this.eventId };
    this.revoked.push({ ...refOf(record), personId: record.personId, reason, revokedAt, eventId: this.eventId });
    return true;
  }

  link(old: CertificateRecord, successor: CertificateRecord): void {
    old.successor = { issuerId: successor.issuerId, serial: successor.serial };
    this.links.push({ old: refOf(old), new: refOf(successor) });
  }

  /** Records the person's auth↔sign pairing on a medium, if it holds both. */
  pair(medium: Medium): void {
    const auth = current(this.store, this.personId, 'auth', medium);
    const sign = current(this.store, this.personId, 'sign', medium);
    if (auth && sign) this.pairs.push({ personId: this.personId, medium, auth: refOf(auth), sign: refOf(sign) });
  }

  /** Replaces each held certificate of the given kinds on a medium, linking old → new. */
  async replace(
    medium: Medium,
    kinds: readonly CertKind[],
    reason: RevocationReason,
    o: { notBefore?: Date; notAfter?: Date } = {},
  ): Promise<void> {
    for (const kind of kinds) {
      const old = current(this.store, this.personId, kind, medium);
      const fresh = await this.issue(kind, medium, o);
      if (old) {
        this.revoke(old, reason);
        this.link(old, fresh);
      }
    }
    this.pair(medium);
  }

  event(changes?: SimEvent['changes']): SimEvent {
    return {
      id: this.eventId,
      type: this.type,
      at: this.at.toISOString(),
      personId: this.personId,
      revoked: this.revoked,
      issued: this.issued,
      links: this.links,
      pairs: this.pairs,
      ...(changes ? { changes } : {}),
    };
  }

  writeFiles(dir: string): void {
    for (const f of this.files) writeFileAtomic(join(dir, f.path), f.data, f.mode);
  }
}

const eventId = (n: number): string => `e${String(n).padStart(4, '0')}`;

function isSandboxDir(dir: string): boolean {
  return existsSync(join(dir, STATE_FILE));
}

/**
 * Creates a sandbox: roots, the people registry and their initial certificates (one `issue`
 * event per person and medium). Built in a temporary directory and renamed into place, so a
 * crash never leaves a half-initialised sandbox.
 */
export async function initSandbox(options: InitOptions = {}): Promise<Sandbox> {
  const dir = resolve(options.dir ?? DEFAULT_SANDBOX_DIR);
  const now = truncateToSecond(options.now ?? new Date());
  const seed = String(options.seed ?? DEFAULT_SEED);
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(baseUrl))
    throw new InvalidInput(`baseUrl "${baseUrl}" is not an http(s) URL`);
  if (existsSync(dir)) {
    const empty = statSync(dir).isDirectory() && readdirSync(dir).length === 0;
    if (!empty && !(options.force && isSandboxDir(dir))) {
      // force replaces a sandbox, never an unrelated directory.
      if (!isSandboxDir(dir))
        throw new InvalidInput(`${dir} exists and is not a simulator sandbox; refusing to replace it`);
      throw new SandboxExists(dir);
    }
  }

  const specs = defaultRootSpecs(now);
  const plans = generatePeople(
    seed,
    now,
    specs.find((s) => s.id === 'sim-authca02')!.notBefore,
    specs.find((s) => s.medium !== 'card')!.notBefore,
  );
  // One issue event per person and medium, in time order.
  const issues = plans
    .flatMap((p) => [
      {
        person: p.person,
        medium: 'card' as Medium,
        at: p.cardIssuedAt,
        kinds: (p.hasSignCertificate ? ['auth', 'sign'] : ['auth']) as CertKind[],
      },
      ...p.smartphones.map((s) => ({
        person: p.person,
        medium: s.medium as Medium,
        at: s.issuedAt,
        kinds: ['auth', 'sign'] as CertKind[],
      })),
    ])
    .sort((a, b) => a.at.getTime() - b.at.getTime());
  // Every key (roots and people) is generated at once: the thread pool keeps all cores busy.
  const [ca, keys] = await Promise.all([
    SimCa.create(specs, baseUrl),
    Promise.all(issues.flatMap((i) => i.kinds.map(() => generateRsaKeyPair()))),
  ]);
  const state: SandboxState = {
    format: STATE_FORMAT,
    revision: 1,
    createdAt: new Date().toISOString(),
    now: now.toISOString(),
    seed,
    baseUrl,
    roots: ca.roots().map((r) => ({
      id: r.id,
      kind: r.kind,
      medium: r.medium,
      generation: r.generation,
      serial: r.serial,
      notBefore: r.notBefore.toISOString(),
      notAfter: r.notAfter.toISOString(),
      file: `certs/roots/${r.id}.der`,
      keyFile: `keys/ca/${r.id}.pem`,
    })),
    people: plans.map((p) => p.person),
    certificates: [],
    events: [],
  };
  const store: Store = { dir, ca, state, index: new Map() };

  const changes: Change[] = [];
  for (const [n, i] of issues.entries()) {
    const change = new Change(store, eventId(n + 1), 'issue', i.person.id, truncateToSecond(i.at));
    for (const kind of i.kinds) await change.issue(kind, i.medium, { key: keys.shift()! });
    change.pair(i.medium);
    state.events.push(change.event());
    changes.push(change);
  }

  const tmp = join(dirname(dir), `.${basename(dir)}.init-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp, { recursive: true });
  try {
    for (const r of ca.roots()) {
      const rec = state.roots.find((x) => x.id === r.id)!;
      writeFileAtomic(join(tmp, rec.file), r.der);
      writeFileAtomic(join(tmp, rec.file.replace(/\.der$/, '.pem')), r.pem);
      writeFileAtomic(join(tmp, rec.keyFile), r.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
    }
    for (const c of changes) c.writeFiles(tmp);
    writeState(tmp, state);
    if (existsSync(dir)) {
      // Directories cannot be swapped atomically: a crash between the renames leaves the old
      // sandbox under `.<name>.init-….old` next to it, never a mixture of the two.
      const old = `${tmp}.old`;
      renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, dir);
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return new Sandbox(dir, state, ca);
}

/** Opens an existing sandbox (default `./.kakunin/sim`). Throws SandboxNotFound / SandboxCorrupt. */
export function openSandbox(dir: string = DEFAULT_SANDBOX_DIR): Sandbox {
  const abs = resolve(dir);
  const state = readState(abs);
  return new Sandbox(abs, state, loadCa(abs, state));
}

function loadCa(dir: string, state: SandboxState): SimCa {
  const roots = state.roots.map((r) => {
    try {
      const privateKey = createPrivateKey(readFileSync(join(dir, r.keyFile)));
      return {
        ...r,
        notBefore: new Date(r.notBefore),
        notAfter: new Date(r.notAfter),
        der: readFileSync(join(dir, r.file)),
        privateKey,
        publicKey: createPublicKey(privateKey),
      };
    } catch (e) {
      throw new SandboxCorrupt(dir, `root ${r.id}: ${(e as Error).message}`);
    }
  });
  return SimCa.restore(roots, state.baseUrl);
}

export class Sandbox {
  private store: Store;
  private readonly keyCache = new Map<string, KeyObject>();
  readonly dir: string;

  /** Use initSandbox / openSandbox. */
  constructor(dir: string, state: SandboxState, ca: SimCa) {
    this.dir = dir;
    this.store = { dir, ca, state, index: new Map() };
    this.adopt(state);
  }

  /** The CA itself, for tests (re-signing tampered certificates, …): what it issues directly is not recorded. */
  get ca(): SimCa {
    return this.store.ca;
  }

  private adopt(state: SandboxState): void {
    this.store.state = state;
    this.store.index = new Map(state.certificates.map((c) => [keyOf(c.issuerId, c.serial), c]));
    for (const r of state.roots)
      this.ca.reserveSerials(
        r.id,
        state.certificates.filter((c) => c.issuerId === r.id).map((c) => c.serial),
      );
  }

  /** Re-reads state.json if another process changed it (or re-initialised the sandbox); returns whether it did. */
  reload(): boolean {
    const fresh = readState(this.dir);
    const { state } = this.store;
    if (fresh.createdAt !== state.createdAt) {
      // Replaced with force: new roots and keys.
      this.store = { dir: this.dir, ca: loadCa(this.dir, fresh), state: fresh, index: new Map() };
      this.keyCache.clear();
    } else if (fresh.revision === state.revision) {
      return false;
    }
    this.adopt(fresh);
    return true;
  }

  get baseUrl(): string {
    return this.store.state.baseUrl;
  }

  get seed(): string {
    return this.store.state.seed;
  }

  /** The instant the sandbox was initialised for (roots and initial issuance are relative to it). */
  get now(): Date {
    return new Date(this.store.state.now);
  }

  /** Incremented by every change. */
  get revision(): number {
    return this.store.state.revision;
  }

  people(): readonly Person[] {
    return this.store.state.people;
  }

  person(id: string): Person {
    const p = this.store.state.people.find((x) => x.id === id);
    if (!p) throw new UnknownPerson(id);
    return p;
  }

  roots(): readonly RootInfo[] {
    return this.ca.roots().map((r) => ({
      id: r.id,
      kind: r.kind,
      medium: r.medium,
      generation: r.generation,
      serial: r.serial,
      notBefore: r.notBefore,
      notAfter: r.notAfter,
      pem: r.pem,
      der: r.der,
    }));
  }

  /** Every certificate ever issued in the sandbox, in issuance order (optionally filtered). */
  certificates(
    filter: { personId?: string; kind?: CertKind; medium?: Medium; issuerId?: string } = {},
  ): readonly CertificateRecord[] {
    return this.store.state.certificates.filter(
      (c) =>
        (filter.personId === undefined || c.personId === filter.personId) &&
        (filter.kind === undefined || c.kind === filter.kind) &&
        (filter.medium === undefined || c.medium === filter.medium) &&
        (filter.issuerId === undefined || c.issuerId === filter.issuerId),
    );
  }

  /** The record of one certificate by issuer root id and serial (hex). */
  certificateRecord(issuerId: string, serial: string): CertificateRecord {
    const r = this.store.index.get(keyOf(issuerId, serial));
    if (!r) throw new NoSuchCertificate(`${issuerId}/${serial}`, 'not issued in this sandbox');
    return r;
  }

  certificateDer(issuerId: string, serial: string): Buffer {
    return readFileSync(join(this.dir, this.certificateRecord(issuerId, serial).file));
  }

  /** The record of the certificate a person's card or phone holds now (possibly revoked or expired). */
  currentCertificateRecord(personId: string, kind: CertKind, medium: Medium = 'card'): CertificateRecord {
    this.person(personId);
    const r = current(this.store, personId, kind, medium);
    if (!r) {
      const why =
        kind === 'sign' && medium === 'card'
          ? `no signing certificate is issued to this person (under ${SIGN_CERT_MIN_AGE})`
          : `none issued for ${medium}`;
      throw new NoSuchCertificate(`${kind}/${medium} of ${personId}`, why);
    }
    return r;
  }

  /** DER of the certificate a person's card or phone holds now. */
  currentCertificate(personId: string, kind: CertKind, medium: Medium = 'card'): Buffer {
    return readFileSync(join(this.dir, this.currentCertificateRecord(personId, kind, medium).file));
  }

  /** The private key matching `currentCertificate` (it will live in the virtual card). */
  privateKey(personId: string, kind: CertKind, medium: Medium = 'card'): KeyObject {
    const file = this.currentCertificateRecord(personId, kind, medium).keyFile;
    let key = this.keyCache.get(file);
    if (!key) {
      key = createPrivateKey(readFileSync(join(this.dir, file)));
      this.keyCache.set(file, key);
    }
    return key;
  }

  events(): readonly SimEvent[] {
    return this.store.state.events;
  }

  /** All revocations, in the order they happened (for CRLs and OCSP). */
  revocations(): readonly Revocation[] {
    return this.store.state.events.flatMap((e) => e.revoked);
  }

  /** Old → new certificate links (証明書新旧紐付け). */
  links(): readonly CertLink[] {
    return this.store.state.events.flatMap((e) => e.links);
  }

  /** Auth ↔ sign pairings (証明書紐付け), every pairing that ever held. */
  pairs(): readonly CertPair[] {
    return this.store.state.events.flatMap((e) => e.pairs);
  }

  /**
   * Applies a life event to a person and persists it (under the sandbox lock, on the freshest
   * state). Returns the recorded event: what was revoked (with reason and time), issued and linked.
   */
  async applyEvent(personId: string, type: LifeEventType, options: EventOptions = {}): Promise<SimEvent> {
    if (!LIFE_EVENTS.includes(type)) throw new InvalidEvent(`unknown event type "${type}"`);
    return withLock(this.dir, async () => {
      this.reload();
      try {
        const { change, event } = await this.runEvent(personId, type, options);
        change.writeFiles(this.dir);
        this.store.state.events.push(event);
        this.store.state.revision++;
        writeState(this.dir, this.store.state);
        return event;
      } catch (e) {
        // state.json is untouched (at worst unreferenced files were written): drop the in-memory changes.
        this.adopt(readState(this.dir));
        throw e;
      }
    });
  }

  private async runEvent(
    personId: string,
    type: LifeEventType,
    options: EventOptions,
  ): Promise<{ change: Change; event: SimEvent }> {
    const person = this.person(personId);
    const at = truncateToSecond(options.at ?? new Date());
    const last = this.store.state.events.filter((e) => e.personId === personId).at(-1);
    if (last && Date.parse(last.at) > at.getTime())
      throw new InvalidEvent(
        `${type} at ${at.toISOString()} precedes ${personId}'s previous event ${last.id} at ${last.at}`,
      );
    const change = new Change(this.store, eventId(this.store.state.events.length + 1), type, personId, at);
    const media = orderMedia(options.media ?? ['card']);
    let changes: SimEvent['changes'];

    switch (type) {
      case 'renew':
        for (const medium of media) {
          const adult = ageAt(person.birthDate, at) >= SIGN_CERT_MIN_AGE;
          if (medium !== 'card') this.requireCardSign(personId, at, `renew ${medium}`);
          await change.replace(medium, adult ? ['auth', 'sign'] : ['auth'], 'superseded');
        }
        break;
      case 'lose': {
        let any = false;
        for (const medium of media) {
          for (const kind of ['auth', 'sign'] as const) {
            const rec = current(this.store, personId, kind, medium);
            if (rec && change.revoke(rec, 'keyCompromise')) any = true;
          }
        }
        if (!any) throw new InvalidEvent(`${personId} holds no valid certificate on ${media.join(', ')} to revoke`);
        break;
      }
      case 'expire':
        for (const medium of media) await this.expire(change, person, medium, at);
        break;
      case 'move':
      case 'rename': {
        // Generated addresses and names are reproducible: seeded by the sandbox seed and the event id.
        const rng = new Rng(`${this.seed}/${change.eventId}`);
        changes = type === 'move' ? this.moveTo(person, options, rng) : this.renameTo(person, options, rng);
        // The signing certificate carries the 4 attributes and is revoked; the auth certificate survives (spec §7.5).
        for (const medium of MEDIA) {
          const old = current(this.store, personId, 'sign', medium);
          if (!old || !change.revoke(old, 'affiliationChanged')) continue;
          const reissue =
            medium === 'card' || (options.reissueSmartphone === true && this.hasValidCardSign(personId, at));
          if (!reissue) continue;
          change.link(old, await change.issue('sign', medium));
          change.pair(medium);
        }
        break;
      }
    }
    return { change, event: change.event(changes) };
  }

  private hasValidCardSign(personId: string, at: Date): boolean {
    const rec = current(this.store, personId, 'sign', 'card');
    return rec !== undefined && certificateStatus(rec, at) === 'valid';
  }

  private requireCardSign(personId: string, at: Date, what: string): void {
    // Smartphone certificates are issued from the card's signing certificate (spec §7.6).
    if (!this.hasValidCardSign(personId, at))
      throw new InvalidEvent(`${what} needs a valid card signing certificate`, { personId });
  }

  /** Replaces the certificates on a medium by ones that expired at the last birthday before `at`. */
  private async expire(change: Change, person: Person, medium: Medium, at: Date): Promise<void> {
    const kinds = (['auth', 'sign'] as const).filter((k) => current(this.store, person.id, k, medium));
    if (kinds.length === 0) throw new InvalidEvent(`${person.id} holds no ${medium} certificates to expire`);
    const expiry = lastBirthdayBefore(person.birthDate, at);
    const notAfter = endOfJstDay(expiry);
    // Issued a month after the birthday five years before, so notAfter is its 5th birthday (10:00 JST).
    const issued =
      Date.parse(`${birthdayIn(person.birthDate, Number(expiry.slice(0, 4)) - 5)}T01:00:00Z`) + 30 * DAY_MS;
    const root = this.ca.issuerFor(kinds[0]!, medium, notAfter);
    const notBefore = new Date(
      Math.max(issued, root.notBefore.getTime() + 1000, Date.parse(`${person.birthDate}T00:00:00Z`)),
    );
    if (notBefore >= notAfter) throw new InvalidEvent(`${person.id} is too young for an expired certificate`);
    await change.replace(medium, kinds, 'superseded', { notBefore, notAfter });
  }

  private moveTo(person: Person, o: EventOptions, rng: Rng): SimEvent['changes'] {
    let code = o.municipalityCode;
    let address = o.address;
    if (address && !code) {
      code = municipalityOfAddress(address)?.code;
      if (!code) throw new InvalidEvent(`cannot tell the municipality of "${address}": pass municipalityCode`);
    }
    const m = code ? municipality(code) : otherMunicipality(rng, person.municipalityCode);
    address ??= randomAddress(rng, m);
    if (address === person.trueAddress) throw new InvalidEvent(`${person.id} already lives at ${address}`);
    this.updatePerson({ ...person, trueAddress: address, municipalityCode: m.code });
    return {
      trueAddress: { from: person.trueAddress, to: address },
      ...(m.code !== person.municipalityCode
        ? { municipalityCode: { from: person.municipalityCode, to: m.code } }
        : {}),
    };
  }

  private renameTo(person: Person, o: EventOptions, rng: Rng): SimEvent['changes'] {
    const given = person.trueName.split('\u3000')[1] ?? '';
    const name = o.name ?? `${randomFamilyName(rng, person.trueName)}\u3000${given}`;
    if (!name.trim()) throw new InvalidEvent('the new name is empty');
    if (name === person.trueName) throw new InvalidEvent(`${person.id} is already named ${name}`);
    this.updatePerson({ ...person, trueName: name });
    return { trueName: { from: person.trueName, to: name } };
  }

  private updatePerson(p: Person): void {
    const updated = withNameAndAddress(p);
    this.store.state.people = this.store.state.people.map((x) => (x.id === p.id ? updated : x));
  }
}

/** Card first: smartphone certificates are issued from the card's signing certificate. */
function orderMedia(media: readonly Medium[]): Medium[] {
  const unknown = media.filter((m) => !MEDIA.includes(m));
  if (unknown.length > 0) throw new InvalidEvent(`unknown medium ${unknown.join(', ')}`);
  return MEDIA.filter((m) => media.includes(m));
}
