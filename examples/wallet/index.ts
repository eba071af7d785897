export { startWallet } from './app.js';
export { WALLET_RP, WALLET_CLAIMS } from './kakunin.js';
export {
  eligibility,
  verifyHolder,
  freezeOnRevocation,
  pay,
  WELCOME_GRANT,
  CHILDCARE_BENEFIT,
  CHILDCARE_AGES,
  type Wallet,
  type WalletState,
} from './wallet.js';
