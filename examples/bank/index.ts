export { startBank } from './app.js';
export { BANK_RP, BANK_CLAIMS } from './kakunin.js';
export {
  openAccount,
  noteRevocation,
  closeAccount,
  otherOpenAccounts,
  retention,
  readApplication,
  ACCOUNT_TYPES,
  PURPOSES,
  OCCUPATIONS,
  METHOD,
  type Account,
  type ConfirmationRecord,
  type BankState,
} from './bank.js';
