// The official MCP TypeScript SDK v2 (`@modelcontextprotocol/server` 2.x + `@modelcontextprotocol/node`):
// `createMcpHandler(factory)` behind `toNodeHandler`, serving the same `echo` tool. One handler
// serves both eras: 2026-07-28 requests (a `_meta` envelope per request, no session) on the
// modern path, 2025-era requests through its stateless legacy fallback (a fresh server per request).
//
// For the subscriptions scenario it also exposes a resource `bench://topic`, and
// POST /bench/resource-updated publishes `notifications/resources/updated` for it to every open
// `subscriptions/listen` stream (the handler's in-process event bus).

import { createServer } from 'node:http';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { z } from 'zod';
import { listenAndAnnounce } from './ready.ts';

export const TOPIC_URI = 'bench://topic';

const handler = createMcpHandler(
  () => {
    const mcp = new McpServer({ name: 'sdk-v2-peer', version: '1.0.0' }, { capabilities: { resources: { subscribe: true, listChanged: true } } });
    mcp.registerTool(
      'echo',
      { description: 'Returns the text it was given', inputSchema: z.object({ text: z.string() }) },
      async ({ text }) => ({ content: [{ type: 'text', text }] }),
    );
    mcp.registerResource('topic', TOPIC_URI, { mimeType: 'text/plain' }, async (uri) => ({
      contents: [{ uri: uri.href, text: 'topic' }],
    }));
    return mcp;
  },
  { maxSubscriptions: 100_000 },
);
const node = toNodeHandler(handler);

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/bench/resource-updated') {
    req.resume();
    handler.notify.resourceUpdated(TOPIC_URI);
    res.writeHead(204).end();
    return;
  }
  node(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
await listenAndAnnounce(server);
