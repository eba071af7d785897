// @kakunin/server/testing — what the tests and benchmarks outside this package share: a sandbox
// platform and a holder who signs, OIDC flows, test databases, claim helpers; and the internals
// they drive directly. Not the package's API: it changes with the tests.
export {
  createTestSandbox,
  startTestPlatform,
  Browser,
  holderLinkOf,
  holderRespond,
  signAsHolder,
  authorizationRequest,
  startFlow,
  finishFlow,
  REDIRECT,
  type TestPlatform,
  type HolderOptions,
  type Flow,
  type AuthorizationOptions,
} from './platform.js';
export {
  createPostgresDatabase,
  openTestDatabase,
  prepareDatabaseTemplates,
  ENGINES,
  type Engine,
  type TestDatabase,
} from './databases.js';
export { listedClaims, receivedNames, statementNames, jwtPayload } from './shared-claims.js';
export {
  WALLET,
  WALLET_REDIRECT,
  CREDENTIAL_SCOPE,
  CONFIGURATION_ID,
  BATCH_SIZE,
  PROOF_TYP,
  holderKey,
  walletAuthorization,
  cNonce,
  proofJwt,
  credentialRequest,
  requestCredential,
  redeemOffer,
  type HolderKey,
  type ProofOptions,
  type CredentialAnswer,
} from './credentials.js';

// Internals a test or a benchmark drives without a server around them.
export { normaliseRelyingParty, sealRelyingPartySecrets } from '../../src/relying-parties.js';
export { loadAdminToken, platformSecrets } from '../../src/secrets.js';
export { signWebhook, checkWebhookSignature, WEBHOOK_QUEUE } from '../../src/webhooks/index.js';
export { runRevocationMonitor, CrlMonitor, CRL_MONITOR_QUEUE } from '../../src/monitor/index.js';
export { Worker } from '../../src/jobs/index.js';
export { mintNonce, nonceKey, NONCE_SECONDS } from '../../src/credentials/nonces.js';
