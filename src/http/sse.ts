// A small, strict server-sent-events writer: frames events, sends heartbeats as comment lines,
// and cuts off a consumer that stops reading instead of buffering without bound.

import type { ServerResponse } from 'node:http';
import { mergeHeaders, type Headers } from './respond.ts';

export interface SseStreamOptions {
  /** Comment-line heartbeat interval; 0 disables. Default 15 s. */
  heartbeatMs?: number;
  /** A stream whose unsent bytes exceed this is ended (the client can resume). Default 8 MiB. */
  maxBufferedBytes?: number;
  /** Extra response headers (e.g. Mcp-Session-Id). */
  headers?: Record<string, string>;
  /**
   * Whether a draining server ends this stream with a retry hint (default). False for a POST's
   * response stream: it ends by itself once the response is written, and shutdown waits for it.
   */
  endOnDrain?: boolean;
  /**
   * Send the headers at once (default). A POST's response stream waits: its headers then leave
   * with its first event, in one write.
   */
  flushHeaders?: boolean;
}

export interface SseFrame {
  data: string;
  id?: string;
  event?: string;
  /** Reconnection delay hint for the client, in ms. */
  retry?: number;
}

const LINE_BREAK = /\r\n|\r|\n/;

export class SseStream {
  readonly #res: ServerResponse;
  readonly #maxBufferedBytes: number;
  readonly endOnDrain: boolean;
  /** Writing a backlog (see beginBacklog): no cut-off meanwhile. */
  #backlog = false;
  /** What a backlog left unsent: the cut-off counts on top of it until the client has read it. */
  #allowance = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #onClose: Array<() => void> = [];
  #finalFrame: (() => void) | undefined;

  constructor(res: ServerResponse, options: SseStreamOptions = {}) {
    this.#res = res;
    this.#maxBufferedBytes = options.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.endOnDrain = options.endOnDrain ?? true;
    res.writeHead(
      200,
      mergeHeaders(options.headers, SSE_HEADERS, {
        // A draining server asked for `connection: close`: keep it, so the socket is not reused.
        connection: res.getHeader('connection') === 'close' ? 'close' : 'keep-alive',
      }),
    );
    if (options.flushHeaders ?? true) res.flushHeaders();
    res.on('close', () => this.#finish());
    this.keepAlive(options.heartbeatMs ?? 15_000);
  }

  /** Starts comment-line heartbeats (once; 0 disables), for a stream that turned out long-lived. */
  keepAlive(intervalMs: number): void {
    if (intervalMs <= 0 || this.#heartbeat || this.#closed) return;
    this.#heartbeat = setInterval(() => this.#writeRaw(': keepalive\n\n'), intervalMs);
    this.#heartbeat.unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Registers a callback for when the stream ends, whoever ended it. */
  onClose(callback: () => void): void {
    if (this.#closed) callback();
    else this.#onClose.push(callback);
  }

  /** Sets what the server writes last when it ends the stream itself (not when the client leaves). */
  setFinalFrame(write: () => void): void {
    this.#finalFrame = write;
  }

  /** Writes one event; returns false when the stream is closed or was cut off for backpressure. */
  send(frame: SseFrame): boolean {
    return this.#writeRaw(formatFrame(frame));
  }

  /**
   * Suspends the cut-off while events already held in memory (a replay after Last-Event-ID) are
   * written: a backlog larger than the limit would otherwise cut every resume, forever.
   */
  beginBacklog(): void {
    this.#backlog = true;
  }

  /** Back to the cut-off, which now applies on top of the unsent backlog until it drains. */
  endBacklog(): void {
    if (!this.#backlog) return;
    this.#backlog = false;
    this.#allowance = this.#res.writableLength;
    if (this.#allowance > 0) this.#res.once('drain', () => (this.#allowance = 0));
  }

  /** Ends the stream, optionally telling the client when to reconnect. */
  end(retryMs?: number, last?: SseFrame): void {
    if (this.#closed) return;
    this.#finalFrame?.();
    let tail = last ? formatFrame(last) : '';
    if (retryMs !== undefined) tail += `retry: ${Math.max(0, Math.floor(retryMs))}\n\n`;
    // One write for the last event and the end of the response.
    if (tail) this.#res.end(tail);
    else this.#res.end();
    this.#finish();
  }

  #writeRaw(chunk: string): boolean {
    if (this.#closed) return false;
    this.#res.write(chunk);
    if (!this.#backlog && this.#res.writableLength > this.#maxBufferedBytes + this.#allowance) {
      // A client that stopped reading: cut it off rather than grow memory without bound.
      this.#res.destroy();
      this.#finish();
      return false;
    }
    return true;
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    for (const callback of this.#onClose.splice(0)) callback();
  }
}

/** The SSE headers of a stream (and of a one-write SSE answer). */
const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  // Reverse proxies (nginx) would otherwise buffer the stream.
  'x-accel-buffering': 'no',
};

/**
 * A whole SSE answer in one write, framed by Content-Length: what a POST stream would carry when
 * its messages are all known before anything was sent (the common request → result case).
 */
export function sendSseMessages(res: ServerResponse, messages: readonly unknown[], headers: Headers): void {
  let body = '';
  for (const message of messages) body += formatFrame({ event: 'message', data: JSON.stringify(message) });
  res.writeHead(200, mergeHeaders(headers, SSE_HEADERS, { 'content-length': String(Buffer.byteLength(body)) }));
  res.end(body);
}

function formatFrame(frame: SseFrame): string {
  let out = '';
  if (frame.id !== undefined) out += `id: ${singleLine(frame.id, 'id')}\n`;
  if (frame.event !== undefined) out += `event: ${singleLine(frame.event, 'event')}\n`;
  if (frame.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(frame.retry))}\n`;
  // Most data is one line (JSON.stringify never writes a raw line break): no split for it.
  if (frame.data.indexOf('\n') === -1 && frame.data.indexOf('\r') === -1) return `${out}data: ${frame.data}\n\n`;
  for (const line of frame.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

function singleLine(value: string, field: string): string {
  if (LINE_BREAK.test(value)) throw new TypeError(`SSE ${field} must not contain a line break`);
  return value;
}
