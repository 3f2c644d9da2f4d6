// POST /mcp in the 2026-07-28 revision: one self-describing request, no session. Errors that
// the revision pins to an HTTP status are answered as JSON before any work; the result is JSON
// unless the handler sends related notifications first (then an SSE stream, with no event ids:
// there is no resumption in this revision). Closing the connection cancels the request.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Cancellation } from '../mcp/cancellation.ts';
import { ErrorCode, McpError, invalidRequest, methodNotFound } from '../mcp/errors.ts';
import { classify } from '../mcp/jsonrpc.ts';
import { McpServer, type MessageOrigin } from '../mcp/server.ts';
import { checkMirroredName, checkParamHeaders, readStatelessMeta, statelessStatus } from '../mcp/stateless.ts';
import { handleListen } from './listen.ts';
import { PostStream } from './post-stream.ts';
import { sendEmpty, sendJson } from './respond.ts';
import { sendStatelessError } from './stateless-respond.ts';
import type { Transport } from './transport.ts';

export async function handleStatelessPost(
  t: Transport,
  req: IncomingMessage,
  res: ServerResponse,
  body: unknown,
  principal: string | undefined,
): Promise<void> {
  if (Array.isArray(body)) return sendStatelessError(t, res, undefined, invalidRequest('JSON-RPC batches are not part of this protocol revision'));
  const message = classify(body);
  if (message.kind === 'invalid') {
    return sendStatelessError(t, res, message.id ?? undefined, invalidRequest(`Invalid Request: ${message.reason}`));
  }
  // The revision defines no client notifications or responses over HTTP: accept and drop.
  if (message.kind !== 'request') return sendEmpty(res, 202, t.baseHeaders);
  const request = message.message;
  let origin: MessageOrigin;
  try {
    const meta = readStatelessMeta(request, req);
    if (!McpServer.STATELESS_METHODS.has(request.method)) throw methodNotFound(request.method);
    checkMirroredName(request, req);
    if (request.method === 'tools/call') checkParamHeaders(request, req, t.server.toolHeaderParams(String(request.params?.name)));
    origin = { protocolVersion: meta.protocolVersion, session: undefined, principal, stateless: meta };
  } catch (err) {
    return sendStatelessError(t, res, request.id, err);
  }
  if (request.method === 'subscriptions/listen') return handleListen(t, req, res, request, origin);

  // The client closing its connection is this revision's cancellation.
  // (Once the answer is finished, closing is no cancellation: the listener then does nothing.)
  const cancellation = new Cancellation();
  res.once('close', () => {
    if (!res.writableFinished) cancellation.abort(new McpError(ErrorCode.RequestTimeout, 'The client closed the connection'));
  });
  const stream = new PostStream(t, res, {}, undefined);
  const response = await t.server.handleRequest(request, origin, stream.exchange(cancellation));
  if (!response || cancellation.aborted) {
    if (stream.streaming) await stream.end();
    else if (!res.headersSent) res.destroy();
    return;
  }
  if (stream.streaming) {
    await stream.finish(response);
    return;
  }
  sendJson(res, 'error' in response ? statelessStatus(response.error.code) : 200, response, t.baseHeaders);
}
