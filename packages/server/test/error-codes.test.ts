// Every ServerError the platform raises, and every code toErrorBody answers with, is on the closed
// list of @kakunin/web, so its pages have specific advice for it (a code cast in with `as` fails here).
import { describe, expect, it } from 'vitest';
import { isErrorCode, PLATFORM_ERROR_CODES } from '@kakunin/web';
import * as errors from '../src/errors.js';
import { TooManyStreams } from '../src/oidc/progress-streams.js';
import { NoSuchRelationship } from '../src/routes/rp-api.js';

/** A value every constructor accepts: a Date (toISOString) that reads as text. */
const anything = Object.assign(new Date(0), { toString: () => 'x' });

describe('platform error codes', () => {
  it('every ServerError class carries a code of the closed list', () => {
    const classes = [
      ...Object.values(errors).filter((v) => errors.isServerError((v as { prototype?: unknown }).prototype)),
      TooManyStreams,
      NoSuchRelationship,
    ];
    const codes = classes.map((C) => (Reflect.construct(C, Array(4).fill(anything)) as errors.ServerError).code);
    for (const code of codes) expect(PLATFORM_ERROR_CODES, code).toContain(code);
    expect(codes.length).toBeGreaterThanOrEqual(18);
  });

  it('the codes toErrorBody makes up itself are on the list too', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    for (const e of [down, new Error('boom'), { statusCode: 400, validation: [] }]) {
      const { body } = errors.toErrorBody(e);
      expect(isErrorCode(body.error.code), body.error.code).toBe(true);
    }
  });
});
