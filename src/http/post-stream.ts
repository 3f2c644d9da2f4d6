// The response to a POST with requests: plain JSON, or an SSE stream that related messages and
// the results travel on. With a replay buffer the stream is resumable: it starts with a priming
// event (an id, no data, a retry hint), every message is retained before it is written, and once
// the connection is gone what follows is published for a GET + Last-Event-ID on any worker.

import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Cancellation } from '../mcp/cancellation.ts';
import type { Exchange } from '../mcp/context.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { formatEventId, publishRetained, streamBrokerKey, type ReplayBuffer } from '../replay/replay.ts';
import { mergeHeaders } from './respond.ts';
import { SseStream } from './sse.ts';
import type { Transport } from './transport.ts';

export class PostStream {
  readonly #t: Transport;
  readonly #res: ServerResponse;
  readonly #headers: Record<string, string>;
  readonly #sessionId: string | undefined;
  /** Set when the stream is resumable. */
  readonly #streamId: string | undefined;
  #sse: SseStream | undefined;
  /** Writes happen in order, each after the previous one was retained. */
  #queue: Promise<void> = Promise.resolve();

  /** Without a session (the stateless revision) a stream is never resumable. */
  constructor(t: Transport, res: ServerResponse, headers: Record<string, string>, sessionId: string | undefined) {
    this.#t = t;
    this.#res = res;
    this.#headers = headers;
    this.#sessionId = sessionId;
    this.#streamId = t.server.replay && sessionId !== undefined ? `p${randomBytes(9).toString('base64url')}` : undefined;
  }

  /** What the handlers of this POST's requests send through (and how the transport cancels them). */
  exchange(cancellation?: Cancellation): Exchange {
    return new PostStreamExchange(this, cancellation);
  }

  get streaming(): boolean {
    return this.#sse !== undefined;
  }

  open(): SseStream {
    if (this.#sse) return this.#sse;
    const sse = new SseStream(this.#res, {
      headers: mergeHeaders(this.#t.baseHeaders, this.#headers),
      // Most POST streams carry one result and end: heartbeats start with a related message.
      heartbeatMs: 0,
      flushHeaders: false,
      maxBufferedBytes: this.#t.maxStreamBufferBytes,
      // Shutdown lets the call finish (within the drain deadline) rather than cut its answer.
      endOnDrain: false,
    });
    this.#sse = sse;
    this.#t.streams.add(sse);
    sse.onClose(() => this.#t.streams.delete(sse));
    // spec 2025-11-25: prime the client with an event id (and empty data) so it can resume.
    if (this.#streamId) sse.send({ id: formatEventId(this.#streamId, 0), data: '', retry: this.#t.retryMs });
    return sse;
  }

  /** Queues a message; resolves once it was written (or retained and published). */
  write(message: JsonRpcMessage): Promise<void> {
    const sse = this.open();
    const next = this.#queue.then(() => this.#writeNow(sse, message));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** SSE polling: end the connection now; later messages reach the client when it resumes. */
  closeForPolling(retryMs?: number): boolean {
    if (!this.#streamId) return false;
    const sse = this.open();
    this.#queue = this.#queue.then(() => sse.end(retryMs ?? this.#t.retryMs));
    return true;
  }

  /** Ends the stream once every queued message is out. */
  async end(): Promise<void> {
    await this.#queue;
    this.#sse?.end();
  }

  /** Writes the last message and ends the stream (one write when nothing is retained). */
  finish(message: JsonRpcMessage): Promise<void> {
    const sse = this.open();
    const next = this.#queue.then(async () => {
      const replay = this.#t.server.replay;
      const data = JSON.stringify(message);
      if (!replay || !this.#streamId || this.#sessionId === undefined) {
        sse.end(undefined, { event: 'message', data });
        return;
      }
      if (sse.closed) {
        await publishRetained(replay, this.#t.server.broker, this.#sessionId, this.#streamId, message);
        return;
      }
      const id = await this.#retain(replay, message);
      // The client left while we retained it: hand it to a resumed stream, if any.
      if (sse.closed) await this.#t.server.broker.publish(streamBrokerKey(this.#sessionId, this.#streamId), { type: 'message', message, id });
      else sse.end(undefined, { event: 'message', id, data });
    });
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Retains a message before it is written; undefined when the replay buffer cannot be reached
   * (Redis down): the client still gets the message, without an id (not resumable, not lost).
   */
  async #retain(replay: ReplayBuffer, message: JsonRpcMessage): Promise<string | undefined> {
    try {
      return await replay.append(this.#sessionId!, this.#streamId!, message);
    } catch (err) {
      this.#t.logger?.warn({ err, session: this.#sessionId }, 'replay unavailable: message sent without an event id');
      return undefined;
    }
  }

  async #writeNow(sse: SseStream, message: JsonRpcMessage): Promise<void> {
    // A related message before the result: the call may run long, keep the stream alive.
    if ('method' in message) sse.keepAlive(this.#t.heartbeatMs);
    const replay = this.#t.server.replay;
    if (!replay || !this.#streamId || this.#sessionId === undefined) {
      sse.send({ event: 'message', data: JSON.stringify(message) });
      return;
    }
    if (sse.closed) {
      // The client left (or was asked to poll): retain and publish to a resumed stream, if any.
      await publishRetained(replay, this.#t.server.broker, this.#sessionId, this.#streamId, message);
      return;
    }
    const id = await this.#retain(replay, message);
    sse.send({ event: 'message', id, data: JSON.stringify(message) });
  }
}

/** A POST stream seen from the handlers: a class rather than closures, one small object per POST. */
class PostStreamExchange implements Exchange {
  readonly #stream: PostStream;
  readonly cancellation: Cancellation | undefined;

  constructor(stream: PostStream, cancellation: Cancellation | undefined) {
    this.#stream = stream;
    this.cancellation = cancellation;
  }

  send(message: JsonRpcMessage): Promise<void> {
    return this.#stream.write(message);
  }

  closeStream(retryMs?: number): boolean {
    return this.#stream.closeForPolling(retryMs);
  }
}
