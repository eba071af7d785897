// @kakunin/web — the pages people see. Server-rendered HTML (page scripts in browser/, served by URL),
// Japanese first with English alongside, accessible and usable on a phone.
export {
  escapeHtml,
  html,
  raw,
  joinHtml,
  tr,
  page,
  langFrom,
  jstWords,
  jstTime,
  type Html,
  type HtmlValue,
  type SafeValue,
  type Lang,
  type PageOptions,
} from './html.js';
export { ERROR_ADVICE, adviceFor, errorBox, type ErrorAdvice } from './errors.js';
export {
  ERROR_CODES,
  PLATFORM_ERROR_CODES,
  AGENT_ERROR_CODES,
  OIDC_ERROR_CODES,
  isErrorCode,
  type ErrorCode,
  type PlatformErrorCode,
  type AgentErrorCode,
  type OidcErrorCode,
} from './error-codes.js';
export {
  ceremonyPage,
  consentPage,
  errorPage,
  homePage,
  type CeremonyPageInput,
  type ConsentPageInput,
  type ErrorPageInput,
  type SharedItem,
} from './ceremony.js';
export { CEREMONY_SCRIPT_PATH, ceremonyScript, ceremonyScriptUrl, type PageScript } from './scripts.js';
export { holderLinkPage, type HolderLinkPageInput } from './holder-link.js';
export * from './admin/index.js';
