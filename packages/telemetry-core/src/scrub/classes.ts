/**
 * Redaction classes: the `<class>` in a `[REDACTED:<class>]` marker. The list is the contract
 * shared with readers of the logs (dashboards, the forensics tools), so entries are only added.
 */
export const REDACTION_CLASSES = [
  'key',
  'jwt',
  'email',
  'path',
  'private-key',
  'url-credentials',
  'aws-access-key',
  'aws-secret-key',
  'gcp-api-key',
  'azure-key',
  'azure-sas',
  'github-token',
  'gitlab-token',
  'slack-token',
  'slack-webhook',
  'stripe-key',
  'npm-token',
  'bearer',
  'basic-auth',
] as const;

export type RedactionClass = (typeof REDACTION_CLASSES)[number];

/** Every marker starts with this; rules skip values that already carry one. */
export const MARKER_PREFIX = '[REDACTED:';
