import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';

/** The page language a query may ask for (`?lang=`, `?ui_locales=`): never refused, langFrom falls back to Japanese. */
export const LangQuery = Type.Object({
  lang: Type.Optional(Type.Unknown()),
  ui_locales: Type.Optional(Type.Unknown()),
});

/** The query of any request, for what reads it outside a route's schema (error pages, hooks). */
export const queryObject = (req: FastifyRequest): object =>
  typeof req.query === 'object' && req.query !== null ? req.query : {};

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'stable error code, e.g. NONCE_REPLAYED, REVOKED, UNTRUSTED_ISSUER' }),
    message: Type.String(),
    message_ja: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});
