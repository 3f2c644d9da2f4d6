// GET /mcp: the session's standalone SSE stream, or, with Last-Event-ID, the resumption of one
// of its streams (the GET stream or a POST response stream) on whichever worker the client
// reaches. Order matters: subscribe first (buffering), then replay what was retained after the
// client's last id, then drain the buffer skipping what replay already sent, then go live.
// Subscribing before answering also means a notify issued as soon as the client sees the
// response headers is never lost.
//
// One object per held stream, its steps as methods: an idle stream is what a worker holds by the
// thousand, and per-stream closures would each cost more than the object.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SseEvent, SseEventListener } from '../broker/broker.ts';
import { isResponse } from '../mcp/jsonrpc.ts';
import type { ReplayBuffer } from '../replay/replay.ts';
import { formatEventId, GET_STREAM_ID, parseEventId, streamBrokerKey } from '../replay/replay.ts';
import type { SessionRecord } from '../sessions/store.ts';
import { checkGetHeaders } from './guards.ts';
import { requestLogger } from './log.ts';
import { UnavailableError } from './limits.ts';
import { mergeHeaders, sendError } from './respond.ts';
import { SESSION_HEADER, requireSession, versionHeaderOf } from './session.ts';
import { SseStream } from './sse.ts';
import type { Transport } from './transport.ts';

type MessageEvent = Extract<SseEvent, { type: 'message' }>;

export async function handleGet(t: Transport, req: IncomingMessage, res: ServerResponse, principal: string | undefined): Promise<void> {
  const headerError = checkGetHeaders(req);
  if (headerError) return sendError(res, headerError, null, t.baseHeaders);
  versionHeaderOf(req);
  const session = await requireSession(req, t.server, principal);
  const replay = t.server.replay;
  const lastEventHeader = req.headers['last-event-id'];
  // Without replay, Last-Event-ID is ignored: the GET stream simply starts afresh.
  const lastEventId = replay && typeof lastEventHeader === 'string' && lastEventHeader.length > 0 ? lastEventHeader : undefined;
  await new HeldStream(t, req, res, session, lastEventId).open();
}

class HeldStream {
  readonly #t: Transport;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #session: SessionRecord;
  readonly #replay: ReplayBuffer | undefined;
  readonly #lastEventId: string | undefined;
  readonly #streamId: string;
  readonly #resumingPostStream: boolean;
  readonly #brokerKey: string;
  /** What the broker calls; the one function this stream registers. */
  readonly #listener: SseEventListener;
  #stream: SseStream | undefined;
  #ended = false;
  /** Live events go straight out; until then (replay, gap fill) they wait in #pending. */
  #ready = false;
  /** Highest seq written: live events at or below it were already replayed. */
  #lastSeq = -1;
  #pending: SseEvent[] = [];
  /**
   * Set once a live event beyond what replay wrote arrived. Live copies of events the replay
   * already wrote (they travel on another Redis connection than the replay read) come before it,
   * in publish order; after it, a lower number can only mean a replay buffer that lost its state.
   */
  #beyondReplay = false;

  constructor(t: Transport, req: IncomingMessage, res: ServerResponse, session: SessionRecord, lastEventId: string | undefined) {
    this.#t = t;
    this.#req = req;
    this.#res = res;
    this.#session = session;
    this.#replay = t.server.replay;
    this.#lastEventId = lastEventId;
    this.#streamId = (lastEventId && parseEventId(lastEventId)?.streamId) || GET_STREAM_ID;
    this.#resumingPostStream = this.#streamId !== GET_STREAM_ID;
    this.#brokerKey = streamBrokerKey(session.id, this.#streamId);
    this.#listener = (event) => this.#onEvent(event);
  }

