import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errors } from '../errors.ts';
import { createAccessLog } from '../logging.ts';
import { accessHook } from './access.ts';
import { errorHandler } from './errorHandler.ts';
import { createMetrics } from './metrics.ts';
import { routes } from './routes/index.ts';
import type { Access, App, Services } from './types.ts';

export interface RegisteredRoute {
  method: string;
  url: string;
  access: Access;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

export async function buildServer(services: Services): Promise<{ app: App; routes: RegisteredRoute[] }> {
  const { config, logger } = services;
  const bodyLimit = config.http.bodyLimitBytes;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit,
    trustProxy: config.http.trustProxy,
    // Keep-alive connections that sit idle are closed at shutdown; in-flight requests finish.
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    routerOptions: { maxParamLength: 200 },
    // One access-log line per request, written when it completes (onResponse below), instead of
    // Fastify's two (incoming + completed): each line is a write to stdout.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();

  // The API speaks JSON only. Fastify also parses text/plain by default, which would turn a
  // text/plain body into a string and a 400 instead of the documented 415 — and text/plain is the
  // content type a cross-site form can send without a CORS preflight.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler(bodyLimit));
  app.setNotFoundHandler((request, reply) => {
    const err = errors.notFound(`${request.method} ${request.url.split('?')[0]}`);
    void reply.status(404).type('application/json').send(JSON.stringify(err.toJSON()));
  });
  app.decorateRequest('principal', undefined);
  app.decorateRequest('prefetchedConnection', undefined);

  // Every route must say who may call it; a route that forgets is a startup error, not an open door.
  const registered: RegisteredRoute[] = [];
  app.addHook('onRoute', (route) => {
    route.config ??= {};
    if (route.url.startsWith('/docs')) route.config.access ??= 'public';
    // Unknown query parameters are a 400 like unknown body fields, also on routes that take none.
    if (route.url.startsWith('/api/') && route.schema && !route.schema.querystring) route.schema.querystring = z.strictObject({});
    const access = route.config.access;
    if (access === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no access level`);
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') registered.push({ method, url: route.url, access });
    }
  });

  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tether API',
        version: '1',
        description:
          'Tether: OAuth connections, documents, spaces and messages over Microsoft, Google and Webex. ' +
          'Errors are `{"error":{"code","message","details?"}}` with a stable `code`.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'Org API key; name the acting user in the Tether-User header.' },
          operatorToken: { type: 'http', scheme: 'bearer', description: 'The operator token.' },
          session: { type: 'apiKey', in: 'cookie', name: 'tether_session' },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: (input) => namedWildcards(jsonSchemaTransformObject(input) as OpenApiDocument),
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });

  // While shutting down, responses to requests still in flight close their connection, so that
  // keep-alive sockets do not hold the shutdown open until their idle timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  const metrics = createMetrics(services.queueDepth);
  app.decorate('metrics', metrics);
  app.addHook('onRequest', accessHook(services.auth, new URL(config.publicUrl).origin));
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    if (closing) reply.header('connection', 'close');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    if (!request.url.startsWith('/docs')) {
      reply.header('content-security-policy', API_CSP);
      reply.header('cache-control', reply.getHeader('cache-control') ?? 'no-store');
    }
    done(null, payload);
  });
  const accessLog = createAccessLog(logger);
  app.addHook('onResponse', (request, reply, done) => {
    metrics.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    accessLog.completed({ reqId: request.id, req: request, statusCode: reply.statusCode, responseTime: reply.elapsedTime });
    done();
  });
  app.get('/metrics', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    void reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  app.get('/api/v1/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async () => app.swagger());

  for (const route of routes) route(app, services);
  await app.ready();
  return { app, routes: registered };
}

type OpenApiDocument = { paths?: Record<string, Record<string, { parameters?: Array<{ in: string; name: string; description?: string }> }>> };

/** Fastify's wildcard (`/proxy/*`) appears in OpenAPI as a path parameter named `path`, not `*`. */
function namedWildcards(doc: OpenApiDocument): OpenApiDocument {
  if (!doc.paths) return doc;
  const paths: NonNullable<OpenApiDocument['paths']> = {};
  for (const [path, operations] of Object.entries(doc.paths)) {
    if (!path.includes('{*}')) {
      paths[path] = operations;
      continue;
    }
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === 'path' && parameter.name === '*') {
          parameter.name = 'path';
          parameter.description ??= "The rest of the URL: a path below the provider's API base, with its query string.";
        }
      }
    }
    paths[path.replace('{*}', '{path}')] = operations;
  }
  return { ...doc, paths };
}
