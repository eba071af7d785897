// @kakunin/card — the My Number Card (JPKI) card layer: APDUs, typed status-word errors, the
// MyNumberCard operations, and PC/SC + in-process transports. Never reads the My Number.
export {
  encodeApdu,
  decodeApdu,
  parseResponse,
  swHex,
  hexBytes,
  describeCommand,
  type CommandApdu,
  type ResponseApdu,
} from './apdu.js';
export {
  CardError,
  isCardError,
  WrongPin,
  PinBlocked,
  SecurityStatusNotSatisfied,
  FileNotFound,
  NotAMyNumberCard,
  CardRemoved,
  ReaderNotFound,
  PcscUnavailable,
  PCSC_PACKAGES,
  Timeout,
  UnexpectedStatus,
  InvalidPinFormat,
  TruncatedResponse,
  IntegrityCheckFailed,
  InvalidInput,
  MyNumberRefused,
  PIN_LABEL,
  CARD_ERROR_CODES,
  type CardErrorCode,
  type PinKind,
} from './errors.js';
export {
  MyNumberCard,
  AID,
  JPKI_EF,
  CARD_INFO_EF,
  TOKEN_LABELS,
  type Application,
  type TokenKind,
  type TokenInfo,
  type PinStatus,
  type ApduStats,
  type OperationStats,
  type MyNumberCardOptions,
} from './card.js';
export { PIN_MAX_TRIES, pinBytes } from './pins.js';
export {
  BaseTransport,
  InProcessTransport,
  redactCommand,
  type Transport,
  type ApduExchange,
  type ApduListener,
  type ApduProcessor,
} from './transport.js';
export {
  PcscTransport,
  listReaders,
  watchReaders,
  pcscError,
  type PcscOpenOptions,
  type ReaderInfo,
  type ReaderEvent,
} from './pcsc.js';
export {
  parseCvc,
  verifyCvc,
  cvcKeyId,
  keyIdText,
  rsaPublicKey,
  productionCvcCaKeys,
  cardInfoCvcAnchors,
  type Cvc,
  type CvcAnchor,
} from './cvc.js';
export {
  parseBasicInfoEf,
  parseIntegrityEf,
  verifyCardInfoIntegrity,
  SEX_LABEL,
  type BasicInfo,
  type SexCode,
  type ParsedBasicInfo,
  type IntegrityRecord,
} from './card-info.js';
export { readTlv, readTlvs, tlvTotalLength, type Tlv } from './tlv.js';
export { maskMyNumber, maskMyNumberText, isValidMyNumber, myNumberCheckDigit } from './mask.js';