  async open(): Promise<void> {
    const t = this.#t;
    // A fresh stream starts at the stream's current position, read before subscribing: what is
    // published after that read is either received live or, if it raced the subscribe, found
    // missing by the gap check and filled from the buffer. Read after subscribing, the position
    // could already count an event whose live copy is still on its way, which would then be
    // taken for an old one and dropped.
    let primeAt: string | undefined;
    if (this.#replay && !this.#lastEventId) {
      try {
        primeAt = await this.#replay.tail(this.#session.id, GET_STREAM_ID);
      } catch (err) {
        // Nothing sent yet: a 503 with Retry-After (from the app's handler) the client retries.
        requestLogger(t.logger, this.#req)?.warn({ err }, 'replay buffer unavailable');
        throw new UnavailableError('The replay buffer is unavailable; retry later');
      }
    }
    await t.server.attachStream(this.#brokerKey, this.#listener);
    if (this.#req.destroyed) {
      await t.server.detachStream(this.#brokerKey, this.#listener);
      return;
    }
    const stream = new SseStream(this.#res, {
      headers: mergeHeaders(t.baseHeaders, { [SESSION_HEADER]: this.#session.id }),
      heartbeatMs: t.heartbeatMs,
      maxBufferedBytes: t.maxStreamBufferBytes,
    });
    this.#stream = stream;
    t.streams.add(stream);
    stream.onClose(() => {
      t.streams.delete(stream);
      if (!this.#ended) {
        this.#ended = true;
        void t.server.detachStream(this.#brokerKey, this.#listener).catch(() => undefined);
      }
    });

    // Replayed and buffered events are already in memory: no slow-consumer cut-off while they go out.
    stream.beginBacklog();
    if (this.#replay && !(await this.#replayOrPrime(this.#replay, stream, primeAt))) return;
    this.#flushPending();
    stream.endBacklog();
    this.#ready = true;
    // SSE polling: end a standalone stream after a while; the client resumes with Last-Event-ID.
    if (this.#replay && t.ssePollMs > 0 && !this.#resumingPostStream) {
      const timer = setTimeout(() => this.#finish(t.retryMs), t.ssePollMs);
      timer.unref();
      stream.onClose(() => clearTimeout(timer));
    }
  }

  /** Replays after Last-Event-ID, or primes a fresh stream with its position; false when it failed. */
  async #replayOrPrime(replay: ReplayBuffer, stream: SseStream, primeAt: string | undefined): Promise<boolean> {
    const t = this.#t;
    try {
      if (this.#lastEventId) {
        const lastEventId = this.#lastEventId;
        const outcome = await replay.replayAfter(this.#session.id, lastEventId, (entry) =>
          this.#write({ type: 'message', message: entry.message, id: entry.id }),
        );
        t.metrics?.replayResumed(outcome.status);
        if (outcome.status !== 'complete') {
          // Documented outcome: the client learns that events it asked for are gone.
          stream.send({ event: 'replay-gap', data: JSON.stringify({ lastEventId, status: outcome.status }) });
          requestLogger(t.logger, this.#req)?.warn({ lastEventId, status: outcome.status }, 'resume outside the replay window');
        }
      } else {
        // Prime the client with the stream's position when it started (spec 2025-11-25).
        const tail = primeAt ?? formatEventId(GET_STREAM_ID, 0);
        this.#lastSeq = parseEventId(tail)?.seq ?? 0;
        stream.send({ id: tail, data: '', retry: t.retryMs });
      }
      return true;
    } catch (err) {
      requestLogger(t.logger, this.#req)?.error({ err }, 'replay failed');
      this.#finish(t.retryMs);
      return false;
    }
  }

  #onEvent(event: SseEvent): void {
    if (this.#stream && this.#pending.length === 0 && this.#ready) this.#deliver(event);
    else this.#pending.push(event);
  }

  #flushPending(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const event of pending) this.#deliver(event);
  }

  #deliver(event: SseEvent): void {
    if (this.#ended) return;
    if (event.type === 'end') {
      // Takeover or deletion: the broker already detached this listener. No retry hint after a
      // takeover, or the two connections would take the stream from each other forever.
      this.#ended = true;
      this.#stream!.end(event.reason === 'takeover' ? undefined : this.#t.retryMs);
      return;
    }
    this.#write(event);
  }

  #write(event: MessageEvent): void {
    if (event.id !== undefined) {
      const seq = parseEventId(event.id)?.seq;
      if (seq !== undefined) {
        if (!this.#ready) {
          // Replay and the events buffered meanwhile overlap: skip what was already written.
          if (seq <= this.#lastSeq) return;
        } else if (seq <= this.#lastSeq) {
          // A live copy of a replayed event: already written. Or, once live events went beyond
          // the replay, the buffer restarted its numbering (Redis restarted empty): follow it,
          // or every event would be dropped until the numbers caught up.
          if (!this.#beyondReplay) return;
        } else if (this.#lastSeq >= 0 && seq > this.#lastSeq + 1) {
          // Live events of a stream arrive one apart: a jump means some never reached this
          // process (Redis cut our subscriber connection). The replay buffer has them.
          this.#fillGap(event, seq);
          return;
        } else {
          this.#beyondReplay = true;
        }
        this.#lastSeq = seq;
      }
    }
    const data = JSON.stringify(event.message);
    this.#stream!.send(event.id === undefined ? { event: 'message', data } : { event: 'message', id: event.id, data });
    // A POST stream is over once its response went out (spec: the server then closes it).
    if (this.#resumingPostStream && isResponse(event.message)) this.#finish(undefined);
  }

  /** Writes the missing events from the replay buffer, then what arrived meanwhile, in order. */
  #fillGap(event: SseEvent, seq: number): void {
    const t = this.#t;
    const stream = this.#stream!;
    this.#ready = false;
    this.#beyondReplay = false;
    this.#pending.push(event);
    const after = formatEventId(this.#streamId, this.#lastSeq);
    requestLogger(t.logger, this.#req)?.warn({ after, seq }, 'live events skipped sequence numbers: filling the gap from the replay buffer');
    stream.beginBacklog();
    this.#replay!
      .replayAfter(this.#session.id, after, (entry) => this.#write({ type: 'message', message: entry.message, id: entry.id }))
      .then((outcome) => {
        if (this.#ended) return;
        if (outcome.status !== 'complete') stream.send({ event: 'replay-gap', data: JSON.stringify({ lastEventId: after, status: outcome.status }) });
        this.#flushPending();
        stream.endBacklog();
        this.#ready = true;
      })
      .catch((err: unknown) => {
        requestLogger(t.logger, this.#req)?.error({ err }, 'replay failed');
        this.#finish(t.retryMs);
      });
  }

  #finish(retryMs: number | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    void this.#t.server.detachStream(this.#brokerKey, this.#listener).catch(() => undefined);
    this.#stream!.end(retryMs);
  }
}
