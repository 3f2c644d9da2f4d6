// GET /mcp: the session's standalone SSE stream. It subscribes to the broker BEFORE answering,
// so a notify issued as soon as the client sees the response headers is never lost.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SseEvent, SseEventListener } from '../broker/broker.ts';
import { checkGetHeaders } from './guards.ts';
import { sendError } from './respond.ts';
import { SESSION_HEADER, requireSession, versionHeaderOf } from './session.ts';
import { SseStream } from './sse.ts';
import type { Transport } from './transport.ts';

/** Retry hint sent when the server ends a stream the client should re-open. */
const RECONNECT_HINT_MS = 1000;

export async function handleGet(t: Transport, req: IncomingMessage, res: ServerResponse, principal: string | undefined): Promise<void> {
  const headerError = checkGetHeaders(req);
  if (headerError) return sendError(res, headerError, null, t.baseHeaders);
  versionHeaderOf(req);
  const session = await requireSession(req, t.server, principal);

  let stream: SseStream | undefined;
  let ended = false;
  const pending: SseEvent[] = [];
  const listener: SseEventListener = (event) => {
    if (!stream) {
      pending.push(event);
      return;
    }
    deliver(event);
  };
  const deliver = (event: SseEvent) => {
    if (event.type === 'end') {
      // Takeover or deletion: the broker already detached this listener.
      ended = true;
      stream!.end(event.reason === 'takeover' ? undefined : RECONNECT_HINT_MS);
      return;
    }
    const frame = event.id === undefined
      ? { event: 'message', data: JSON.stringify(event.message) }
      : { event: 'message', id: event.id, data: JSON.stringify(event.message) };
    stream!.send(frame);
  };

  await t.server.broker.subscribe(session.id, listener);
  if (req.destroyed) {
    await t.server.broker.unsubscribe(session.id, listener);
    return;
  }
  stream = new SseStream(res, {
    headers: { ...t.baseHeaders, [SESSION_HEADER]: session.id },
    heartbeatMs: t.heartbeatMs,
    maxBufferedBytes: t.maxStreamBufferBytes,
  });
  t.streams.add(stream);
  stream.onClose(() => {
    t.streams.delete(stream!);
    if (!ended) void t.server.broker.unsubscribe(session.id, listener).catch(() => undefined);
  });
  for (const event of pending.splice(0)) deliver(event);
}
