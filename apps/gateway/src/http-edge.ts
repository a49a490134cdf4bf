import type { IncomingMessage, ServerResponse } from 'node:http';
import { CORRELATION_HEADER } from '@lianfang/auth';
import { correlationIdFrom } from './correlation';
import { errorBody, type Bilingual, type GatewayErrorCode } from './errors';

type Next = (error?: unknown) => void;
type Middleware = (req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: Next) => void;

/**
 * What every request meets before routing: a correlation id (the caller's, when acceptable, or a new
 * UUIDv7) put on the request for the GraphQL context and on the response for the caller, and the body
 * size limit.
 *
 * These are installed on the Express app before Nest registers its own body parsers. Nest skips its
 * `jsonParser`/`urlencodedParser` when middleware of those names is already there, so the gateway's
 * parser (with MAX_REQUEST_BYTES and GraphQL-shaped errors) replaces Nest's (100 kb, HTML errors).
 */
export function edgeMiddleware(maxRequestBytes: number): Middleware[] {
  const correlation: Middleware = function correlationId(req, res, next) {
    const id = correlationIdFrom(req.headers[CORRELATION_HEADER]);
    req.headers[CORRELATION_HEADER] = id;
    res.setHeader(CORRELATION_HEADER, id);
    next();
  };

  const jsonParser: Middleware = function jsonParser(req, res, next) {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxRequestBytes)
      return tooLarge(req, res, maxRequestBytes, Number(declared));
    if (!hasBody(req) || !isJson(req)) return next();
    const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity')
      return refuse(req, res, 415, 'REQUEST_MALFORMED', {
        zh: `不支持压缩的请求体（Content-Encoding: ${encoding}）`,
        en: `compressed request bodies are not accepted (Content-Encoding: ${encoding})`,
      });
    const chunks: Buffer[] = [];
    let received = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      received += chunk.length;
      // A body without Content-Length (chunked) is counted as it arrives.
      if (received > maxRequestBytes) {
        refused = true;
        chunks.length = 0;
        tooLarge(req, res, maxRequestBytes, undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (e) => {
      if (!refused) next(e);
      refused = true;
    });
    req.on('end', () => {
      if (refused) return;
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        req.body = text === '' ? {} : JSON.parse(text);
      } catch (e) {
        return refuse(req, res, 400, 'REQUEST_MALFORMED', {
          zh: `请求体不是有效的 JSON：${(e as Error).message}`,
          en: `the request body is not valid JSON: ${(e as Error).message}`,
        });
      }
      next();
    });
  };

  // The GraphQL endpoint speaks JSON only; a form body is refused rather than parsed without a limit.
  const urlencodedParser: Middleware = function urlencodedParser(req, res, next) {
    if (!hasBody(req) || !/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? ''))
      return next();
    refuse(req, res, 415, 'REQUEST_MALFORMED', {
      zh: '只接受 application/json 请求体',
      en: 'only application/json request bodies are accepted',
    });
  };

  return [correlation, jsonParser, urlencodedParser];
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

function isJson(req: IncomingMessage): boolean {
  return /^application\/([\w.+-]+\+)?json\b/i.test(req.headers['content-type'] ?? '');
}

function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number, declared: number | undefined) {
  refuse(
    req,
    res,
    413,
    'REQUEST_TOO_LARGE',
    {
      zh: `请求体${declared !== undefined ? `为 ${declared} 字节，` : ''}超过上限 ${limit} 字节（MAX_REQUEST_BYTES）`,
      en: `the request body${declared !== undefined ? ` of ${declared} bytes` : ''} is larger than the limit of ${limit} bytes (MAX_REQUEST_BYTES)`,
    },
    { limit, ...(declared !== undefined ? { size: declared } : {}) },
  );
}

function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: GatewayErrorCode,
  messages: Bilingual,
  extensions: Record<string, unknown> = {},
): void {
  if (res.headersSent) return;
  const correlationId = req.headers[CORRELATION_HEADER];
  const body = JSON.stringify(errorBody(code, messages, { ...extensions, correlationId }));
  res.statusCode = status;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  // The rest of the body is read and dropped (closing on an unread body can reset the connection before
  // the client sees the answer); the connection is not reused. Node's requestTimeout bounds the drain.
  res.setHeader('connection', 'close');
  req.resume();
  res.end(body);
}
