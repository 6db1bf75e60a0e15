import type { ProviderId } from './definition.ts';

/**
 * The real API calls a provider app's verification makes with its service account's token (seed
 * 001: "the Admin Portal will try to connect to the configured Webex App"). Paths are relative to
 * the profile's API base, like every adapter's.
 */
export interface ApiCheck {
  path: string;
  query?: Record<string, string | number>;
  /** What a success shows, for people. */
  proves: string;
  /** What a 403 most likely means for this call. */
  forbiddenHint: string;
}

export interface IdentityCheck extends ApiCheck {
  account(body: Record<string, unknown>): { email: string | null; displayName: string | null };
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Who the token belongs to: one call every app of the provider can make. */
export const identityChecks: Record<ProviderId, IdentityCheck> = {
  microsoft: {
    path: '/me',
    proves: 'Microsoft Graph answers for the signed-in user',
    forbiddenHint: 'the app needs the User.Read delegated permission, granted for the tenant',
    account: (b) => ({ email: text(b.mail) ?? text(b.userPrincipalName), displayName: text(b.displayName) }),
  },
  google: {
    path: '/drive/v3/about',
    query: { fields: 'user(displayName,emailAddress)' },
    proves: 'Google Drive answers for the signed-in user',
    forbiddenHint: 'the Google Drive API must be enabled for the app’s Cloud project, and the app needs a Drive scope',
    account: (b) => {
      const user = (typeof b.user === 'object' && b.user !== null ? b.user : {}) as Record<string, unknown>;
      return { email: text(user.emailAddress), displayName: text(user.displayName) };
    },
  },
  webex: {
    path: '/people/me',
    proves: 'Webex answers for the signed-in person',
    forbiddenHint: 'the account may not be licensed for Webex',
    account: (b) => ({ email: Array.isArray(b.emails) ? text(b.emails[0]) : null, displayName: text(b.displayName) }),
  },
};

/**
 * One call that proves the app can do what its scopes are for, or undefined when none of its
 * scopes has a check (the step is then reported as skipped).
 */
export function capabilityCheck(provider: ProviderId, scopes: readonly string[]): ApiCheck | undefined {
  const has = (scope: string) => scopes.includes(scope);
  switch (provider) {
    case 'microsoft':
      if (scopes.some((s) => /^(Files|Sites)\./.test(s))) {
        return { path: '/me/drive', proves: 'the user’s OneDrive is reachable', forbiddenHint: 'the Files permissions must be granted (admin consent), and the user needs a OneDrive licence' };
      }
      return undefined;
    case 'google':
      if (scopes.some((s) => s.startsWith('https://www.googleapis.com/auth/drive'))) {
        return { path: '/drive/v3/files', query: { pageSize: 1, fields: 'files(id)' }, proves: 'Google Drive files can be listed', forbiddenHint: 'the Drive scopes must be granted, and the Google Drive API enabled for the app’s Cloud project' };
      }
      return undefined;
    case 'webex':
      if (has('spark-compliance:events_read')) {
        return {
          path: '/events',
          query: { max: 1 },
          proves: 'the org’s compliance events can be read (the service account is a Compliance Officer)',
          forbiddenHint: 'the service account needs the Compliance Officer role in Control Hub (a separate account: nobody can give that role to themselves), and the integration the spark-compliance scopes',
        };
      }
      if (has('spark:all') || has('spark:rooms_read')) {
        return { path: '/rooms', query: { max: 1 }, proves: 'the account’s spaces can be listed', forbiddenHint: 'the integration needs spark:rooms_read (or spark:all)' };
      }
      return undefined;
  }
}
