import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { decodeItemId, type ItemRef } from '../../../documents/ids.ts';
import type { ItemPage } from '../../../documents/model.ts';
import { itemPageJson } from '../../../documents/pageJson.ts';
import { transferred } from '../../../documents/reclaim.ts';
import type { OpenConnection } from '../../../services/documents.ts';
import { uuid } from '../../schemas.ts';
import type { Services } from '../../types.ts';
import { userOf } from '../../types.ts';

export const connectionParams = z.strictObject({ connectionId: uuid });

/** Every documents route: members (visibility decides), the connection read with the caller (access.ts). */
export const connectionRoute = { access: 'member', prefetchConnection: true } as const;

/**
 * Sends an item page (listing, search) as UTF-8 JSON bytes written by itemPageJson; the buffer is
 * reused once the response is done. The 200 answer is built by the adapters' typed mappers, so it
 * is not checked again with zod on the way out (200 items cost about 0.2 ms that way); the route's
 * schema stays its OpenAPI description and serializes its error answers.
 */
export function sendItemPage(reply: FastifyReply, page: ItemPage): FastifyReply {
  const json = itemPageJson(page);
  reply.raw.once('close', json.release);
  return reply.type('application/json; charset=utf-8').send(json.bytes);
}
/** Item ids are validated strictly per provider once the connection is known (decodeItemId). */
export const itemParams = z.strictObject({ connectionId: uuid, itemId: z.string().min(1).max(700) });

/** The connection, if the caller may see it (else 404), with its adapter and provider context. */
export function open(services: Services, request: FastifyRequest & { params: { connectionId: string } }, reply: FastifyReply): Promise<OpenConnection> {
  // A caller that goes away cancels the provider calls made for it (the response closes unfinished).
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return services.documents.open(userOf(request), request.params.connectionId, { signal: controller.signal, prefetched: request.prefetchedConnection });
}

export function itemRef(open: OpenConnection, itemId: string): ItemRef {
  return decodeItemId(open.provider, itemId);
}

/** Streams a provider's answer body to the caller with the headers that matter for bytes. */
export function streamBytes(reply: FastifyReply, upstream: Response, cacheControl: string): FastifyReply {
  for (const header of ['content-type', 'content-length', 'content-range', 'content-disposition', 'etag', 'last-modified', 'accept-ranges']) {
    const value = upstream.headers.get(header);
    if (value) void reply.header(header, value);
  }
  void reply.header('cache-control', cacheControl);
  void reply.header('content-security-policy', "default-src 'none'; sandbox");
  void reply.status(upstream.status === 206 ? 206 : 200);
  return reply.send(upstream.body ? Readable.from(metered(upstream.body as unknown as AsyncIterable<Uint8Array>), { objectMode: false }) : null);
}

/** The provider's body as it arrives, with every chunk counted for the transfer reclaim. */
async function* metered(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    transferred(chunk.byteLength);
    yield chunk;
  }
}
