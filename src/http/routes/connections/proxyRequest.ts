import type { IncomingMessage } from 'node:http';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { errors } from '../../../errors.ts';
import { proxyTarget } from '../../../outbound/proxyTarget.ts';
import { uuid } from '../../schemas.ts';
import type { App, Route } from '../../types.ts';
import { userOf } from '../../types.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * `/api/v1/connections/{id}/proxy/<path>`: the restricted proxy to the connection profile's API
 * base (README "Provider API proxy"). The path and query come from the raw URL and are checked
 * before anything else (400 invalid_proxy_path); the connection must be visible to the caller (404,
 * no upstream call); the provider's status, allowed headers and body are passed back, streamed.
 */
export const proxyRequest: Route = (app, services) => {
  const maxBytes = services.proxy.maxRequestBytes;
  /** The provider of each proxied request, for the metric counted when the response is done. */
  const providerOf = new WeakMap<FastifyRequest, string>();

  void app.register(async (child: App) => {
    // Bodies of any type are forwarded as bytes: buffered up to the limit (so that the retry after a
    // token refresh can send them again), never parsed.
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', (request, payload, done) => {
      readBody(request.headers['content-length'], payload, maxBytes).then((body) => done(null, body), (err: Error) => done(err));
    });

    child.route({
      method: METHODS,
      url: '/api/v1/connections/:connectionId/proxy/*',
      exposeHeadRoute: false,
      config: { access: 'member', prefetchConnection: true },
      schema: {
        tags: ['connections'],
        summary: "Forward a request to the connection's provider API (restricted proxy)",
        params: z.strictObject({ connectionId: uuid, '*': z.string() }),
        // Forwarded as is after the checks in proxyTarget (not the "unknown parameters" rule).
        querystring: z.looseObject({}),
      },
      onResponse: async (request, reply) => {
        const provider = providerOf.get(request);
        if (provider) app.metrics.observeProxy(provider, request.method, reply.statusCode);
      },
      handler: async (request, reply) => {
        const target = proxyTarget(request.raw.url ?? '');
        const callerGone = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) callerGone.abort();
        });
        const { connectionId } = request.params as { connectionId: string };
        const open = await services.proxy.open(userOf(request), connectionId, callerGone.signal, request.prefetchedConnection);
        providerOf.set(request, open.provider);
        const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : (request.body as Buffer | undefined);
        const answer = await services.proxy.forward(open, target, { method: request.method, headers: request.headers, body });
        return reply.status(answer.status).headers(answer.headers).send(answer.body);
      },
    });
  });
};

async function readBody(announced: string | undefined, payload: IncomingMessage, max: number): Promise<Buffer> {
  if (announced !== undefined && Number(announced) > max) throw errors.payloadTooLarge(max);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of payload) {
    size += (chunk as Buffer).length;
    if (size > max) throw errors.payloadTooLarge(max);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
