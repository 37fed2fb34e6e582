/**
 * The response schema of every error (also what stops internals leaking into error bodies: only
 * these members are serialised). http/openapi.ts documents each route's error responses from it,
 * with `error_code` narrowed to the route's codes of each status.
 */
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
