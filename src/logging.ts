import { pino, type Logger, type DestinationStream } from 'pino';

/**
 * Paths whose values are never written to a log line. Request bodies are not logged at all; these
 * cover headers and any object a caller might pass to the logger by mistake.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["tether-operator-token"]',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.clientSecret',
  '*.client_secret',
  '*.secret',
  '*.apiKey',
  '*.operatorToken',
  '*.sessionId',
  '*.csrfToken',
  '*.remoteToken',
  '*.localKeys',
  '*.dataKey',
  'password',
  'token',
  'secret',
  'apiKey',
  'operatorToken',
  'clientSecret',
  'remoteToken',
  'localKeys',
  'dataKey',
];

/**
 * The request URL as logged. The OAuth callback's query holds the authorization code and state, and
 * a connect link's path holds its single-use token: neither is ever written to a log line. Nor is
 * the query of a proxied request.
 */
export function loggableUrl(url: string): string {
  if (url.startsWith('/oauth/callback')) return url.includes('?') ? '/oauth/callback?[redacted]' : url;
  if (url.startsWith('/connect/')) return '/connect/[redacted]';
  // A proxied request's query is the provider's, and may carry anything a caller puts there.
  if (/^\/api\/v1\/connections\/[^/?]+\/proxy\//.test(url) && url.includes('?')) return `${url.slice(0, url.indexOf('?'))}?[redacted]`;
  return url;
}

/** Fastify's request serializer (which it uses unless the logger has its own), with the URL made loggable. */
function requestSerializer(req: { method: string; url: string; host?: string; ip?: string; socket?: { remotePort?: number } }) {
  return { method: req.method, url: loggableUrl(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/** What every Tether log line looks like (the main log and the access log). */
const LINE_FORMAT = {
  base: { service: 'tether' },
  timestamp: pino.stdTimeFunctions.isoTime,
  formatters: { level: (label: string) => ({ level: label }) },
};

/**
 * Lines go to stdout synchronously: pino's default (asynchronous) destination hands every line to
 * libuv's thread pool, and on the listing benchmark that hand-off (thread wake-ups, an eventfd
 * round trip) cost more than the write itself. Sync also means a crash loses no line.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      ...LINE_FORMAT,
      serializers: { req: requestSerializer },
      redact: { paths: redactedPaths, censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/**
 * The access log: one line per completed request, written by a logger of its own that skips
 * redaction — its lines hold only the fields below (method, loggable URL, host, peer, status,
 * time), never headers or bodies, so there is nothing to redact, and redaction (40 paths, most of
 * them wildcards) was a tenth of the cost of a small API call's log line. Same destination, level
 * and line format as `logger`.
 */
export interface AccessLog {
  completed(entry: { reqId: string; req: Parameters<typeof requestSerializer>[0]; statusCode: number; responseTime: number }): void;
}

export function createAccessLog(logger: Logger): AccessLog {
  const stream = (logger as unknown as Record<symbol, DestinationStream>)[pino.symbols.streamSym];
  const access = pino({ level: logger.level, ...LINE_FORMAT }, stream);
  return {
    completed({ reqId, req, statusCode, responseTime }) {
      if (!access.isLevelEnabled('info')) return;
      access.info({ reqId, req: requestSerializer(req), res: { statusCode }, responseTime }, 'request completed');
    },
  };
}

export type { Logger };
