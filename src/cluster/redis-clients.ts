// The worker's Redis connections: created and named here, closed by the worker's lifespan.
// Brokers and stores only borrow them.

import { Redis } from 'ioredis';

export class RedisUnavailableError extends Error {}

/**
 * Connects one client named `name` (CLIENT SETNAME, visible in CLIENT LIST). Rejects with a
 * one-line RedisUnavailableError when the first connection fails, instead of retrying forever.
 */
export async function connectRedis(url: string, name: string): Promise<Redis> {
  const client = new Redis(url, {
    connectionName: name,
    lazyConnect: true,
    connectTimeout: 5_000,
    // While Redis is down after start-up, commands fail fast instead of queueing forever.
    maxRetriesPerRequest: 2,
    // A Redis that hangs (stopped, not gone) must not hang requests and notify: fail after this.
    commandTimeout: 10_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
  // Errors are reported through command failures and reconnects; an unhandled 'error' event
  // would otherwise be printed by ioredis on every reconnect attempt.
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    throw new RedisUnavailableError(`Redis unreachable at ${redactUrl(url)}: ${(err as Error).message}`);
  }
  return client;
}

/** Closes a client politely (QUIT), falling back to a hard disconnect when Redis is gone. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  try {
    await Promise.race([client.quit(), new Promise((_, reject) => setTimeout(reject, 1_000).unref())]);
  } catch {
    client.disconnect();
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid url)';
  }
}
