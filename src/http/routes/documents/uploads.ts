import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { checkDriveId } from '../../../documents/ids.ts';
import { documentItem } from '../../../documents/model.ts';
import { TetherError } from '../../../errors.ts';
import type { UploadBody } from '../../../providers/adapter.ts';
import { errorResponses } from '../../schemas.ts';
import type { App, Route } from '../../types.ts';
import { connectionParams, connectionRoute, itemParams, itemRef, open } from './common.ts';
import { itemName } from './patchItem.ts';

const conflict = z.enum(['fail', 'replace', 'rename']).default('fail');

/**
 * Uploads take the file itself as the request body (any content type but JSON), with its length
 * announced; the body is streamed to the provider in chunks and never held whole. JSON to
 * POST /items creates a folder instead.
 */
export const uploadRoutes: Route = (app, services) => {
  const maxBytes = services.config.documents.maxUploadBytes;
  void app.register(async (child: App) => {
    // In this context only: any non-JSON body is handed over as the raw stream.
    child.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

    function uploadBody(request: { headers: Record<string, string | string[] | undefined>; body: unknown }): UploadBody {
      const length = request.headers['content-length'];
      if (typeof length !== 'string' || !/^\d+$/.test(length)) throw new TetherError(411, 'length_required', 'Uploads need a Content-Length.');
      const size = Number(length);
      if (size > maxBytes) throw new TetherError(413, 'too_large', `Uploads are limited to ${maxBytes} bytes.`);
      const contentType = String(request.headers['content-type'] ?? 'application/octet-stream').slice(0, 200);
      return { size, contentType, stream: request.body as IncomingMessage };
    }

    child.post('/api/v1/connections/:connectionId/items', {
      config: connectionRoute,
      schema: {
        tags: ['documents'],
        summary: 'Upload a file (the body is the file), or create a folder (JSON body {"kind":"folder","name"})',
        params: connectionParams,
        querystring: z.strictObject({
          name: itemName.optional(),
          parent: z.string().min(1).max(700).default('root'),
          driveId: z.string().min(1).max(300).optional(),
          conflict,
        }),
        response: { 201: documentItem, ...errorResponses },
      },
    }, async (request, reply) => {
      const c = await open(services, request, reply);
      const q = request.query;
      const parent = q.parent === 'root' ? null : itemRef(c, q.parent);
      const driveId = q.driveId === undefined ? null : checkDriveId(c.provider, q.driveId);
      const isJson = /^application\/json\b/i.test(String(request.headers['content-type'] ?? ''));
      let item;
      if (isJson) {
        const body = z.strictObject({ kind: z.literal('folder'), name: itemName, conflict }).safeParse(request.body);
        if (!body.success) throw new TetherError(400, 'validation_failed', 'The request does not match the schema.', { details: body.error.issues.map((i) => ({ in: 'body', path: i.path.join('.'), message: i.message })) });
        item = await c.write.createFolder(c.ctx, { parent, driveId, name: body.data.name, conflict: body.data.conflict });
      } else {
        if (!q.name) throw new TetherError(400, 'validation_failed', 'An upload needs ?name=.', { details: [{ in: 'querystring', path: 'name', message: 'required for uploads' }] });
        item = await c.write.upload(c.ctx, { parent, driveId, name: q.name, conflict: q.conflict }, uploadBody(request));
      }
      return reply.status(201).send(item);
    });

    child.put('/api/v1/connections/:connectionId/items/:itemId/content', {
      config: connectionRoute,
      schema: { tags: ['documents'], summary: "Replace a file's content (the body is the new content)", params: itemParams, response: { 200: documentItem, ...errorResponses } },
    }, async (request, reply) => {
      const c = await open(services, request, reply);
      return c.write.replaceContent(c.ctx, itemRef(c, request.params.itemId), uploadBody(request));
    });
  });
};
