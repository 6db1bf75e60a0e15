/**
 * Tether's one error model. Every failure a caller can see is a TetherError with a stable `code`
 * (part of the public contract: clients switch on it), an HTTP status and a human message. The
 * optional `cause` is for logs only and is never sent to the caller.
 */
export class TetherError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: unknown; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'TetherError';
    this.status = status;
    this.code = code;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }

  toJSON(): { error: { code: string; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** The stable error codes, with their status. Documented in docs/errors.md (a test keeps the two in step). */
export const errors = {
  invalidJson: (cause?: unknown) =>
    new TetherError(400, 'invalid_json', 'The request body is not valid JSON.', { cause }),
  validation: (details: unknown) =>
    new TetherError(400, 'validation_failed', 'The request does not match the schema.', { details }),
  tetherUserRequired: () =>
    new TetherError(400, 'tether_user_required', 'Requests with an API key must name the user they act for in the Tether-User header.'),
  unauthenticated: (message = 'Authentication is required.') =>
    new TetherError(401, 'unauthenticated', message, { headers: { 'www-authenticate': 'Bearer' } }),
  unknownUser: () =>
    new TetherError(401, 'unknown_user', 'The Tether-User header does not name a user of this org.', {
      headers: { 'www-authenticate': 'Bearer' },
    }),
  invalidCredentials: () => new TetherError(401, 'invalid_credentials', 'The org, email or password is wrong.'),
  forbidden: (message = 'Your role does not allow this.') => new TetherError(403, 'forbidden', message),
  csrf: () =>
    new TetherError(403, 'csrf_failed', 'A browser request that changes state needs a matching X-CSRF-Token header and a same-origin Origin.'),
  notFound: (what = 'The resource') => new TetherError(404, 'not_found', `${what} was not found.`),
  conflict: (message: string) => new TetherError(409, 'conflict', message),
  payloadTooLarge: (limit: number) =>
    new TetherError(413, 'payload_too_large', `The request body exceeds the limit of ${limit} bytes.`),
  unsupportedMediaType: () =>
    new TetherError(415, 'unsupported_media_type', 'The request body must be application/json.'),
  rateLimited: (retryAfterSeconds: number) =>
    new TetherError(429, 'rate_limited', 'Too many attempts; try again later.', {
      headers: { 'retry-after': String(retryAfterSeconds) },
    }),
  internal: (cause?: unknown) => new TetherError(500, 'internal_error', 'Something went wrong on our side.', { cause }),
  unavailable: (message: string, cause?: unknown) =>
    new TetherError(503, 'service_unavailable', message, { cause }),
  /** The key service cannot be reached or answered wrongly: transient, never a reason to discard data. */
  keyServiceUnavailable: (message = 'The key service is unavailable; encrypted data cannot be read or written now.', cause?: unknown) =>
    new TetherError(503, 'key_service_unavailable', message, { cause }),
  /**
   * Stored ciphertext does not open for the row, field and key it claims (altered, swapped between
   * rows or fields, or its data key is gone): permanent. Callers holding tokens map it to `needs-reauth`.
   */
  decryptionFailed: (cause?: unknown) =>
    new TetherError(500, 'decryption_failed', 'Stored encrypted data could not be decrypted.', { cause }),
} as const;
