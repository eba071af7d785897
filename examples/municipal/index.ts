export { startMunicipal } from './app.js';
export { MUNICIPAL_RP, MUNICIPAL_CLAIMS } from './kakunin.js';
export {
  SERVICES,
  childCovered,
  readChildcareForm,
  receiveApplication,
  issueCard,
  revokeCard,
  type Application,
  type IdCard,
  type PortalState,
} from './municipal.js';
