// Notifying sessions from a process that is not an HTTP worker (a job runner, a cron): only a
// Redis connection is needed, and the result means what `server.notify` means.

import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { JsonRpcMessage } from './mcp/jsonrpc.ts';
import { encode, sessionChannelPrefix } from './broker/redis-wire.ts';
import { RedisSessionStore } from './sessions/redis.ts';

export interface NotifierOptions {
  /** A connected ioredis client. Borrowed: the notifier never closes it. */
  redis: Redis;
  /** Must match the servers' `--channel-prefix`. Default `mcp`. */
  channelPrefix?: string;
}

export interface Notifier {
  /** One PUBLISH to the session's channel; true when a worker's stream subscriber received it. */
  notify(sessionId: string, message: JsonRpcMessage | { method: string; params?: Record<string, unknown> }): Promise<boolean>;
  /** `notifications/resources/updated` to every session subscribed to `uri`; resolves to how many got it. */
  resourceUpdated(uri: string): Promise<number>;
}

export function createNotifier(options: NotifierOptions): Notifier {
  const prefix = sessionChannelPrefix(options.channelPrefix);
  const origin = `notifier:${randomUUID()}`;
  const sessions = new RedisSessionStore({ redis: options.redis, keyPrefix: options.channelPrefix ?? 'mcp' });
  const notify: Notifier['notify'] = async (sessionId, message) => {
    const full = ('jsonrpc' in message ? message : { jsonrpc: '2.0', ...message }) as JsonRpcMessage;
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
  };
}
