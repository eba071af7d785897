// Services of the simulated J-LIS: CRLs (and, next, OCSP, linkage and their HTTP server).
export { buildCrl, buildSyntheticCrl, crlIssuerOf, sandboxCrl, currentCardRoot, syntheticSerial, syntheticReason, type CrlIssuer, type CrlEntryInput, type CrlOptions } from './crl.js';
