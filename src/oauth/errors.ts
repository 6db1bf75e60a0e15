import { TetherError } from '../errors.ts';

/**
 * Why an authorization or a refresh failed, classified the way callers must react (after cal.com's
 * OAuthManager): the grant is dead (reconnect), the callback was not acceptable (reject, store
 * nothing), or the provider could not be reached or answered oddly (retry later).
 */
export type OAuthFailure = 'invalid_grant' | 'invalid_callback' | 'invalid_id_token' | 'provider_error' | 'provider_unreachable';

/** Statuses: invalid_callback/invalid_id_token 400, invalid_grant 401, provider_error 502, provider_unreachable 503. */
export class OAuthError extends TetherError {
  readonly failure: OAuthFailure;
  constructor(status: 400 | 401 | 502 | 503, failure: OAuthFailure, message: string, options: { cause?: unknown; details?: unknown } = {}) {
    super(status, failure, message, options);
    this.failure = failure;
  }
}
