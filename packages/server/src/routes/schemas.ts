import { Type } from 'typebox';

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'stable error code, e.g. NONCE_REPLAYED, REVOKED, UNTRUSTED_ISSUER' }),
    message: Type.String(),
    message_ja: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  }),
});
