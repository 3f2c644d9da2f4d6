// The official MCP TypeScript SDK v1 (`@modelcontextprotocol/sdk`): McpServer +
// StreamableHTTPServerTransport on plain node:http, serving the same `echo` tool as the demo app.
//
//   --mode stateful   one McpServer + transport per session (sessionIdGenerator): its fast mode
//   --mode stateless  a fresh McpServer + transport per request (sessionIdGenerator: undefined)
//   --replay          stateful only: an in-memory EventStore, for Last-Event-ID resume
//
// Also a `ticker` tool (stateful): `count` notifications/message to the session's standalone GET
// stream, like the demo app's ticker, for the resume scenario.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { listenAndAnnounce } from './ready.ts';

const { values } = parseArgs({ options: { mode: { type: 'string', default: 'stateful' }, replay: { type: 'boolean', default: false } } });
const stateful = values.mode === 'stateful';

/** An ordered in-memory event store (the SDK's example store sorts every event on each replay). */
class OrderedEventStore implements EventStore {
  readonly #streams = new Map<string, Array<{ id: string; message: JSONRPCMessage }>>();
  readonly #where = new Map<string, { streamId: string; index: number }>();

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    let events = this.#streams.get(streamId);
    if (!events) this.#streams.set(streamId, (events = []));
    const id = `${streamId}_${events.length + 1}`;
    this.#where.set(id, { streamId, index: events.length });
    events.push({ id, message });
    return id;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (id: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const where = this.#where.get(lastEventId);
    if (!where) return '';
    const events = this.#streams.get(where.streamId)!;
    for (let i = where.index + 1; i < events.length; i++) await send(events[i]!.id, events[i]!.message);
    return where.streamId;
  }
}

function createMcp(): McpServer {
  const mcp = new McpServer({ name: 'sdk-v1-peer', version: '1.0.0' }, { capabilities: { logging: {} } });
  mcp.registerTool(
    'echo',
    { description: 'Returns the text it was given', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  mcp.registerTool(
    'ticker',
    { description: 'Sends count notifications to this session\'s GET stream', inputSchema: { count: z.number().int().min(1).max(1_000_000) } },
    async ({ count }) => {
      for (let tick = 1; tick <= count; tick++) {
        // Not related to the request: the SDK routes it to the standalone GET stream (stored when detached).
        await mcp.server.notification({ method: 'notifications/message', params: { level: 'info', logger: 'ticker', data: { tick, of: count } } });
      }
      return { content: [{ type: 'text', text: `sent ${count} ticks` }] };
    },
  );
  return mcp;
}

const transports = new Map<string, StreamableHTTPServerTransport>();

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!stateful) {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const body = await readJson(req);
    const mcp = createMcp();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
    return;
  }
  const sessionId = req.headers['mcp-session-id'];
  const existing = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
  if (existing) {
    await existing.handleRequest(req, res, req.method === 'POST' ? await readJson(req) : undefined);
    return;
  }
  if (req.method !== 'POST' || sessionId !== undefined) {
    res.writeHead(sessionId === undefined ? 400 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'No valid session' } }));
    return;
  }
  const body = await readJson(req);
  const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
    sessionIdGenerator: () => randomUUID(),
    ...(values.replay ? { eventStore: new OrderedEventStore() } : {}),
    onsessioninitialized: (id) => {
      transports.set(id, transport);
    },
  });
  transport.onclose = () => {
    if (transport.sessionId) transports.delete(transport.sessionId);
  };
  await createMcp().connect(transport);
  await transport.handleRequest(req, res, body);
}

const server = createServer((req, res) => {
  handle(req, res).catch(() => {
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
await listenAndAnnounce(server, '/mcp', { mode: values.mode });
