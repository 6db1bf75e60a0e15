import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { errors, TetherError } from '../errors.ts';

/** Maps anything thrown while handling a request onto Tether's one error body. */
export function toTetherError(err: FastifyError | Error, bodyLimit: number): TetherError {
  if (err instanceof TetherError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    // fastify-type-provider-zod 6 reports each zod issue Ajv-style: the path is only in
    // `instancePath` ("/groupIds/0"); which part of the request failed is Fastify's validationContext.
    return errors.validation(
      err.validation.map((v) => ({
        in: err.validationContext ?? 'body',
        path: v.instancePath.split('/').slice(1).join('.'),
        message: v.message,
      })),
    );
  }
  if (isResponseSerializationError(err)) return errors.internal(err);
  const code = (err as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.invalidJson(err);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge(bodyLimit);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType();
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new TetherError(400, 'bad_request', 'The Content-Length does not match the body.', { cause: err });
  }
  // JSON.parse's SyntaxError surfaces with status 400 on some paths.
  if (err instanceof SyntaxError && (err as FastifyError).statusCode === 400) return errors.invalidJson(err);
  const status = (err as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return new TetherError(status, 'bad_request', 'The request could not be processed.', { cause: err });
  }
  return errors.internal(err);
}

export function errorHandler(bodyLimit: number) {
  return (err: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void => {
    let mapped: TetherError;
    try {
      mapped = toTetherError(err, bodyLimit);
    } catch (mappingError) {
      // Never let Fastify's fallback body (which carries the raw message) reach the caller.
      request.log.error({ err, mappingError }, 'error mapping failed');
      mapped = errors.internal(err);
    }
    if (mapped.status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: mapped.code, status: mapped.status }, 'request rejected');
    void reply.status(mapped.status).headers(mapped.headers).type('application/json').send(JSON.stringify(mapped.toJSON()));
  };
}
