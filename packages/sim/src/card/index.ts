// Virtual My Number Cards for the simulator: the APDU-level card, its PIN state store, the
// 券面事項入力補助AP data builders, the vpcd bridge into a real pcscd, and a private pcscd fixture.
export {
  VirtualCard,
  TOKEN_LABEL,
  MY_NUMBER_CARD_ATR,
  AIDS,
  type VirtualCardOptions,
  type TokenMedium,
  type MyNumberProbe,
} from './virtual-card.js';
export {
  MemoryPinStateStore,
  FilePinStateStore,
  type PinStateStore,
  type CardPinState,
  type PinName,
} from './state-store.js';
export {
  createCvcAuthority,
  defaultCvcAuthority,
  cvcAnchorOf,
  cvcKey,
  simKeyId,
  SIM_CVC_CA_KEY_ID,
  buildCvc,
  buildBasicInfo,
  buildIntegrityRecord,
  buildApBasicInfo,
  myNumberEf,
  syntheticMyNumber,
  myNumberCheckDigit,
  tlv,
  type CvcKey,
  type CvcAuthority,
  type CvcAnchorData,
  type BasicInfoInput,
} from './card-info.js';
export { connectVpcd, type VpcdCard, type VpcdOptions, type VpcdConnection } from './vpcd.js';
export {
  plugCardProcess,
  encodeMaterial,
  decodeMaterial,
  type CardProcess,
  type CardProcessOptions,
  type CardProcessStats,
} from './vpcd-process.js';
export { startPcscd, pcscdMissing, findVpcdDriver, type PcscdOptions, type PcscdInstance } from './pcscd.js';
export {
  cardForPerson,
  resetCardPins,
  type PinReset,
  personCardMaterial,
  sandboxCvcAuthority,
  sandboxCvcAnchor,
  cardsDir,
  type CardForPersonOptions,
} from './person.js';
export { decodeCommand, type Command } from './apdu.js';
export {
  testCardMaterial,
  TEST_HOLDER,
  TEST_MY_NUMBER,
  TEST_PINS,
  type TestCardMaterial,
  type CardMaterial,
} from './material.js';
