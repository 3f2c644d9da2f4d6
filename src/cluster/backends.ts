// Chooses where sessions and stream messages live, from the config: Redis when a URL is given
// (multi-host), the primary's IPC hub for several workers without Redis, memory for one process.

import type { SseBroker } from '../broker/broker.ts';
import { MemoryBroker } from '../broker/memory.ts';
import { RedisBroker } from '../broker/redis.ts';
import type { Config } from '../config/config.ts';
import { MemorySessionStore } from '../sessions/memory.ts';
import { RedisSessionStore } from '../sessions/redis.ts';
import type { SessionStore } from '../sessions/store.ts';
import { MemoryReplayBuffer } from '../replay/memory.ts';
import { RedisReplayBuffer } from '../replay/redis.ts';
import type { ReplayBuffer } from '../replay/replay.ts';
import type { Lifespan } from './lifespan.ts';
import { closeRedis, connectRedis } from './redis-clients.ts';

export type BackendKind = 'memory' | 'redis' | 'cluster';

export interface Backends {
  kind: BackendKind;
  broker: SseBroker;
  sessions: SessionStore;
  /** Present with --replay. */
  replay: ReplayBuffer | undefined;
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
    const sessions = new RedisSessionStore({
      redis: publisher,
      keyPrefix: config.channelPrefix,
      idleTimeoutMs: config.sessionIdleTimeoutMs,
    });
    lifespan.defer('sessions', () => sessions.close());
    const replay = config.replay
      ? new RedisReplayBuffer({ redis: publisher, keyPrefix: config.channelPrefix, maxLength: config.replayMaxLength, ttlMs: config.replayTtlMs })
      : undefined;
    return { kind, broker, sessions, replay };
  }
  if (kind === 'cluster') {
    // Several workers without Redis: the primary holds sessions and routes messages.
    const { ClusterBroker } = await import('../broker/cluster.ts');
    const { ClusterSessionStore } = await import('../sessions/cluster.ts');
    const { ClusterReplayBuffer } = await import('../replay/cluster.ts');
    const broker = new ClusterBroker();
    lifespan.defer('broker', () => broker.close());
    const sessions = new ClusterSessionStore();
    lifespan.defer('sessions', () => sessions.close());
    let replay: ReplayBuffer | undefined;
    if (config.replay) {
      const cluster = new ClusterReplayBuffer();
      lifespan.defer('replay', () => cluster.close());
      replay = cluster;
    }
    return { kind, broker, sessions, replay };
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
  return { kind, broker, sessions, replay };
}
