import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../errors.ts';
import type { AuthService } from '../services/auth.ts';
import { sha256 } from '../security/tokens.ts';
import { timingSafeEqual } from 'node:crypto';
import type { Access } from './types.ts';

export const SESSION_COOKIE = 'tether_session';
export const CSRF_COOKIE = 'tether_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Authenticates the caller and enforces the route's declared access, in `onRequest` — before the
 * body is read and before any handler or upstream call. A route without a declared access level
 * never gets here: registration refuses it (see server.ts).
 */
export function accessHook(auth: AuthService, publicOrigin: string) {
  return async (request: FastifyRequest, _reply: FastifyReply): Promise<void> => {
    request.principal = undefined;
    request.prefetchedConnection = undefined;
    const access: Access | undefined = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;

    const bearer = bearerToken(request.headers.authorization);
    if (access === 'operator') {
      if (bearer !== undefined && auth.isOperatorToken(bearer)) {
        request.principal = { kind: 'operator' };
        return;
      }
      throw errors.unauthenticated('This route needs the operator token as a Bearer token.');
    }

    if (bearer !== undefined) {
      const header = request.headers['tether-user'];
      const tetherUser = Array.isArray(header) ? undefined : header;
      // Routes that work on a connection read it with the caller in one round trip (see
      // FastifyContextConfig.prefetchConnection); anything amiss goes the step-by-step way below.
      const connectionId = request.routeOptions.config.prefetchConnection ? (request.params as { connectionId?: unknown }).connectionId : undefined;
      const fast = typeof connectionId === 'string' ? await auth.fromApiKeyWithConnection(bearer, tetherUser, connectionId) : undefined;
      if (fast) {
        request.principal = fast.principal;
        request.prefetchedConnection = { connection: fast.connection, app: fast.app };
      } else {
        const principal = await auth.fromApiKey(bearer, tetherUser);
        if (!principal) throw errors.unauthenticated('The API key is unknown or revoked.');
        request.principal = principal;
      }
    } else {
      const sessionId = request.cookies[SESSION_COOKIE];
      const found = sessionId ? await auth.fromSession(sessionId) : undefined;
      if (!found) throw errors.unauthenticated();
      if (!SAFE_METHODS.has(request.method)) checkCsrf(request, found.csrfHash, publicOrigin);
      request.principal = found.principal;
    }
    if (access === 'admin' && request.principal.user.role !== 'admin') throw errors.forbidden();
  };
}

/**
 * Cookie-authenticated requests that change state must carry the session's CSRF token in
 * `X-CSRF-Token` (a header a cross-site form cannot set) and, when the browser sends `Origin`, come
 * from Tether's own origin (OWASP CSRF cheat sheet: synchronizer token + origin verification).
 */
function checkCsrf(request: FastifyRequest, csrfHash: Buffer, publicOrigin: string): void {
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== publicOrigin) throw errors.csrf();
  const token = request.headers['x-csrf-token'];
  if (typeof token !== 'string' || !timingSafeEqual(sha256(token), csrfHash)) throw errors.csrf();
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+([\x21-\x7e]{1,512})$/i.exec(header);
  if (!match) throw errors.unauthenticated('The Authorization header must be "Bearer <token>".');
  return match[1];
}
