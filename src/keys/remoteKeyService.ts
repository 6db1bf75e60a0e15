import http from 'node:http';
import https from 'node:https';
import { errors } from '../errors.ts';
import type { WrapContext } from './envelope.ts';
import type { KekVersion, KeyService } from './keyService.ts';
import { SIGNATURE_HEADER, signRequest, verifyResponse } from './signing.ts';

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Talks to a remote key service (`tether keys serve`, see keyServer.ts) over signed HTTP(S). Every
 * failure to get a signed, well-formed answer is `key_service_unavailable` (503): there is no
 * fallback to a local key, and nothing is ever returned in place of the data key.
 *
 * node:http(s) rather than fetch, so that the key service's CA (`keys.remoteCaFile`) is trusted
 * for this connection only, not for the whole process.
 */
export class RemoteKeyService implements KeyService {
  readonly kind = 'remote' as const;
  private readonly baseUrl: URL;
  private readonly secret: string;
  private readonly timeoutMs: number;
  private readonly agent: http.Agent;

  constructor(options: { url: string; secret: string; timeoutMs: number; ca?: string }) {
    this.baseUrl = new URL(options.url.replace(/\/+$/, ''));
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs;
    this.agent =
      this.baseUrl.protocol === 'https:'
        ? new https.Agent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) })
        : new http.Agent({ keepAlive: true });
  }

  async wrap(context: WrapContext, dataKey: Buffer): Promise<{ kekVersion: number; wrapped: Buffer }> {
    const answer = await this.call<{ kekVersion: number; wrapped: string }>('POST', '/v1/wrap', { context, dataKey: dataKey.toString('base64') });
    if (!Number.isInteger(answer.kekVersion) || typeof answer.wrapped !== 'string') throw errors.keyServiceUnavailable('The key service answered wrap with an unexpected body.');
    return { kekVersion: answer.kekVersion, wrapped: Buffer.from(answer.wrapped, 'base64') };
  }

  async unwrap(context: WrapContext, kekVersion: number, wrapped: Buffer): Promise<Buffer> {
    const answer = await this.call<{ dataKey: string }>('POST', '/v1/unwrap', { context, kekVersion, wrapped: wrapped.toString('base64') });
    const key = typeof answer.dataKey === 'string' ? Buffer.from(answer.dataKey, 'base64') : undefined;
    if (key?.length !== 32) throw errors.keyServiceUnavailable('The key service answered unwrap with an unexpected body.');
    return key;
  }

  async versions(): Promise<KekVersion[]> {
    return (await this.call<{ versions: KekVersion[] }>('GET', '/v1/versions')).versions;
  }

  async currentVersion(): Promise<number> {
    const current = (await this.versions()).find((v) => v.current);
    if (!current) throw errors.keyServiceUnavailable('The key service reports no current key version.');
    return current.version;
  }

  async addVersion(): Promise<KekVersion> {
    return (await this.call<{ version: KekVersion }>('POST', '/v1/versions', {})).version;
  }

  async retireVersion(version: number): Promise<KekVersion> {
    return (await this.call<{ version: KekVersion }>('POST', `/v1/versions/${version}/retire`, {})).version;
  }

  async check(): Promise<void> {
    await this.call('GET', '/v1/health');
  }

  private async call<T>(method: 'GET' | 'POST', path: string, value?: unknown): Promise<T> {
    const body = value === undefined ? '' : JSON.stringify(value);
    let signature = signRequest(this.secret, method, path, body);
    let answer: { status: number; text: string; signature: string | null };
    try {
      answer = await this.send(method, path, body, signature);
    } catch (err) {
      // A kept-alive socket the service closed meanwhile: one fresh attempt (with a fresh nonce).
      if (!(err as { reusedSocket?: boolean }).reusedSocket) throw errors.keyServiceUnavailable(undefined, err);
      signature = signRequest(this.secret, method, path, body);
      try {
        answer = await this.send(method, path, body, signature);
      } catch (again) {
        throw errors.keyServiceUnavailable(undefined, again);
      }
    }
    const { status, text, signature: responseSignature } = answer;
    if (status === 401) throw errors.keyServiceUnavailable('The key service refused Tether\'s signature; check keys.remoteToken on both sides.');
    if (!verifyResponse(this.secret, responseSignature, signature, status, text)) {
      throw errors.keyServiceUnavailable('The key service\'s answer is not signed with the shared secret.', new Error(`status ${status}`));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (cause) {
      throw errors.keyServiceUnavailable('The key service answered with something other than JSON.', cause);
    }
    if (status === 200) return parsed as T;
    const error = (parsed as { error?: { code?: unknown; message?: unknown } }).error;
    const message = typeof error?.message === 'string' ? error.message : `The key service answered ${status}.`;
    // Only the remote's verdict on the data ("this does not unwrap") is final; anything else is an outage.
    if (status === 422 && error?.code === 'decryption_failed') throw errors.decryptionFailed(new Error(message));
    if (status === 404) throw errors.notFound(message.replace(/ was not found\.$/, ''));
    if (status === 409) throw errors.conflict(message);
    throw errors.keyServiceUnavailable(`The key service answered ${status}: ${message}`, new Error(`${String(error?.code ?? 'unknown')}: ${message}`));
  }

  private send(method: string, path: string, body: string, signature: string): Promise<{ status: number; text: string; signature: string | null }> {
    const url = new URL(`${this.baseUrl.pathname.replace(/\/$/, '')}${path}`, this.baseUrl);
    const request = url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          headers: { [SIGNATURE_HEADER]: signature, ...(method === 'POST' ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
          signal: AbortSignal.timeout(this.timeoutMs),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES) res.destroy(new Error('key service answer too large'));
            else chunks.push(chunk);
          });
          res.on('end', () => {
            const header = res.headers[SIGNATURE_HEADER];
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), signature: typeof header === 'string' ? header : null });
          });
          res.on('error', reject);
        },
      );
      req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket && (err as NodeJS.ErrnoException).code === 'ECONNRESET' })));
      req.end(method === 'POST' ? body : undefined);
    });
  }
}
