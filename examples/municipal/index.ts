export { startMunicipal } from './app.js';
export {
  Verifier,
  PresentationRefused,
  residentQuery,
  refusalWords,
  vctOf,
  ASKED,
  CREDENTIAL_QUERY_ID,
  VERIFYING_SERVICES,
  type PresentationRequest,
  type VerifyingService,
} from './verifier.js';
export { createWalletOffer, OfferRefused, type WalletOffer } from './credential-offer.js';
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
  type PresentationLog,
} from './municipal.js';
