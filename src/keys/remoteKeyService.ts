import { errors } from '../errors.ts';
import type { WrapContext } from './envelope.ts';
import type { KekVersion, KeyService } from './keyService.ts';
import { SIGNATURE_HEADER, signRequest, verifyResponse } from './signing.ts';

/**
 * Talks to a remote key service (`tether keys serve`, see keyServer.ts) over signed HTTP. Every
 * failure to get a signed, well-formed answer is `key_service_unavailable` (503): there is no
 * fallback to a local key, and nothing is ever returned in place of the data key.
 */
export class RemoteKeyService implements KeyService {
  readonly kind = 'remote' as const;
  private readonly baseUrl: string;
  private readonly secret: string;
  private readonly timeoutMs: number;

  constructor(options: { url: string; secret: string; timeoutMs: number }) {
    this.baseUrl = options.url.replace(/\/+$/, '');
    this.secret = options.secret;
    this.timeoutMs = options.timeoutMs;
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
    const signature = signRequest(this.secret, method, path, body);
    let status: number;
    let text: string;
    let responseSignature: string | null;
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { [SIGNATURE_HEADER]: signature, ...(value === undefined ? {} : { 'content-type': 'application/json' }) },
        body: value === undefined ? undefined : body,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
      responseSignature = res.headers.get(SIGNATURE_HEADER);
    } catch (cause) {
      throw errors.keyServiceUnavailable(undefined, cause);
    }
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
}
