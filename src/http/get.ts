// GET /mcp: the session's standalone SSE stream, or, with Last-Event-ID, the resumption of one
// of its streams (the GET stream or a POST response stream) on whichever worker the client
// reaches. Order matters: subscribe first (buffering), then replay what was retained after the
// client's last id, then drain the buffer skipping what replay already sent, then go live.
// Subscribing before answering also means a notify issued as soon as the client sees the
// response headers is never lost.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SseEvent, SseEventListener } from '../broker/broker.ts';
import { isResponse } from '../mcp/jsonrpc.ts';
import { formatEventId, GET_STREAM_ID, parseEventId, streamBrokerKey } from '../replay/replay.ts';
import { checkGetHeaders } from './guards.ts';
import { requestLogger } from './log.ts';
import { sendError } from './respond.ts';
import { SESSION_HEADER, requireSession, versionHeaderOf } from './session.ts';
import { SseStream } from './sse.ts';
import type { Transport } from './transport.ts';

export async function handleGet(t: Transport, req: IncomingMessage, res: ServerResponse, principal: string | undefined): Promise<void> {
  const headerError = checkGetHeaders(req);
  if (headerError) return sendError(res, headerError, null, t.baseHeaders);
  versionHeaderOf(req);
  const session = await requireSession(req, t.server, principal);
  const replay = t.server.replay;
  const lastEventHeader = req.headers['last-event-id'];
  const lastEventId = replay && typeof lastEventHeader === 'string' && lastEventHeader.length > 0 ? lastEventHeader : undefined;
  // Without replay, Last-Event-ID is ignored: the GET stream simply starts afresh.
  const streamId = (lastEventId && parseEventId(lastEventId)?.streamId) || GET_STREAM_ID;
  const resumingPostStream = streamId !== GET_STREAM_ID;
  const brokerKey = streamBrokerKey(session.id, streamId);

  let stream: SseStream | undefined;
  let ended = false;
  /** Highest seq written: live events at or below it were already replayed. */
  let lastSeq = -1;
  const pending: SseEvent[] = [];

  /**
   * Set once a live event beyond what replay wrote arrived. Live copies of events the replay
   * already wrote (they travel on another Redis connection than the replay read) come before it,
   * in publish order; after it, a lower number can only mean a replay buffer that lost its state.
   */
  let beyondReplay = false;

  const write = (event: Extract<SseEvent, { type: 'message' }>) => {
    if (event.id !== undefined) {
      const seq = parseEventId(event.id)?.seq;
      if (seq !== undefined) {
        if (!ready) {
          // Replay and the events buffered meanwhile overlap: skip what was already written.
          if (seq <= lastSeq) return;
        } else if (seq <= lastSeq) {
          // A live copy of a replayed event: already written. Or, once live events went beyond
          // the replay, the buffer restarted its numbering (Redis restarted empty): follow it,
          // or every event would be dropped until the numbers caught up.
          if (!beyondReplay) return;
        } else if (lastSeq >= 0 && seq > lastSeq + 1) {
          // Live events of a stream arrive one apart: a jump means some never reached this
          // process (Redis cut our subscriber connection). The replay buffer has them.
          fillGap(event, seq);
          return;
        } else {
          beyondReplay = true;
        }
        lastSeq = seq;
      }
    }
    const data = JSON.stringify(event.message);
    stream!.send(event.id === undefined ? { event: 'message', data } : { event: 'message', id: event.id, data });
    // A POST stream is over once its response went out (spec: the server then closes it).
    if (resumingPostStream && isResponse(event.message)) finish(undefined);
  };
  /** Writes the missing events from the replay buffer, then what arrived meanwhile, in order. */
  const fillGap = (event: SseEvent, seq: number) => {
    ready = false;
    beyondReplay = false;
    pending.push(event);
    const after = formatEventId(streamId, lastSeq);
    requestLogger(t.logger, req)?.warn({ after, seq }, 'live events skipped sequence numbers: filling the gap from the replay buffer');
    stream!.beginBacklog();
    replay!
      .replayAfter(session.id, after, (entry) => write({ type: 'message', message: entry.message, id: entry.id }))
      .then((outcome) => {
        if (ended) return;
        if (outcome.status !== 'complete') stream!.send({ event: 'replay-gap', data: JSON.stringify({ lastEventId: after, status: outcome.status }) });
        for (const buffered of pending.splice(0)) deliver(buffered);
        stream!.endBacklog();
        ready = true;
      })
      .catch((err: unknown) => {
        requestLogger(t.logger, req)?.error({ err }, 'replay failed');
        finish(t.retryMs);
      });
  };
  const finish = (retryMs: number | undefined) => {
    if (ended) return;
    ended = true;
    void t.server.detachStream(brokerKey, listener).catch(() => undefined);
    stream!.end(retryMs);
  };
  const deliver = (event: SseEvent) => {
    if (ended) return;
    if (event.type === 'end') {
      // Takeover or deletion: the broker already detached this listener. No retry hint after a
      // takeover, or the two connections would take the stream from each other forever.
      ended = true;
      stream!.end(event.reason === 'takeover' ? undefined : t.retryMs);
      return;
    }
    write(event);
  };
  const listener: SseEventListener = (event) => {
    if (stream && pending.length === 0 && ready) deliver(event);
    else pending.push(event);
  };
  let ready = false;

  await t.server.attachStream(brokerKey, listener);
  if (req.destroyed) {
    await t.server.detachStream(brokerKey, listener);
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
    if (!ended) {
      ended = true;
      void t.server.detachStream(brokerKey, listener).catch(() => undefined);
    }
  });

  // Replayed and buffered events are already in memory: no slow-consumer cut-off while they go out.
  stream.beginBacklog();
  if (replay) {
    try {
      if (lastEventId) {
        const outcome = await replay.replayAfter(session.id, lastEventId, (entry) =>
          write({ type: 'message', message: entry.message, id: entry.id }),
        );
        t.metrics?.replayResumed(outcome.status);
        if (outcome.status !== 'complete') {
          // Documented outcome: the client learns that events it asked for are gone.
          stream.send({ event: 'replay-gap', data: JSON.stringify({ lastEventId, status: outcome.status }) });
          requestLogger(t.logger, req)?.warn({ lastEventId, status: outcome.status }, 'resume outside the replay window');
        }
      } else {
        // Prime the client with the stream's current position (spec 2025-11-25).
        const tail = await replay.tail(session.id, GET_STREAM_ID);
        lastSeq = parseEventId(tail)?.seq ?? 0;
        stream.send({ id: tail, data: '', retry: t.retryMs });
      }
    } catch (err) {
      requestLogger(t.logger, req)?.error({ err }, 'replay failed');
      finish(t.retryMs);
      return;
    }
  }
  for (const event of pending.splice(0)) deliver(event);
  stream.endBacklog();
  ready = true;
  // SSE polling: end a standalone stream after a while; the client resumes with Last-Event-ID.
  if (replay && t.ssePollMs > 0 && !resumingPostStream) {
    const timer = setTimeout(() => finish(t.retryMs), t.ssePollMs);
    timer.unref();
    stream.onClose(() => clearTimeout(timer));
  }
}
