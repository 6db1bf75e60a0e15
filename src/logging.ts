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

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'tether' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

export type { Logger };
