// Kakunin never reads the My Number (個人番号). Defence in depth: any run of exactly 12 ASCII digits
// (the My Number pattern) that reaches a buffer we keep — the APDU log, error details, card-info
// data — is overwritten with '*'. A run followed by 'Z' is a certificate UTCTime (YYMMDDHHMMSSZ)
// and is left alone.

const STAR = 0x2a;
const isDigit = (b: number | undefined): boolean => b !== undefined && b >= 0x30 && b <= 0x39;

/** Overwrites, in place, every isolated run of exactly 12 ASCII digits; returns how many runs were masked. */
export function maskMyNumber(buf: Uint8Array): number {
  let masked = 0;
  let i = 0;
  while (i < buf.length) {
    if (!isDigit(buf[i])) {
      i++;
      continue;
    }
    let j = i;
    while (isDigit(buf[j])) j++;
    if (j - i === 12 && buf[j] !== 0x5a) {
      buf.fill(STAR, i, j);
      masked++;
    }
    i = j;
  }
  return masked;
}

/** The same rule for text. */
export function maskMyNumberText(s: string): string {
  return s.replace(/(?<![0-9])[0-9]{12}(?![0-9Z])/g, '************');
}

/** Whether a 12-digit number has a valid My Number check digit (for tests and the simulator). */
export function isValidMyNumber(n: string): boolean {
  if (!/^[0-9]{12}$/.test(n)) return false;
  return myNumberCheckDigit(n.slice(0, 11)) === Number(n[11]);
}

/** Check digit of the first 11 digits (番号法施行令 第8条). */
export function myNumberCheckDigit(first11: string): number {
  let sum = 0;
  for (let k = 1; k <= 11; k++) {
    const p = Number(first11[11 - k]);
    const q = k <= 6 ? k + 1 : k - 5;
    sum += p * q;
  }
  const r = sum % 11;
  return r <= 1 ? 0 : 11 - r;
}
