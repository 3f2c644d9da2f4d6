// One-process replay buffer: per stream, the newest `maxLength` events, forgotten `ttlMs` after
// the stream's last append.

import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import { formatEventId, parseEventId, type ReplayBuffer, type ReplayEntry, type ReplayOutcome } from './replay.ts';

export interface ReplayLimits {
  /** Events retained per stream. Default 1000. */
  maxLength?: number;
  /** A stream with no append for this long is forgotten. Default 5 minutes. */
  ttlMs?: number;
}

interface Stream {
  /** seq of entries[0]. */
  firstSeq: number;
  lastSeq: number;
  entries: JsonRpcMessage[];
  expiresAt: number;
}

export class MemoryReplayBuffer implements ReplayBuffer {
  readonly maxLength: number;
  readonly ttlMs: number;
  readonly #streams = new Map<string, Stream>();
  readonly #sweeper: NodeJS.Timeout;

  constructor(limits: ReplayLimits = {}) {
    this.maxLength = limits.maxLength ?? 1000;
    this.ttlMs = limits.ttlMs ?? 5 * 60_000;
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.ttlMs, 30_000));
    this.#sweeper.unref();
  }

  async append(sessionId: string, streamId: string, message: JsonRpcMessage): Promise<string> {
    return this.appendNow(sessionId, streamId, message);
  }

  /** Synchronous append, for callers that must order it with other work (the cluster hub). */
  appendNow(sessionId: string, streamId: string, message: JsonRpcMessage): string {
    const key = streamKey(sessionId, streamId);
    let stream = this.#live(key);
    if (!stream) this.#streams.set(key, (stream = { firstSeq: 1, lastSeq: 0, entries: [], expiresAt: 0 }));
    stream.entries.push(message);
    stream.lastSeq++;
    if (stream.entries.length > this.maxLength) {
      stream.entries.shift();
      stream.firstSeq++;
    }
    stream.expiresAt = Date.now() + this.ttlMs;
    return formatEventId(streamId, stream.lastSeq);
  }

  async replayAfter(sessionId: string, lastEventId: string, send: (entry: ReplayEntry) => void): Promise<ReplayOutcome> {
    const outcome = this.entriesAfter(sessionId, lastEventId);
    if (outcome.status === 'unknown') return { status: 'unknown' };
    for (const entry of outcome.entries) send(entry);
    return { status: outcome.status, streamId: outcome.streamId };
  }

  /** The events after an id, as a list (the cluster hub sends it over IPC). */
  entriesAfter(sessionId: string, lastEventId: string): ReplayOutcome & { entries: ReplayEntry[] } {
    const parsed = parseEventId(lastEventId);
    const stream = parsed && this.#live(streamKey(sessionId, parsed.streamId));
    if (!parsed) return { status: 'unknown', entries: [] };
    // `<stream>/0` is a priming id: a stream with nothing retained yet is simply empty.
    if (!stream) return parsed.seq === 0 ? { status: 'complete', streamId: parsed.streamId, entries: [] } : { status: 'unknown', entries: [] };
    if (parsed.seq > stream.lastSeq) return { status: 'unknown', entries: [] };
    const from = Math.max(parsed.seq + 1, stream.firstSeq);
    const entries: ReplayEntry[] = [];
    for (let seq = from; seq <= stream.lastSeq; seq++) {
      entries.push({ id: formatEventId(parsed.streamId, seq), message: stream.entries[seq - stream.firstSeq]! });
    }
    return { status: parsed.seq + 1 < stream.firstSeq ? 'gap' : 'complete', streamId: parsed.streamId, entries };
  }

  async tail(sessionId: string, streamId: string): Promise<string> {
    return this.tailNow(sessionId, streamId);
  }

  tailNow(sessionId: string, streamId: string): string {
    return formatEventId(streamId, this.#live(streamKey(sessionId, streamId))?.lastSeq ?? 0);
  }

  async forget(sessionId: string): Promise<void> {
    const prefix = `${sessionId}\u0000`;
    for (const key of this.#streams.keys()) if (key.startsWith(prefix)) this.#streams.delete(key);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
  }

  #live(key: string): Stream | undefined {
    const stream = this.#streams.get(key);
    if (stream && stream.expiresAt <= Date.now()) {
      this.#streams.delete(key);
      return undefined;
    }
    return stream;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, stream] of this.#streams) if (stream.expiresAt <= now) this.#streams.delete(key);
  }
}

function streamKey(sessionId: string, streamId: string): string {
  return `${sessionId}\u0000${streamId}`;
}
