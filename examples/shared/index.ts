// Shared building blocks of the demo relying parties.
export {
  Demo,
  type DemoOptions,
  type DemoRegistration,
  type RunningDemo,
  type Session,
  type SignInContext,
  type IdentityContext,
  type Flash,
} from './app.js';
export { KakuninClient, type Pending, type SignedIn } from './oidc.js';
export { readVerifiedClaims, need, type Verified } from './claims.js';
// Words for people: times in Japan time, codes and stored Japanese values in the page's language.
export { jstWords, dayWords } from './japan.js';
export { rowHtml } from './layout.js';
export {
  REVOCATION_REASONS,
  reasonWords,
  reasonHtml,
  codeNote,
  OIDC_ERRORS,
  oidcErrorWords,
  Phrasebook,
  storedHtml,
  recordNoteHtml,
  type RecordNote,
} from './labels.js';
export { verifyKakuninSignature, type KakuninEvent } from './webhooks.js';
export { JsonStore } from './store.js';
export {
  PREFECTURES,
  FUKUI,
  prefectureOf,
  ageOn,
  dayAgeIsReached,
  dayInJapan,
  formatJst,
  retentionUntil,
  grouped,
} from './japan.js';
export { t, pick, row, badge, escapeHtml, type Lang } from './layout.js';
export {
  endRelationship,
  lastRetainedDay,
  relationshipEndWords,
  RelationshipEndRefused,
  type RelationshipEnded,
} from './relationships.js';
