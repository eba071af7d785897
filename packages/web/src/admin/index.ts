// The admin console's pages (server-rendered; the platform's routes/admin-console.ts serves them).
export {
  adminPage,
  shell,
  href,
  csrfField,
  postButton,
  jst,
  table,
  messageBox,
  type AdminContext,
  type AdminSection,
} from './layout.js';
export { loginPage, type LoginPageInput } from './login.js';
export {
  rpListPage,
  rpCreatedPage,
  redirectUriLabel,
  FRAMEWORKS,
  type AdminRp,
  type RpFormValues,
  type RpListPageInput,
  type RpCreatedPageInput,
} from './relying-parties.js';
export {
  recordListPage,
  recordDetailPage,
  logVerifyPage,
  BACKLOG_LATE_SECONDS,
  type RecordFilters,
  type AdminRecordRow,
  type RecordsPageInput,
  type RecordsLogInput,
  type RecordDetailInput,
  type RecordLogStatusInput,
  type LogVerifyPageInput,
} from './records.js';
export { payloadList, fieldLabel } from './record-fields.js';
export { relationshipBox, type AdminRelationship } from './relationship.js';
export {
  eventsPage,
  WATCH_STATUSES,
  type AdminEvent,
  type AdminDelivery,
  type AdminWatched,
  type EventsPageInput,
} from './events.js';
export { revocationSourcesPage, type AdminCrlSource, type RevocationSourcesPageInput } from './revocation-sources.js';
export {
  simulatorPage,
  simEventPage,
  SIM_ACTIONS,
  type SimPerson,
  type SimEventView,
  type SimCertRef,
  type SignCertificateState,
} from './simulator.js';
