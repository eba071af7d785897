// Assertions shared by the catalogue's files: a typed error of a given class with a given code.

import { expect } from 'vitest';

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error `fn` throws (or the promise rejects with); fails when nothing is thrown. */
export async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection, but the call succeeded');
}

/** `fn` throws an instance of `type` whose `code` is `code`. */
export async function expectTyped(
  fn: () => unknown,
  type: ErrorClass,
  code: string,
): Promise<Error & { code: string; details?: Record<string, unknown> }> {
  const e = await caught(fn);
  expect(e, `expected ${type.name} (${code}), got ${String(e)}`).toBeInstanceOf(type);
  expect((e as { code: string }).code).toBe(code);
  return e as Error & { code: string; details?: Record<string, unknown> };
}
