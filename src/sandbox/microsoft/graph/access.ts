// Who may do what: the bearer token must be live, and its scopes must cover the drive and the
// operation — the user's own drive with Files.*, anyone else's in the same tenant with *.All.
import { bearerToken, type SbRequest, type SbResponse } from '../../common/http.ts';
import { graphError } from '../errors.ts';
import type { MsDrive, MsUser } from '../store.ts';
import type { GraphContext } from './context.ts';

export interface Caller {
  user: MsUser;
  scopes: Set<string>;
  clientId: string;
}

const WWW_AUTH = 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

export function authenticate(ctx: GraphContext, req: SbRequest): Caller | SbResponse {
  const token = bearerToken(req);
  const check = ctx.oauth.checkAccessToken(token);
  if (check.ok) {
    const user = ctx.store.users.get(check.token.grant.userId)!;
    return { user, scopes: new Set(check.token.grant.scopes), clientId: check.token.grant.clientId };
  }
  const message = {
    missing: 'Access token is empty.',
    invalid: 'IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or JWE Compact Serialization Format.',
    expired: 'Lifetime validation failed, the token is expired.',
    revoked: 'Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp',
  }[check.reason];
  const res = graphError(401, 'InvalidAuthenticationToken', message, req, ctx.faults.now());
  return { ...res, headers: { ...res.headers, 'www-authenticate': WWW_AUTH } };
}

const READ_OWN = ['Files.Read', 'Files.ReadWrite', 'Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'];
const READ_ANY = ['Files.Read.All', 'Files.ReadWrite.All', 'Sites.Read.All', 'Sites.ReadWrite.All'];
const WRITE_OWN = ['Files.ReadWrite', 'Files.ReadWrite.All', 'Sites.ReadWrite.All'];
const WRITE_ANY = ['Files.ReadWrite.All', 'Sites.ReadWrite.All'];

/** Undefined when allowed; otherwise the error Graph answers. */
export function checkDriveAccess(ctx: GraphContext, req: SbRequest, caller: Caller, drive: MsDrive, write: boolean): SbResponse | undefined {
  if (drive.tenantId !== caller.user.tenantId) return graphError(404, 'itemNotFound', 'The resource could not be found.', req, ctx.faults.now());
  const own = drive.ownerUserId === caller.user.id;
  const needed = write ? (own ? WRITE_OWN : WRITE_ANY) : own ? READ_OWN : READ_ANY;
  if (!needed.some((s) => caller.scopes.has(s))) return graphError(403, 'accessDenied', 'Access denied', req, ctx.faults.now());
  return undefined;
}

export function canReadUsers(caller: Caller, other: boolean): boolean {
  const s = caller.scopes;
  if (!other) return s.has('User.Read') || s.has('User.ReadWrite') || s.has('User.ReadBasic.All') || s.has('User.Read.All');
  return s.has('User.ReadBasic.All') || s.has('User.Read.All');
}
