// POST /mcp: one JSON-RPC message (or a 2025-03-26 batch). Requests are answered with JSON, or
// with an SSE stream as soon as a handler sends a related message before its result.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode, McpError, invalidRequest } from '../mcp/errors.ts';
import { classify, failure, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.ts';
import type { MessageOrigin } from '../mcp/server.ts';
import { acceptsBatches } from '../mcp/versions.ts';
import { BodyTooLargeError, MAX_JSON_DEPTH, nestingExceeds, readBody } from './body.ts';
import { checkPostHeaders } from './guards.ts';
import { lingerAfterResponse } from './linger.ts';
import { requestLogger } from './log.ts';
import { mergeHeaders, sendEmpty, sendError, sendJson } from './respond.ts';
import { sendSseMessages } from './sse.ts';
import { SESSION_HEADER, requireSession, sessionIdOf, versionHeaderOf } from './session.ts';
import { PostStream } from './post-stream.ts';
import { isBackendUnavailable } from './limits.ts';
import { handleStatelessPost } from './post-stateless.ts';
import { isStatelessMessage } from '../mcp/stateless.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { Transport } from './transport.ts';

export async function handlePost(t: Transport, req: IncomingMessage, res: ServerResponse, principal: string | undefined): Promise<void> {
  const headerError = checkPostHeaders(req);
  if (headerError) return sendError(res, headerError, null, t.baseHeaders);

  let body: unknown;
  let tooDeep = false;
  try {
    const raw = await readBody(req, t.maxBodyBytes);
    body = JSON.parse(raw.toString('utf8'));
    tooDeep = nestingExceeds(raw, MAX_JSON_DEPTH);
  } catch (err) {
    if (err instanceof BodyTooLargeError) {
      // The rest of the body may still be on its way: drain it a while rather than reset it.
      lingerAfterResponse(res);
      return sendError(res, new McpError(ErrorCode.InvalidRequest, err.message, { httpStatus: 413 }), null, mergeHeaders(t.baseHeaders, { connection: 'close' }));
    }
    return sendError(res, new McpError(ErrorCode.ParseError, 'Parse error: the body is not valid JSON', { httpStatus: 400 }), null, t.baseHeaders);
  }
  if (tooDeep) return sendError(res, invalidRequest(`Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`), null, t.baseHeaders);

  // One endpoint, two revisions: a self-describing (2026-07-28) request takes its own path.
  if (isStatelessMessage(req, body)) return handleStatelessPost(t, req, res, body, principal);
  versionHeaderOf(req);

  const batch = Array.isArray(body);
  const single = batch ? undefined : classify(body);
  // The common case, one request of an open session: answered without the batch machinery.
  if (single?.kind === 'request' && single.message.method !== 'initialize') {
    return answerRequest(t, req, res, single.message, await requireSession(req, t.server, principal), principal);
  }
  const items: unknown[] = Array.isArray(body) ? body : [body];
  if (batch && items.length === 0) return sendError(res, invalidRequest('An empty batch is not a valid request'), null, t.baseHeaders);
  const classified = single ? [single] : items.map(classify);

  // initialize opens a session and must be alone (spec: it is never part of a batch).
  const initialize = classified.find((c) => c.kind === 'request' && c.message.method === 'initialize');
  if (initialize) {
    if (batch) return sendError(res, invalidRequest('initialize must not be sent in a batch'), null, t.baseHeaders);
    if (sessionIdOf(req) !== undefined) {
      return sendError(res, invalidRequest('initialize must not carry an Mcp-Session-Id: the session is not open yet'), null, t.baseHeaders);
    }
    const request = (initialize as { message: JsonRpcRequest }).message;
    // --max-sessions: a full worker answers 503 + Retry-After (thrown to the app's error handler).
    const slot = await t.sessionLimit?.admit();
    try {
      const { session, response } = await t.server.openSession(request, principal);
      slot?.opened(session.id);
      return sendJson(res, 200, response, mergeHeaders(t.baseHeaders, { [SESSION_HEADER]: session.id }));
    } catch (err) {
      slot?.cancel();
      // Redis (or the primary) not answering: a 503 the client may retry, from the app's handler.
      if (isBackendUnavailable(err)) throw err;
      return sendJson(res, 200, failure(request.id, errorObject(err)), t.baseHeaders);
    }
  }

  const session = await requireSession(req, t.server, principal);
  if (batch && !acceptsBatches(session.protocolVersion)) {
    return sendError(res, invalidRequest(`JSON-RPC batches are not supported in protocol version ${session.protocolVersion}`), null, t.baseHeaders);
  }
  if (!batch && classified[0]!.kind === 'invalid') {
    const invalid = classified[0] as { id: string | number | null; reason: string };
    return sendError(res, invalidRequest(`Invalid Request: ${invalid.reason}`), invalid.id, t.baseHeaders);
  }
  const origin = originOf(t, session, principal);

  const requests: JsonRpcRequest[] = [];
  const invalidReplies: JsonRpcResponse[] = [];
  for (const item of classified) {
    switch (item.kind) {
      case 'request':
        requests.push(item.message);
        break;
      case 'notification':
        await t.server.handleNotification(item.message, origin);
        break;
      case 'response':
        if ((await t.server.handleResponse(item.message)) === 'orphaned') {
          // Answered 202 all the same: the client did its part; its request's worker is gone.
          requestLogger(t.logger, req)?.warn({ id: item.message.id }, 'reply to a server request nobody waits for');
        }
        break;
      case 'invalid':
        invalidReplies.push(failure(item.id, { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${item.reason}` }));
        break;
    }
  }
  if (requests.length === 0) {
    if (invalidReplies.length > 0) return sendJson(res, 400, batch ? invalidReplies : invalidReplies[0], t.baseHeaders);
    return sendEmpty(res, 202, t.baseHeaders);
  }

  const stream = openPostStream(t, res, session.id);
  const exchange = stream.exchange();
  const answered = await Promise.all(
    requests.map(async (request) => {
      const response = await t.server.handleRequest(request, origin, exchange);
      // Once streaming, each response goes out as soon as it is ready.
      if (response && stream.streaming) await stream.write(response);
      return response;
    }),
  );
  // A cancelled request gets no response (spec); in JSON mode the HTTP request still needs one.
  const responses = answered.filter((response): response is JsonRpcResponse => response !== undefined);
  if (stream.streaming) {
    for (const reply of invalidReplies) await stream.write(reply);
    await stream.end();
    return;
  }
  const all = [...responses, ...invalidReplies];
  const headers = mergeHeaders(t.baseHeaders, { [SESSION_HEADER]: session.id });
  // SSE unless JSON was asked for: the same answer a stream would have carried, each message an event.
  if (!t.jsonResponse) return sendSseMessages(res, all, headers);
  if (all.length === 0) return sendEmpty(res, 202, headers);
  sendJson(res, 200, batch ? all : all[0], headers);
}

/**
 * One request of an open session (the common POST): its result and the end of the response
 * leave in one write, as a one-event SSE answer unless a handler opened the stream before.
 */
async function answerRequest(
  t: Transport,
  req: IncomingMessage,
  res: ServerResponse,
  request: JsonRpcRequest,
  session: SessionRecord,
  principal: string | undefined,
): Promise<void> {
  const stream = openPostStream(t, res, session.id);
  const response = await t.server.handleRequest(request, originOf(t, session, principal), stream.exchange());
  if (stream.streaming) {
    if (response) await stream.finish(response);
    await stream.end();
    return;
  }
  const headers = mergeHeaders(t.baseHeaders, { [SESSION_HEADER]: session.id });
  // A cancelled request gets no response (spec): an empty SSE answer, or 202 in JSON mode.
  if (!t.jsonResponse) return sendSseMessages(res, response ? [response] : [], headers);
  if (!response) return sendEmpty(res, 202, headers);
  sendJson(res, 200, response, headers);
}

/** The response stream of a POST; a resumable one is primed at once (its first event names it). */
function openPostStream(t: Transport, res: ServerResponse, sessionId: string): PostStream {
  const stream = new PostStream(t, res, { [SESSION_HEADER]: sessionId }, sessionId);
  // Otherwise the stream opens with the first related message, and results that come alone
  // are answered in one write.
  if (!t.jsonResponse && t.server.replay) stream.open();
  return stream;
}

/** What the messages of a POST carry: the session (marked as seen) and who sent them. */
function originOf(t: Transport, session: SessionRecord, principal: string | undefined): MessageOrigin {
  void t.server.sessions.touch(session.id).catch(ignore);
  // The version negotiated at initialize governs the session; the header is only validated.
  return { protocolVersion: session.protocolVersion, session, principal };
}

function ignore(): void {}

function errorObject(err: unknown) {
  return err instanceof McpError ? err.toJsonRpc() : { code: ErrorCode.InternalError, message: 'Internal error' };
}
