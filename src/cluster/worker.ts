// One HTTP worker's lifespan: build the app from the config, listen, and on shutdown drain in
// order: stop accepting, end SSE streams with a retry hint, let in-flight requests finish within
// the deadline, then close what was started, newest first (mcp server, thread pool, broker,
// sessions, Redis clients).

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { APPS } from '../apps/index.ts';
import type { Config } from '../config/config.ts';
import { defaultOriginPolicy } from '../http/guards.ts';
import { createMcpHttpApp, listen, type McpHttpApp } from '../http/app.ts';
import { bearerAuth, parseAuthTokens } from '../http/auth.ts';
import { McpServer } from '../mcp/server.ts';
import { createLogger, type Logger } from '../log.ts';
import { ClusterMetricsClient } from '../metrics/cluster.ts';
import { Metrics } from '../metrics/metrics.ts';
import { ToolPool } from '../pool/pool.ts';
import { createBackends, type BackendKind } from './backends.ts';
import { Lifespan } from './lifespan.ts';

export interface WorkerHandle {
  url: string;
  port: number;
  backend: BackendKind;
  server: McpServer;
  app: McpHttpApp;
  logger: Logger;
  /** Drains and closes everything; resolves when the worker may exit. */
  close(): Promise<void>;
}

export interface StartWorkerOptions {
  /** A node:cluster worker: /metrics asks the primary for the whole cluster's metrics. */
  cluster?: boolean;
}

export async function startWorker(config: Config, workerId: string, options: StartWorkerOptions = {}): Promise<WorkerHandle> {
  const logger = createLogger(config.logLevel, { worker: workerId }, config.logFormat);
  const lifespan = new Lifespan();
  try {
    // First, so that it answers the primary's collections for as long as the process lives.
    const registry = new Registry();
    const clusterMetrics = options.cluster ? new ClusterMetricsClient(registry) : undefined;
    if (clusterMetrics) lifespan.defer('cluster metrics', () => clusterMetrics.close());
    const metrics = new Metrics({ registry, ...(clusterMetrics ? { source: () => clusterMetrics.expose() } : {}) });
    const backends = await createBackends(config, workerId, lifespan);
    for (const [client, redis] of Object.entries(backends.redis ?? {})) redis.on('reconnecting', () => metrics.redisReconnecting(client));
    // After the backends, so shutdown destroys the threads before the Redis clients close.
    const pool = new ToolPool({ threads: config.threads, onError: (err) => logger.error({ err }, 'pool thread failed') });
    lifespan.defer('pool', () => pool.close());
    metrics.observePool(() => pool.stats());
    const app = APPS[config.app]!;
    const server = new McpServer({
      name: 'mcp-cluster',
      version: '0.1.0',
      title: app.title,
      broker: backends.broker,
      sessions: backends.sessions,
      replay: backends.replay,
      topics: backends.topics,
      tasks: backends.tasks,
      requestState: { secret: backends.stateSecret },
      instanceId: `${workerId}.${process.pid}`,
      metrics,
      logger,
    });
    app.register(server, { workerId, pool });
    lifespan.defer('mcp server', () => server.close());

    const httpApp = createMcpHttpApp(server, {
      workerId,
      maxBodyBytes: config.maxBodyBytes,
      heartbeatMs: config.heartbeatMs,
      retryMs: config.retryMs,
      ssePollMs: config.ssePollMs,
      originPolicy: defaultOriginPolicy(config.host, config.allowedHosts, config.allowedOrigins),
      maxStreamBufferBytes: config.maxStreamBufferBytes,
      maxStreams: config.maxStreams,
      maxSessions: config.maxSessions,
      ...(config.authToken
        ? {
            authenticate: bearerAuth(parseAuthTokens(config.authToken)),
            protectedResource: { resource: config.publicUrl, authorizationServers: config.authServers },
          }
        : {}),
      logger,
      metrics,
      readiness: backends.readiness,
    });
    metrics.observeStreams(() => httpApp.transport.streams.size);
    const httpServer = await listen(httpApp, { host: config.host, port: config.port });
    const { port } = httpServer.address() as AddressInfo;
    const host = config.host.includes(':') ? `[${config.host}]` : config.host;

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        httpApp.drain();
        await closeHttpServer(httpServer, config.shutdownTimeoutMs);
        await lifespan.close((name, err) => logger.error({ err, resource: name }, 'failed to close'));
      })());

    return { url: `http://${host}:${port}/mcp`, port, backend: backends.kind, server, app: httpApp, logger, close };
  } catch (err) {
    await lifespan.close();
    throw err;
  }
}

const DRAIN_GRACE_MS = 250;

/** Stops accepting, waits for in-flight requests up to the deadline, then cuts what is left. */
async function closeHttpServer(server: Server, deadlineMs: number): Promise<void> {
  // A keep-alive client may be sending its next request right now. server.close() closes idle
  // connections at once, and a request already on the wire would die unanswered (ECONNRESET):
  // first a short grace, in which whatever arrives is served with `connection: close`.
  const grace = Math.min(DRAIN_GRACE_MS, deadlineMs);
  await new Promise((resolve) => setTimeout(resolve, grace));
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), deadlineMs - grace);
  // Idle keep-alive sockets appear as requests finish: keep closing them so close() can complete.
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  await closed;
  clearTimeout(timer);
  clearInterval(sweeper);
}
