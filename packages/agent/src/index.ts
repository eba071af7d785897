// @kakunin/agent — the local holder agent (`kakunin agent`) and the holder-protocol client shared
// with `kakunin holder` (docs/holder-protocol.md).
export { startAgent, AgentConfigError, DEFAULT_AGENT_PORT, AGENT_PROTOCOL, type AgentOptions, type AgentCard, type RunningAgent } from './agent.js';
export {
  HOLDER_PROTOCOL,
  HOLDER_PATH,
  fetchCeremony,
  parseHolderUrl,
  checkView,
  assertAnswerable,
  reportProgress,
  reportCardError,
  cardErrorReport,
  progressUrl,
  postResponse,
  completeCeremony,
  HolderError,
  isHolderError,
  InvalidHolderUrl,
  PlatformUnreachable,
  NotAHolderCeremony,
  CeremonyNotPending,
  CeremonyExpired,
  PlatformRejected,
  type HolderView,
  type HolderCard,
  type SharedItem,
  type CardErrorReport,
  type ProgressReport,
  type PlatformErrorBody,
  type CompletedCeremony,
  type FetchCeremonyOptions,
} from './holder-client.js';
export { terminalPinPrompt, readMasked, PinCancelled, type PinQuestion } from './prompt.js';
