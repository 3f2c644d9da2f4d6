// Notifying sessions from a process that is not an HTTP worker (a job runner, a cron): only a
// Redis connection is needed, and the result means what `server.notify` means.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JsonRpcMessage } from './mcp/jsonrpc.ts';
import { busChannel, encode, sessionChannelPrefix } from './broker/redis-wire.ts';
import { RedisReplayBuffer } from './replay/redis.ts';
import { GET_STREAM_ID } from './replay/replay.ts';
import { RedisSessionStore } from './sessions/redis.ts';

export interface NotifierOptions {
  /** A connected ioredis client. Borrowed: the notifier never closes it. */
  redis: Redis;
  /** Must match the servers' `--channel-prefix`. Default `mcp`. */
  channelPrefix?: string;
  /**
   * Retain notifications for Last-Event-ID resume, as servers started with `--replay` do (give
   * the same limits). Without it a notification for a disconnected stream is dropped.
   */
  replay?: boolean | { maxLength?: number; ttlMs?: number };
}

export interface Notifier {
  /** One PUBLISH to the session's channel; true when a worker's stream subscriber received it. */
  notify(sessionId: string, message: JsonRpcMessage | { method: string; params?: Record<string, unknown> }): Promise<boolean>;
  /** `notifications/resources/updated` to every session subscribed to `uri`; resolves to how many got it. */
  resourceUpdated(uri: string): Promise<number>;
  /** A notification to every live session of the deployment (one PUBLISH on its bus). */
  broadcast(message: { method: string; params?: Record<string, unknown> }): Promise<void>;
}

export function createNotifier(options: NotifierOptions): Notifier {
  const prefix = sessionChannelPrefix(options.channelPrefix);
  const origin = `notifier:${randomUUID()}`;
  const sessions = new RedisSessionStore({ redis: options.redis, keyPrefix: options.channelPrefix ?? 'mcp' });
  const limits = typeof options.replay === 'object' ? options.replay : {};
  const replay = options.replay ? new RedisReplayBuffer({ redis: options.redis, keyPrefix: options.channelPrefix ?? 'mcp', ...limits }) : undefined;
  const notify: Notifier['notify'] = async (sessionId, message) => {
    const full = ('jsonrpc' in message ? message : { jsonrpc: '2.0', ...message }) as JsonRpcMessage;
    // Same script the servers use: retained, then published with its event id, in one round trip.
    if (replay) return (await replay.appendAndPublish(sessionId, GET_STREAM_ID, sessionId, full)).delivered;
    const receivers = await options.redis.publish(prefix + sessionId, encode({ type: 'event', origin, event: { type: 'message', message: full } }));
    return receivers > 0;
  };
  return {
    notify,
    async resourceUpdated(uri) {
      const ids = await sessions.subscribersOf(uri);
      const results = await Promise.all(ids.map((id) => notify(id, { method: 'notifications/resources/updated', params: { uri } })));
      return results.filter(Boolean).length;
    },
    async broadcast(message) {
      const full = { jsonrpc: '2.0', ...message } as JsonRpcMessage;
      await options.redis.publish(busChannel(options.channelPrefix), encode({ type: 'bus', origin, message: { type: 'notify-sessions', message: full } }));
    },
  };
}
