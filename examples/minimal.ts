// The smallest app on the library: one MCP server with a tool, served over Streamable HTTP, with
// Prometheus metrics and a health check beside it.
//
//   npx tsx examples/minimal.ts              # http://127.0.0.1:3000/mcp  (PORT=0: any free port)
//   curl http://127.0.0.1:3000/metrics
//
// For several workers, Redis, replay and graceful shutdown, run the CLI (`npm start -- --help`).

import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { createMcpHttpApp, createMcpServer, defaultOriginPolicy, listen, Metrics } from 'mcp-cluster';

const metrics = new Metrics();
const server = createMcpServer({ name: 'minimal', version: '1.0.0', metrics });

server.tool(
  'echo',
  { description: 'Echoes text', inputSchema: z.object({ text: z.string() }) },
  async ({ text }) => ({ content: [{ type: 'text', text }] }),
);

const host = process.env.HOST ?? '127.0.0.1';
const app = createMcpHttpApp(server, { metrics, originPolicy: defaultOriginPolicy(host) });
const http = await listen(app, { host, port: Number(process.env.PORT ?? 3000) });
const { port } = http.address() as AddressInfo;
console.log(`minimal MCP server listening on http://${host}:${port}/mcp`);

const stop = () => {
  app.drain();
  http.close(() => process.exit(0));
  http.closeIdleConnections();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
