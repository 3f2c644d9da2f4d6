// Chooses where sessions and stream messages live, from the config: Redis when a URL is given
// (multi-host), the primary's IPC hub for several workers without Redis, memory for one process.

import type { SseBroker } from '../broker/broker.ts';
import { MemoryBroker } from '../broker/memory.ts';
import { RedisBroker } from '../broker/redis.ts';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.ts';
import { MemorySessionStore } from '../sessions/memory.ts';
import { RedisSessionStore } from '../sessions/redis.ts';
import { CachedSessionStore } from '../sessions/cached.ts';
import type { SessionStore } from '../sessions/store.ts';
import { MemoryReplayBuffer } from '../replay/memory.ts';
import { RedisReplayBuffer } from '../replay/redis.ts';
import type { ReplayBuffer } from '../replay/replay.ts';
import { randomBytes } from 'node:crypto';
import { MemorySubscriptionBroker } from '../topics/memory.ts';
import { RedisSubscriptionBroker } from '../topics/redis.ts';
import type { SubscriptionBroker } from '../topics/topics.ts';
import { MemoryTaskStore } from '../tasks/memory.ts';
import { RedisTaskStore } from '../tasks/redis.ts';
import type { TaskStore } from '../tasks/store.ts';
import type { Lifespan } from './lifespan.ts';
import { closeRedis, connectRedis } from './redis-clients.ts';

export type BackendKind = 'memory' | 'redis' | 'cluster';

export interface Backends {
  kind: BackendKind;
  broker: SseBroker;
  sessions: SessionStore;
  /** Present with --replay. */
  replay: ReplayBuffer | undefined;
  /** Where subscriptions/listen streams (2026-07-28) listen. */
  topics: SubscriptionBroker;
  /** Where tasks (the 2026-07-28 tasks extension) live, readable by every worker. */
  tasks: TaskStore;
  /** The key that signs requestState, the same on every worker of the deployment. */
  stateSecret: string;
  /** The worker's Redis connections, in Redis mode. */
  redis?: { publisher: Redis; subscriber: Redis };
  /** /readyz checks: is the broker connected (Redis clients ready, IPC channel to the primary open)? */
  readiness(): Record<string, boolean>;
}

export function backendKind(config: Config): BackendKind {
  if (config.redisUrl) return 'redis';
  return config.workers > 1 ? 'cluster' : 'memory';
}

export async function createBackends(config: Config, workerId: string, lifespan: Lifespan): Promise<Backends> {
  const kind = backendKind(config);
  if (kind === 'redis') {
    const url = config.redisUrl!;
    const publisher = await connectRedis(url, `mcp-cluster:${workerId}:pub`);
    lifespan.defer('redis publisher', () => closeRedis(publisher));
    const subscriber = await connectRedis(url, `mcp-cluster:${workerId}:sub`);
    lifespan.defer('redis subscriber', () => closeRedis(subscriber));
    const broker = new RedisBroker({ publisher, subscriber, channelPrefix: config.channelPrefix });
    lifespan.defer('broker', () => broker.close());
    // Most POSTs find their session in this worker's cache; changes invalidate it cluster-wide.
    const sessions = new CachedSessionStore(
      new RedisSessionStore({ redis: publisher, keyPrefix: config.channelPrefix, idleTimeoutMs: config.sessionIdleTimeoutMs }),
      { touchEveryMs: Math.max(1_000, Math.floor(config.sessionIdleTimeoutMs / 10)) },
    );
    lifespan.defer('sessions', () => sessions.close());
    const replay = config.replay
      ? new RedisReplayBuffer({ redis: publisher, keyPrefix: config.channelPrefix, maxLength: config.replayMaxLength, ttlMs: config.replayTtlMs })
      : undefined;
    const topics = new RedisSubscriptionBroker({ publisher, subscriber, channelPrefix: config.channelPrefix });
    lifespan.defer('topics', () => topics.close());
    // Every worker of every host must sign requestState alike: agree on a key through Redis.
    const stateSecret = config.stateSecret ?? (await sharedSecret(publisher, `${config.channelPrefix}:state-secret`));
    const readiness = () => ({ redisPublisher: publisher.status === 'ready', redisSubscriber: subscriber.status === 'ready' });
    const tasks = new RedisTaskStore({ redis: publisher, keyPrefix: config.channelPrefix });
    return { kind, broker, sessions, replay, topics, tasks, stateSecret, redis: { publisher, subscriber }, readiness };
  }
  if (kind === 'cluster') {
    // Several workers without Redis: the primary holds sessions and routes messages.
    const { ClusterBroker } = await import('../broker/cluster.ts');
    const { ClusterSessionStore } = await import('../sessions/cluster.ts');
    const { ClusterReplayBuffer } = await import('../replay/cluster.ts');
    const broker = new ClusterBroker();
    lifespan.defer('broker', () => broker.close());
    // As in Redis mode: most POSTs find their session in this worker's cache instead of asking
    // the primary; changes invalidate it in every worker through the cluster bus.
    const sessions = new CachedSessionStore(new ClusterSessionStore(), {
      touchEveryMs: Math.max(1_000, Math.floor(config.sessionIdleTimeoutMs / 10)),
    });
    lifespan.defer('sessions', () => sessions.close());
    let replay: ReplayBuffer | undefined;
    if (config.replay) {
      const cluster = new ClusterReplayBuffer();
      lifespan.defer('replay', () => cluster.close());
      replay = cluster;
    }
    const { ClusterSubscriptionBroker } = await import('../topics/cluster.ts');
    const topics = new ClusterSubscriptionBroker();
    lifespan.defer('topics', () => topics.close());
    // The primary hands every worker the same key (MCP_STATE_SECRET) unless one was configured.
    const stateSecret = config.stateSecret ?? process.env.MCP_STATE_SECRET ?? randomBytes(32).toString('base64url');
    const { ClusterTaskStore } = await import('../tasks/cluster.ts');
    const tasks = new ClusterTaskStore();
    lifespan.defer('tasks', () => tasks.close());
    return { kind, broker, sessions, replay, topics, tasks, stateSecret, readiness: () => ({ primary: process.connected === true }) };
  }
  const broker = new MemoryBroker();
  lifespan.defer('broker', () => broker.close());
  const sessions = new MemorySessionStore({ idleTimeoutMs: config.sessionIdleTimeoutMs });
  lifespan.defer('sessions', () => sessions.close());
  let replay: ReplayBuffer | undefined;
  if (config.replay) {
    const memory = new MemoryReplayBuffer({ maxLength: config.replayMaxLength, ttlMs: config.replayTtlMs });
    lifespan.defer('replay', () => memory.close());
    replay = memory;
  }
  const topics = new MemorySubscriptionBroker();
  lifespan.defer('topics', () => topics.close());
  const stateSecret = config.stateSecret ?? randomBytes(32).toString('base64url');
  const tasks = new MemoryTaskStore();
  lifespan.defer('tasks', () => tasks.close());
  return { kind, broker, sessions, replay, topics, tasks, stateSecret, readiness: () => ({}) };
}

/** A random secret stored once in Redis (SET NX): whoever comes first sets it, everyone reads it. */
async function sharedSecret(redis: Redis, key: string): Promise<string> {
  await redis.set(key, randomBytes(32).toString('base64url'), 'NX');
  const secret = await redis.get(key);
  if (!secret) throw new Error(`could not read the shared secret ${key} from Redis`);
  return secret;
}
