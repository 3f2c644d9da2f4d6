// One HTTP worker's lifespan: build the app from the config, listen, and on shutdown drain in
// order: stop accepting, end SSE streams with a retry hint, let in-flight requests finish within
// the deadline, then close what was started, newest first (mcp server, thread pool, broker,
// sessions, Redis clients).

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APPS } from '../apps/index.ts';
import type { Config } from '../config/config.ts';
import { defaultOriginPolicy } from '../http/guards.ts';
import { createMcpHttpApp, listen, type McpHttpApp } from '../http/app.ts';
import { McpServer } from '../mcp/server.ts';
import { createLogger, type Logger } from '../log.ts';
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

export async function startWorker(config: Config, workerId: string): Promise<WorkerHandle> {
  const logger = createLogger(config.logLevel, { worker: workerId });
  const lifespan = new Lifespan();
  try {
    const backends = await createBackends(config, workerId, lifespan);
    // After the backends, so shutdown destroys the threads before the Redis clients close.
    const pool = new ToolPool({ threads: config.threads, onError: (err) => logger.error({ err }, 'pool thread failed') });
    lifespan.defer('pool', () => pool.close());
    const app = APPS[config.app]!;
    const server = new McpServer({
      name: 'mcp-cluster',
      version: '0.1.0',
      title: app.title,
      broker: backends.broker,
      sessions: backends.sessions,
      replay: backends.replay,
      instanceId: `${workerId}.${process.pid}`,
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
      logger,
    });
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

/** Stops accepting, waits for in-flight requests up to the deadline, then cuts what is left. */
async function closeHttpServer(server: Server, deadlineMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), deadlineMs);
  // Idle keep-alive sockets appear as requests finish: keep closing them so close() can complete.
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  await closed;
  clearTimeout(timer);
  clearInterval(sweeper);
}
