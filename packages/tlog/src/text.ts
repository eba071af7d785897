// Strict text helpers shared by the note, checkpoint and bundle parsers.

/** Standard base64 (RFC 4648 §4) in its one canonical form, or undefined. Buffer.from(s, 'base64') alone
 * skips junk characters and accepts missing padding, so two strings could name one signature. */
export function decodeBase64(s: string): Buffer | undefined {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  const bytes = Buffer.from(s, 'base64');
  return bytes.toString('base64') === s ? bytes : undefined;
}

/** A JS string that encodes to UTF-8 as is: no lone surrogate (which would silently become U+FFFD). */
export function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
}

/** No ASCII control character other than newline (c2sp.org/signed-note). */
export function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
  }
  return false;
}
