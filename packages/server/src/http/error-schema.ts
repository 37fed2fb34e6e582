/** The response schema of every error (also what stops internals leaking into error bodies). */
import { Type } from 'typebox';

export const ErrorResponse = Type.Object(
  {
    error_code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    required_scope: Type.Optional(Type.String()),
    tenant: Type.Optional(Type.String()),
    allowed: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
);
