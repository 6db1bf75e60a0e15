import { TetherError } from '../errors.ts';

/** What Tether looks at in a provider's error answer: never its body, only these. */
export interface UpstreamFailure {
  status: number;
  retryAfter: string | null;
  /** Google's documented `error.errors[0].reason` (403 and 429 answers only). */
  reason: string | undefined;
}

/**
 * Maps a provider's error answer onto Tether's stable codes. Upstream bodies are never passed
 * through: only the status is looked at (and, for Google, the documented `reason`).
 */
export async function upstreamError(res: Response): Promise<TetherError> {
  return mapUpstreamError({ status: res.status, retryAfter: res.headers.get('retry-after'), reason: await googleReason(res) });
}

export function mapUpstreamError({ status, retryAfter, reason }: UpstreamFailure): TetherError {
  switch (true) {
    case status === 404:
      return new TetherError(404, 'not_found', 'The item was not found at the provider.');
    case status === 401:
      return new TetherError(409, 'needs_reauth', 'The provider no longer accepts this connection; the user must connect again.');
    case status === 429 || (status === 403 && (reason === 'userRateLimitExceeded' || reason === 'rateLimitExceeded')):
      return new TetherError(503, 'throttled', 'The provider is throttling requests; try again later.', { headers: retryAfter ? { 'retry-after': retryAfter } : {} });
    case status === 403 && reason === 'exportSizeLimitExceeded':
      return new TetherError(413, 'too_large', 'Google exports Docs Editors files of up to 10 MB; this one is larger. Open it in Google Docs instead.');
    case status === 403 && (reason === 'fileNotDownloadable' || reason === 'fileNotExportable'):
      return new TetherError(422, 'not_downloadable', 'This item has no content to download.');
    case status === 403:
      return new TetherError(403, 'forbidden', "The connection's account may not do this at the provider.");
    case status === 409:
      return new TetherError(409, 'conflict', 'The provider reports a conflict (e.g. an item of that name exists).');
    case status === 412:
      return new TetherError(412, 'precondition_failed', 'The item changed since the given If-Match version.');
    case status === 400:
      return new TetherError(422, 'provider_rejected', 'The provider refused the request as invalid (for example a name it does not allow).');
    case status === 413:
      return new TetherError(413, 'too_large', 'The provider refused the size of this request.');
    default:
      return new TetherError(502, 'upstream_unavailable', `The provider answered ${status}.`);
  }
}

/** Google's error reason, read from a copy of a 403 or 429 answer (the answer itself stays unread). */
export async function googleReason(res: Response): Promise<string | undefined> {
  if (res.status !== 403 && res.status !== 429) return undefined;
  try {
    return reasonOf(await res.clone().json());
  } catch {
    return undefined;
  }
}

/** The JSON of a successful answer, or the mapped error. A malformed body is upstream_unavailable. */
export async function json<T>(res: Response): Promise<T> {
  if (!res.ok) throw await upstreamError(res);
  try {
    return (await res.json()) as T;
  } catch (cause) {
    throw new TetherError(502, 'upstream_unavailable', 'The provider sent an unreadable answer.', { cause });
  }
}

/** A successful (2xx) streamed answer, or the mapped error. */
export async function ok(res: Response): Promise<Response> {
  if (res.status >= 200 && res.status < 300) return res;
  const error = await upstreamError(res);
  await res.body?.cancel().catch(() => undefined);
  throw error;
}

/** Google's `error.errors[0].reason` of a parsed error body, if it has one. */
export function reasonOf(body: unknown): string | undefined {
  const reason = (body as { error?: { errors?: { reason?: unknown }[] } } | null)?.error?.errors?.[0]?.reason;
  return typeof reason === 'string' ? reason : undefined;
}
