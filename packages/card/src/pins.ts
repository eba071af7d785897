// PIN formats (spec §5), checked before anything touches the card. A PIN that does not match is never
// sent: a wrong-format PIN would only burn a try.

import { InvalidPinFormat, type PinKind } from './errors.js';

/** Remaining-try maximums: 0018 auth 3, 001B sign 5, 0011 card-info 3. */
export const PIN_MAX_TRIES: Record<PinKind, number> = { auth: 3, sign: 5, cardInfo: 3 };

/**
 * The bytes the card compares: auth / card-info exactly 4 digits; the signing password 6–16 of
 * A–Z 0–9, upper-cased first (jpki/myna does the same). Throws InvalidPinFormat.
 */
export function pinBytes(kind: PinKind, pin: string): Buffer {
  if (typeof pin !== 'string')
    throw new InvalidPinFormat(kind, kind === 'sign' ? '6–16 letters A–Z and digits' : 'exactly 4 digits');
  if (kind === 'sign') {
    const p = pin.toUpperCase();
    if (!/^[A-Z0-9]{6,16}$/.test(p)) throw new InvalidPinFormat(kind, '6–16 letters A–Z and digits');
    return Buffer.from(p, 'ascii');
  }
  if (!/^[0-9]{4}$/.test(pin)) throw new InvalidPinFormat(kind, 'exactly 4 digits');
  return Buffer.from(pin, 'ascii');
}
