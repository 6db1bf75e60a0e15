import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { z } from 'zod';
import { TetherError } from '../errors.ts';
import type { Logger } from '../logging.ts';
import { isUuid, purposes } from './envelope.ts';
import type { KeyService } from './keyService.ts';
import { ReplayGuard, SIGNATURE_HEADER, signResponse, verifyRequest } from './signing.ts';

/**
 * The remote key service (`tether keys serve`): a small HTTP server around its own keyring, for an
 * org that keeps its key-encryption keys on its own premises. It knows nothing of Tether's database;
 * it wraps and unwraps data keys for callers that sign their requests with the shared secret.
 *
 *   GET  /v1/health                    → { ok: true }                         (can wrap now)
 *   GET  /v1/versions                  → { versions: KekVersion[] }
 *   POST /v1/versions                  → { version: KekVersion }              (add, make current)
 *   POST /v1/versions/{n}/retire       → { version: KekVersion }
 *   POST /v1/wrap   { context, dataKey }            → { kekVersion, wrapped }
 *   POST /v1/unwrap { context, kekVersion, wrapped } → { dataKey }
 *
 * Keys and data keys travel as base64. Errors: `{ error: { code, message } }` with 401, 404, 409,
 * 422 (`decryption_failed`) or 503.
 */
const MAX_BODY_BYTES = 16 * 1024;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/).max(4096);
const context = z.strictObject({
  orgId: z.string().refine(isUuid),
  purpose: z.enum(purposes),
  dataKeyId: z.string().refine(isUuid),
});
const wrapBody = z.strictObject({ context, dataKey: base64 });
const unwrapBody = z.strictObject({ context, kekVersion: z.number().int().min(1), wrapped: base64 });

/** With `tls` (PEM certificate chain and key) the service answers over HTTPS only. */
export function createKeyServer(keys: KeyService, options: { secret: string; logger: Logger; tls?: { cert: string; key: string } }): Server {
  const { secret, logger } = options;
  const replays = new ReplayGuard();
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    let status = 500;
    void readBody(req)
      .then(async (body) => {
        const signature = req.headers[SIGNATURE_HEADER];
        const path = req.url ?? '/';
        const nonce = typeof signature === 'string' ? verifyRequest(secret, signature, req.method ?? '', path, body) : undefined;
        if (typeof signature !== 'string' || nonce === undefined || !replays.firstUse(nonce)) {
          status = 401;
          return send(res, 401, { error: { code: 'unauthenticated', message: 'The request is not signed with the shared secret, or was sent before.' } });
        }
        let answer: { status: number; body: unknown };
        try {
          answer = { status: 200, body: await route(keys, req.method ?? '', path, body) };
        } catch (err) {
          answer = toErrorAnswer(err, logger);
        }
        status = answer.status;
        send(res, answer.status, answer.body, (text) => signResponse(secret, signature, answer.status, text));
      })
      .catch((err: unknown) => {
        status = (err as { status?: number }).status ?? 400;
        send(res, status, { error: { code: 'bad_request', message: 'The request could not be read.' } });
      })
      .finally(() => {
        // Never the body: it carries data keys.
        logger.info({ method: req.method, path: req.url, status, ms: Math.round(performance.now() - started) }, 'key service request');
      });
  };
  return options.tls ? createTlsServer({ ...options.tls, minVersion: 'TLSv1.2' }, handler) : createServer(handler);
}

async function route(keys: KeyService, method: string, path: string, body: string): Promise<unknown> {
  if (method === 'GET' && path === '/v1/health') {
    await keys.check();
    return { ok: true };
  }
  if (method === 'GET' && path === '/v1/versions') return { versions: await keys.versions() };
  if (method === 'POST' && path === '/v1/versions') return { version: await keys.addVersion() };
  const retire = /^\/v1\/versions\/(\d{1,9})\/retire$/.exec(path);
  if (method === 'POST' && retire) return { version: await keys.retireVersion(Number(retire[1])) };
  if (method === 'POST' && path === '/v1/wrap') {
    const input = parse(wrapBody, body);
    const { kekVersion, wrapped } = await keys.wrap(input.context, Buffer.from(input.dataKey, 'base64'));
    return { kekVersion, wrapped: wrapped.toString('base64') };
  }
  if (method === 'POST' && path === '/v1/unwrap') {
    const input = parse(unwrapBody, body);
    const dataKey = await keys.unwrap(input.context, input.kekVersion, Buffer.from(input.wrapped, 'base64'));
    return { dataKey: dataKey.toString('base64') };
  }
  throw new TetherError(404, 'not_found', 'No such key service route.');
}

function parse<T>(schema: z.ZodType<T>, body: string): T {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (cause) {
    throw new TetherError(400, 'invalid_json', 'The request body is not valid JSON.', { cause });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new TetherError(400, 'validation_failed', 'The request does not match the schema.');
  return parsed.data;
}

function toErrorAnswer(err: unknown, logger: Logger): { status: number; body: unknown } {
  if (err instanceof TetherError) {
    // decryption_failed is the caller's data, not this service's fault: 422, so the client can tell it from an outage.
    const status = err.code === 'decryption_failed' ? 422 : err.status;
    if (status >= 500) logger.error({ err }, 'key service failure');
    return { status, body: { error: { code: err.code, message: err.message } } };
  }
  logger.error({ err }, 'key service failure');
  return { status: 500, body: { error: { code: 'internal_error', message: 'The key service failed.' } } };
}

function send(res: ServerResponse, status: number, value: unknown, sign?: (text: string) => string): void {
  const text = JSON.stringify(value);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
  if (sign) headers[SIGNATURE_HEADER] = sign(text);
  res.writeHead(status, headers).end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
