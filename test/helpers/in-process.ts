// An McpServer with its HTTP app on a loopback port, in the test's own process: for protocol
// tests that register their own tools. Multi-process behaviour is tested through the CLI.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMcpHttpApp, listen, type McpHttpApp } from '../../src/http/app.ts';
import { defaultOriginPolicy } from '../../src/http/guards.ts';
import type { HttpOptions } from '../../src/http/transport.ts';
import { McpServer, type McpServerOptions } from '../../src/mcp/server.ts';

export interface TestServer {
  url: string;
  server: McpServer;
  app: McpHttpApp;
  http: Server;
  close(): Promise<void>;
}

export async function startTestServer(
  register: (server: McpServer) => void,
  options: { server?: Partial<McpServerOptions>; http?: HttpOptions } = {},
): Promise<TestServer> {
  const server = new McpServer({ name: 'test-server', version: '1.0.0', ...options.server });
  register(server);
  const app = createMcpHttpApp(server, { originPolicy: defaultOriginPolicy('127.0.0.1'), ...options.http });
  const http = await listen(app, { port: 0 });
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    server,
    app,
    http,
    async close() {
      app.drain(0);
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await server.close();
      await server.broker.close();
      await server.sessions.close();
    },
  };
}

/** Polls `probe` until it returns a truthy value or the deadline passes (for cross-process state). */
export async function eventually<T>(
  probe: () => Promise<T> | T,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
