// Japanese data conventions the certificates follow: era digits (spec §7.4), substitute characters
// (代替文字) and their position flags, certificate validity by birthdays (spec §7.5).

import { eraOf, formatJpkiBirthDate } from '@kakunin/jpki';
import { InvalidInput } from './errors.js';

/** JIS X 0303: '1' male, '2' female, '9' not applicable, '0' unknown. */
export type SexCode = '0' | '1' | '2' | '9';

export const SEX_CODES: readonly SexCode[] = ['0', '1', '2', '9'];

export function assertIsoDate(value: string, what: string): void {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  const t = m ? new Date(`${value}T00:00:00Z`) : undefined;
  if (!t || Number.isNaN(t.getTime()) || t.toISOString().slice(0, 10) !== value) {
    throw new InvalidInput(`${what} "${value}" is not a real YYYY-MM-DD date`);
  }
}

/** The era digit of a Gregorian `YYYY-MM-DD` date ('0' before 明治). */
export function eraDigit(isoDate: string): string {
  return eraOf(isoDate).code;
}

/** `EYYYYMMDD`: era digit followed by the Gregorian date (spec §7.4). */
export function jpkiBirthDate(isoDate: string): string {
  assertIsoDate(isoDate, 'birth date');
  return formatJpkiBirthDate(isoDate);
}

/**
 * Characters outside the certificate's repertoire and the substitute written instead. The true
 * forms exist in the resident register (外字 / 異体字); the certificate carries the common form
 * and flags the position.
 */
export const SUBSTITUTES: Readonly<Record<string, string>> = {
  髙: '高',
  﨑: '崎',
  '𠮷': '吉', // outside the BMP: one character, two UTF-16 units
  德: '徳',
  邉: '辺',
  濵: '浜',
  栁: '柳',
  桒: '桑',
  曾: '曽',
};

/** Writes a true name or address as the certificate does, with one '0'/'1' flag per code point. */
export function toCertificateText(trueText: string): { text: string; flags: string } {
  let text = '';
  let flags = '';
  for (const ch of trueText) {
    const sub = SUBSTITUTES[ch];
    text += sub ?? ch;
    flags += sub ? '1' : '0';
  }
  return { text, flags };
}

/** Number of characters as the flag strings count them: Unicode code points, not UTF-16 units. */
export function codePointLength(s: string): number {
  return [...s].length;
}

const FULL_WIDTH_OFFSET = 0xff10 - 0x30;

/** ASCII digits and '-' to full-width, as addresses are written in the register (３－１０－１). */
export function fullWidth(s: string): string {
  return s.replace(/[0-9]/g, (d) => String.fromCharCode(d.charCodeAt(0) + FULL_WIDTH_OFFSET)).replace(/-/g, '－');
}

const JST_OFFSET_MS = 9 * 3600_000;

/** The calendar date (`YYYY-MM-DD`) in Japan at an instant. */
export function jstDate(at: Date): string {
  return new Date(at.getTime() + JST_OFFSET_MS).toISOString().slice(0, 10);
}

/** 23:59:59 JST (= 14:59:59Z) of a calendar date: the end of every J-LIS validity period. */
export function endOfJstDay(isoDate: string): Date {
  return new Date(`${isoDate}T14:59:59Z`);
}

/** The birthday in a given year; 29 February falls on 28 February in common years. */
export function birthdayIn(birthDate: string, year: number): string {
  const md = birthDate.slice(5);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const day = md === '02-29' && !leap ? '02-28' : md;
  return `${String(year).padStart(4, '0')}-${day}`;
}

/** The n-th birthday strictly after the (Japanese) calendar day of `at`. */
export function nthBirthdayAfter(birthDate: string, at: Date, n: number): string {
  const today = jstDate(at);
  const year = Number(today.slice(0, 4));
  const first = birthdayIn(birthDate, year) > today ? year : year + 1;
  return birthdayIn(birthDate, first + n - 1);
}

/** The last birthday strictly before the (Japanese) calendar day of `at`. */
export function lastBirthdayBefore(birthDate: string, at: Date): string {
  const today = jstDate(at);
  const year = Number(today.slice(0, 4));
  return birthdayIn(birthDate, birthdayIn(birthDate, year) < today ? year : year - 1);
}

/** Certificate notAfter by the J-LIS rule: 14:59:59Z of the 5th birthday after issuance (spec §7.5). */
export function fifthBirthdayNotAfter(birthDate: string, issuedAt: Date): Date {
  return endOfJstDay(nthBirthdayAfter(birthDate, issuedAt, 5));
}

/** Age in completed years on the Japanese calendar day of `at`. */
export function ageAt(birthDate: string, at: Date): number {
  const today = jstDate(at);
  const years = Number(today.slice(0, 4)) - Number(birthDate.slice(0, 4));
  return today.slice(5) >= birthDate.slice(5) ? years : years - 1;
}

/** Certificates carry whole seconds (UTCTime). */
export function truncateToSecond(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000);
}

/** Shifts an instant by whole calendar years (UTC), for validity periods relative to "now". */
export function addYears(at: Date, years: number): Date {
  const d = new Date(at.getTime());
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d;
}

export const DAY_MS = 86_400_000;
