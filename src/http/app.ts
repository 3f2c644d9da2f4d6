// The node:http request handler: routes /mcp (POST, GET, DELETE), /healthz, /readyz and
// /metrics, applies the DNS-rebinding checks, and turns every failure into a precise HTTP +
// JSON-RPC error.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { McpError, ErrorCode } from '../mcp/errors.ts';
import { isStatelessHeader } from '../mcp/stateless.ts';
import type { McpServer } from '../mcp/server.ts';
import { protectedResourceMetadata, WELL_KNOWN_RESOURCE, wwwAuthenticate } from './auth.ts';
import { isBackendUnavailable, SessionLimit, StreamLimit, UnavailableError } from './limits.ts';
import { handleDelete } from './delete.ts';
import { handleGet } from './get.ts';
import { accessLog, requestLogger } from './log.ts';
import { sendMetrics, sendReadiness } from './ops.ts';
import { checkOrigin } from './guards.ts';
import { handlePost } from './post.ts';
import { mergeHeaders, sendError, sendJson } from './respond.ts';
import type { HttpOptions, Transport } from './transport.ts';

export interface McpHttpApp {
  /** The node:http listener, usable with any http.Server. */
  handler: (req: IncomingMessage, res: ServerResponse) => void;
  transport: Transport;
  /**
   * Ends every GET (and listen) stream with a reconnect hint; POST response streams end with
   * their response. From then on every response carries `connection: close`, and a new GET
   * stream is ended at once with a reconnect hint.
   */
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
    maxListeners: options.maxListeners ?? 10_000,
    listeners: 0,
    maxStreamBufferBytes: options.maxStreamBufferBytes ?? 8 * 1024 * 1024,
    baseHeaders,
    originPolicy: options.originPolicy,
    authenticate: options.authenticate,
    sessionLimit: options.maxSessions ? new SessionLimit(options.maxSessions, server.sessions) : undefined,
    logger: options.logger,
    metrics: options.metrics,
    streams: new Set(),
    draining: false,
  };
  const streamLimit = new StreamLimit(options.maxStreams ?? 0);
  // RFC 9728 metadata, served (and named by every 401) whenever requests are authenticated.
  const resource = options.protectedResource ?? (options.authenticate ? {} : undefined);
  /** Responses not yet finished, so that drain() can mark them `connection: close`. */
  const active = new Set<ServerResponse>();

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const pathname = url.split('?', 1)[0];
    if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (pathname === '/readyz') return sendReadiness(res, transport.draining, options.readiness);
    if (pathname === '/metrics' && options.metrics) return sendMetrics(res, options.metrics);
    if (resource && (pathname === WELL_KNOWN_RESOURCE || pathname === WELL_KNOWN_RESOURCE + path)) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'Method Not Allowed' }, { allow: 'GET, HEAD' });
      return sendJson(res, 200, protectedResourceMetadata(req, path, resource), { 'access-control-allow-origin': '*' });
    }
    if (pathname !== path) return sendJson(res, 404, { error: 'Not Found' });
    const originError = transport.originPolicy ? checkOrigin(req, transport.originPolicy) : undefined;
    if (originError) return sendError(res, originError, null, baseHeaders);
    if (transport.draining && req.method === 'GET') {
      // No new stream on a draining worker, and no 5xx either: an SSE answer that only says
      // "reconnect in retryMs", on a connection that closes, so the client lands on a live worker.
      res.writeHead(200, mergeHeaders(baseHeaders, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'close' }));
      res.end(`retry: ${transport.retryMs}\n\n`);
      return;
    }
    const principal = transport.authenticate ? await transport.authenticate(req) : undefined;
    // The 2026-07-28 revision has no GET stream and no session to DELETE: POST only.
    if ((req.method === 'GET' || req.method === 'DELETE') && isStatelessHeader(req)) {
      return sendError(res, new McpError(ErrorCode.InvalidRequest, `${req.method} is not part of protocol revision 2026-07-28`, { httpStatus: 405 }), null, mergeHeaders(baseHeaders, { allow: 'POST' }));
    }
    switch (req.method) {
      case 'POST':
        return handlePost(transport, req, res, principal);
      case 'GET': {
        res.once('close', streamLimit.acquire());
        return handleGet(transport, req, res, principal);
      }
      case 'DELETE':
        return handleDelete(transport, req, res, principal);
      default:
        return sendError(res, new McpError(ErrorCode.InvalidRequest, `Method ${req.method} not allowed`, { httpStatus: 405 }), null, mergeHeaders(baseHeaders, { allow: 'GET, POST, DELETE' }));
    }
  };

  const fail = (req: IncomingMessage, res: ServerResponse, err: unknown): void => {
    // Redis or the primary unreachable: a retryable 503, not a 500.
    const refusal = isBackendUnavailable(err) ? new UnavailableError('A backend is unavailable; retry later') : err;
    if (!(err instanceof McpError)) requestLogger(options.logger, req, res)?.[refusal === err ? 'error' : 'warn']({ err }, 'request failed');
    const headers = mergeHeaders(baseHeaders);
    if (refusal instanceof UnavailableError) headers['retry-after'] = String(refusal.retryAfterSeconds);
    if (resource && refusal instanceof McpError && refusal.httpStatus === 401) headers['www-authenticate'] = wwwAuthenticate(req, path, resource, refusal);
    sendError(res, refusal, null, headers);
  };

  // Every failure of a request ends here; awaited inside, so a request costs no extra closure.
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      await route(req, res);
    } catch (err) {
      fail(req, res, err);
    }
  };

  // One listener for every response (a close event's `this` is the response).
  function forget(this: ServerResponse): void {
    active.delete(this);
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    // While draining, a request that still arrives on an open connection is served, and that
    // connection closes after the response: the client never reuses a socket about to be cut.
    if (transport.draining) res.setHeader('connection', 'close');
    active.add(res);
    accessLog(options.logger, req, res);
    // `close` is emitted once per response: `on` spares the wrapper `once` would build.
    res.on('close', forget);
    void serve(req, res);
  };

  return {
    handler,
    transport,
    drain(retryMs = transport.retryMs) {
      transport.draining = true;
      for (const res of active) if (!res.headersSent) res.setHeader('connection', 'close');
      for (const stream of [...transport.streams]) if (stream.endOnDrain) stream.end(retryMs);
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
      // Node enforces both timeouts on this sweep (default every 30 s, which lets a slowloris
      // hold a socket up to 40 s): check every second.
      connectionsCheckingInterval: 1_000,
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
