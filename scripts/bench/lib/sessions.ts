// Many sessions at once, each holding its GET stream on its own connection (the way N separate
// clients would), opened through a few shared connections so that the server is left with the
// streams and nothing else.

import type { EventSourceMessage } from 'eventsource-parser';
import { mapLimit, McpConnection, openSse, streamHeaders, type SseStreamHandle } from './mcp.ts';

export interface SessionStreams {
  sessionIds: string[];
  streams: SseStreamHandle[];
  /** Streams per `mcp-worker-id`. */
  byWorker(): Record<string, number>;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** false: bare SSE streams (GET <origin>/sse), no session. */
  session?: boolean;
  concurrency?: number;
  initConnections?: number;
  onEvent?: (index: number, event: EventSourceMessage) => void;
  /** Index of the first stream (for onEvent), when adding to an existing set. */
  offset?: number;
}

export async function openSessionStreams(url: string, count: number, options: OpenOptions = {}): Promise<SessionStreams> {
  const session = options.session ?? true;
  const offset = options.offset ?? 0;
  const onEvent = options.onEvent;
  const inits = session ? Array.from({ length: options.initConnections ?? options.concurrency ?? 50 }, () => new McpConnection(url)) : [];
  const origin = new URL(url).origin;
  const sessionIds: string[] = new Array(count).fill('');
  // One opener per init connection at a time: each initialize overwrites the connection's session.
  const queues = new Map<McpConnection, Promise<unknown>>();
  const exclusive = <T>(connection: McpConnection, task: () => Promise<T>): Promise<T> => {
    const next = (queues.get(connection) ?? Promise.resolve()).then(task, task);
    queues.set(connection, next.catch(() => undefined));
    return next;
  };
  try {
    const streams = await mapLimit(Array.from({ length: count }, (_, i) => i), options.concurrency ?? 50, async (i) => {
      let headers: Record<string, string> = { accept: 'text/event-stream' };
      if (session) {
        const init = inits[i % inits.length]!;
        headers = await exclusive(init, async () => {
          sessionIds[i] = await init.initialize();
          return streamHeaders(init);
        });
      }
      const stream = await openSse(session ? url : `${origin}/sse`, {
        headers,
        onEvent: onEvent ? (event) => onEvent(offset + i, event) : () => undefined,
      });
      if (stream.status !== 200) throw new Error(`GET stream: HTTP ${stream.status}`);
      return stream;
    });
    return {
      sessionIds,
      streams,
      byWorker() {
        const counts: Record<string, number> = {};
        for (const stream of streams) counts[stream.workerId || '-'] = (counts[stream.workerId || '-'] ?? 0) + 1;
        return counts;
      },
      async close() {
        await mapLimit(streams, 500, (stream) => stream.close().catch(() => undefined));
      },
    };
  } finally {
    await Promise.all(inits.map((init) => init.close()));
  }
}
