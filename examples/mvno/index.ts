export { startMvno } from './app.js';
export { MVNO_RP, MVNO_CLAIMS } from './kakunin.js';
export {
  emptyMvno,
  makeContract,
  endContract,
  otherActiveContracts,
  noteRevocation,
  retention,
  PLANS,
  ADULT_AGE,
  type Contract,
  type IdentityRecord,
  type MvnoState,
} from './mvno.js';
