// Services of the simulated J-LIS: CRLs, OCSP responder, linkage API and their HTTP server.
export {
  buildCrl,
  buildSyntheticCrl,
  crlIssuerOf,
  sandboxCrl,
  currentCardRoot,
  distributionPointsOf,
  distributionPointText,
  syntheticSerial,
  syntheticReason,
  type CrlIssuer,
  type CrlEntryInput,
  type CrlOptions,
} from './crl.js';
export { OcspResponder } from './ocsp.js';
export { latestCertificate, certificatePair, type LatestAnswer } from './linkage.js';
export { startSimServices, type SimServices, type SimServicesOptions } from './server.js';
