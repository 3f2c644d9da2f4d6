// Receiving ends of the notify scenarios, in this process: mcp-cluster sessions holding a GET
// stream on a chosen worker, Socket.IO clients, raw Redis subscribers. Each counts what it
// received and records latency from the send time stamped in the payload.

import { Redis } from 'ioredis';
import { io as ioClient, type Socket } from 'socket.io-client';
import { nowUs } from './clock.ts';
import { McpConnection, openSse, streamHeaders, type SseStreamHandle } from './mcp.ts';
import { Samples } from './stats.ts';

export interface Payload {
  seq: number;
  /** Send time, µs of the system-wide monotonic clock. */
  t: number;
  tag?: number;
}

/** Where received payloads go; swapped between measurement steps. */
export class Tally {
  received = 0;
  latency = new Samples();
  /** Receive time of the last payload with a given tag (broadcast scenario). */
  lastTagAt = new Map<number, number>();
  tagCount = new Map<number, number>();

  record(payload: Payload): void {
    const now = nowUs();
    this.received++;
    this.latency.add((now - payload.t) / 1000);
    if (payload.tag !== undefined) {
      this.lastTagAt.set(payload.tag, now);
      this.tagCount.set(payload.tag, (this.tagCount.get(payload.tag) ?? 0) + 1);
    }
  }
}

export interface Receiver {
  /** What the sender addresses: a session id, a socket id, a channel suffix. */
  target: string;
  where: string;
  close(): Promise<void>;
}

/** A session whose GET stream is held by `worker` (any when undefined). */
export async function mcpReceiver(url: string, worker: string | undefined, sink: () => Tally): Promise<Receiver & { connection: McpConnection; stream: SseStreamHandle }> {
  const connection = new McpConnection(url);
  const sessionId = await connection.initialize();
  for (let attempt = 0; attempt < 40; attempt++) {
    const stream = await openSse(url, {
      headers: streamHeaders(connection),
      onEvent: (event) => {
        const message = JSON.parse(event.data) as { params?: { data?: Payload } };
        const payload = message.params?.data;
        if (payload && typeof payload.t === 'number') sink().record(payload);
      },
    });
    if (stream.status !== 200) throw new Error(`GET stream: HTTP ${stream.status}`);
    if (worker === undefined || stream.workerId === worker) {
      return {
        target: sessionId,
        where: stream.workerId,
        connection,
        stream,
        async close() {
          await stream.close();
          await connection.deleteSession().catch(() => undefined);
          await connection.close();
        },
      };
    }
    await stream.close();
  }
  throw new Error(`no GET stream landed on worker ${worker}`);
}

export async function socketIoReceiver(url: string, where: string, sink: () => Tally): Promise<Receiver & { socket: Socket }> {
  const socket = ioClient(url, { transports: ['websocket'], forceNew: true, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error) => reject(error));
  });
  socket.on('tick', (payload: Payload) => sink().record(payload));
  return {
    target: socket.id!,
    where,
    socket,
    async close() {
      socket.disconnect();
    },
  };
}

export async function rawReceiver(redisUrl: string, index: number, sink: () => Tally): Promise<Receiver & { redis: Redis }> {
  const redis = new Redis(redisUrl, { connectionName: `bench:raw:sub:${index}` });
  const target = `r${index}`;
  await redis.subscribe(`bench:raw:${target}`);
  redis.on('message', (_channel: string, raw: string) => sink().record(JSON.parse(raw) as Payload));
  return {
    target,
    where: 'redis',
    redis,
    async close() {
      await redis.quit();
    },
  };
}

/** Waits until `tally().received` reaches `expected`, or nothing arrived for `quietMs`. */
export async function settle(tally: Tally, expected: number, quietMs = 1500, maxMs = 10_000): Promise<void> {
  const started = Date.now();
  let last = tally.received;
  let lastChange = Date.now();
  while (tally.received < expected && Date.now() - lastChange < quietMs && Date.now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    if (tally.received !== last) {
      last = tally.received;
      lastChange = Date.now();
    }
  }
}
