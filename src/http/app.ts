// The node:http request handler: routes /mcp (POST, GET, DELETE), /healthz and /readyz, applies
// the DNS-rebinding checks, and turns every failure into a precise HTTP + JSON-RPC error.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { McpError, ErrorCode } from '../mcp/errors.ts';
import type { McpServer } from '../mcp/server.ts';
import { handleDelete } from './delete.ts';
import { handleGet } from './get.ts';
import { checkOrigin } from './guards.ts';
import { handlePost } from './post.ts';
import { sendError, sendJson } from './respond.ts';
import type { HttpOptions, Transport } from './transport.ts';

export interface McpHttpApp {
  /** The node:http listener, usable with any http.Server. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  transport: Transport;
  /** Stops accepting new /mcp work (503) and ends every SSE stream with a reconnect hint. */
  drain(retryMs?: number): void;
}

export function createMcpHttpApp(server: McpServer, options: HttpOptions = {}): McpHttpApp {
  const path = options.path ?? '/mcp';
  const baseHeaders: Record<string, string> = {};
  if (options.workerId !== undefined) baseHeaders['mcp-worker-id'] = options.workerId;
  const transport: Transport = {
    server,
    maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    jsonResponse: options.jsonResponse ?? false,
    retryMs: options.retryMs ?? 1000,
    ssePollMs: options.ssePollMs ?? 0,
    maxStreamBufferBytes: options.maxStreamBufferBytes ?? 8 * 1024 * 1024,
    baseHeaders,
    originPolicy: options.originPolicy,
    authenticate: options.authenticate,
    logger: options.logger,
    streams: new Set(),
    draining: false,
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const pathname = url.split('?', 1)[0];
    if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (pathname === '/readyz') {
      return transport.draining ? sendJson(res, 503, { status: 'draining' }) : sendJson(res, 200, { status: 'ready' });
    }
    if (pathname !== path) return sendJson(res, 404, { error: 'Not Found' });
    const originError = transport.originPolicy ? checkOrigin(req, transport.originPolicy) : undefined;
    if (originError) return sendError(res, originError, null, baseHeaders);
    if (transport.draining) {
      return sendError(res, new McpError(ErrorCode.InternalError, 'Server is shutting down', { httpStatus: 503 }), null, {
        ...baseHeaders,
        'retry-after': '1',
        connection: 'close',
      });
    }
    const principal = transport.authenticate ? await transport.authenticate(req) : undefined;
    switch (req.method) {
      case 'POST':
        return handlePost(transport, req, res, principal);
      case 'GET':
        return handleGet(transport, req, res, principal);
      case 'DELETE':
        return handleDelete(transport, req, res, principal);
      default:
        return sendError(res, new McpError(ErrorCode.InvalidRequest, `Method ${req.method} not allowed`, { httpStatus: 405 }), null, {
          ...baseHeaders,
          allow: 'GET, POST, DELETE',
        });
    }
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).catch((err: unknown) => {
      if (!(err instanceof McpError)) options.logger?.error({ err }, 'request failed');
      sendError(res, err, null, baseHeaders);
    });
  };

  return {
    handler,
    transport,
    drain(retryMs = transport.retryMs) {
      transport.draining = true;
      for (const stream of [...transport.streams]) stream.end(retryMs);
    },
  };
}

export interface ListenOptions {
  host?: string;
  port?: number;
  /** Defaults that defeat slowloris: headers within 10 s, a whole request within 5 min. */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** Creates an http.Server for the app and listens; resolves once it accepts connections. */
export async function listen(app: McpHttpApp, options: ListenOptions = {}): Promise<Server> {
  await app.transport.server.start();
  const httpServer = createServer(
    {
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      requestTimeout: options.requestTimeoutMs ?? 300_000,
      keepAliveTimeout: 5_000,
    },
    app.handler,
  );
  // SSE streams live as long as the client wants: no socket inactivity timeout.
  httpServer.timeout = 0;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 3000, options.host ?? '127.0.0.1', () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  return httpServer;
}
