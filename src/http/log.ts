// Per-request loggers: a child of the worker's logger bound to the request id and the session id,
// built only when a line is actually written (at most once per request), so a request that logs
// nothing pays nothing.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { SESSION_HEADER } from './session.ts';

const REQUEST_LOGGER = Symbol('mcp-cluster.requestLogger');
/** A caller's X-Request-Id is kept (a proxy's, to correlate) when it looks like an id. */
const REQUEST_ID = /^[\w.:/+=-]{1,128}$/;

type WithLogger = IncomingMessage & { [REQUEST_LOGGER]?: Logger };

/** The request's logger (worker, reqId, session), or undefined when the app has no logger. */
export function requestLogger(logger: Logger | undefined, req: IncomingMessage, res?: ServerResponse): Logger | undefined {
  if (!logger) return undefined;
  const cached = (req as WithLogger)[REQUEST_LOGGER];
  if (cached) return cached;
  const header = req.headers['x-request-id'];
  const reqId = typeof header === 'string' && REQUEST_ID.test(header) ? header : randomUUID();
  // initialize has no session header yet: its response carries the new id.
  const session = req.headers[SESSION_HEADER] ?? res?.getHeader(SESSION_HEADER);
  const child = logger.child(typeof session === 'string' ? { reqId, session } : { reqId });
  (req as WithLogger)[REQUEST_LOGGER] = child;
  return child;
}

/** At debug level, one line per finished request; at other levels, nothing at all. */
export function accessLog(logger: Logger | undefined, req: IncomingMessage, res: ServerResponse): void {
  if (!logger?.isLevelEnabled('debug')) return;
  const started = performance.now();
  res.once('close', () => {
    requestLogger(logger, req, res)?.debug(
      { method: req.method, url: req.url, status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10 },
      'request',
    );
  });
}
