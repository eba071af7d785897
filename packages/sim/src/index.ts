// @kakunin/sim — the simulated J-LIS: roots, residents, real-profile certificates and life events
// in a persistent sandbox. Never trusted outside sandbox mode (O=JPKI-SIM, policy OIDs under SIM_ARC).

import 'reflect-metadata';

export {
  initSandbox,
  openSandbox,
  Sandbox,
  certificateStatus,
  DEFAULT_SANDBOX_DIR,
  DEFAULT_SEED,
  LIFE_EVENTS,
  type LifeEventType,
  type InitOptions,
  type EventOptions,
  type RootInfo,
  type CertificateStatus,
} from './sandbox.js';
export { toPem } from '@kakunin/jpki';
export {
  SimCa,
  defaultRootSpecs,
  DEFAULT_BASE_URL,
  signTbsWith,
  keyIdentifier,
  newSubjectId,
  type RootSpec,
  type SimRoot,
  type StoredRoot,
  type Basic4Input,
  type AuthHolder,
  type IssueOptions,
  type IssuedCertificate,
} from './ca.js';
export {
  generateRsaKeyPair,
  generateRsaKeyPairSync,
  writeRsaKeyPool,
  rewindKeyPool,
  KEY_POOL_ENV,
  type RsaKeyPair,
} from './keys.js';
export { caRdns, caAltRdns, crlDistributionPointRdns, nameDer, rdnsText, MEDIUM_OU, type Rdns } from './names.js';
export { MUNICIPALITIES, municipality, municipalityOfAddress, type Municipality } from './municipalities.js';
export {
  SUBSTITUTES,
  toCertificateText,
  jpkiBirthDate,
  eraDigit,
  fifthBirthdayNotAfter,
  type SexCode,
} from './japanese.js';
export { SIGN_CERT_MIN_AGE, type Person, type CardPins } from './people.js';
export {
  CRL_REASON_CODE,
  type RevocationReason,
  type EventType,
  type CertRef,
  type CertificateRecord,
  type Revocation,
  type CertLink,
  type CertPair,
  type SimEvent,
  type RootRecord,
  type SandboxState,
} from './state.js';
export {
  SimError,
  isSimError,
  SandboxNotFound,
  SandboxCorrupt,
  SandboxExists,
  SandboxLocked,
  UnknownPerson,
  UnknownIssuer,
  NoSuchCertificate,
  InvalidEvent,
  InvalidInput,
  type SimErrorCode,
} from './errors.js';
export * from './services/index.js';
export { startSimulatedJlis, type SimulatedJlis, type SimulatedJlisOptions, type StartSimulatedJlis } from './jlis.js';
