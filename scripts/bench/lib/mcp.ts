// Just enough of an MCP Streamable HTTP client over undici for load: one keep-alive connection
// per client (so a session's requests travel where a real client's would), cheap response
// checks on the hot path, and SSE streams parsed with eventsource-parser.

import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Client } from 'undici';

export const ACCEPT = 'application/json, text/event-stream';
export const PROTOCOL_2025 = '2025-11-25';
export const PROTOCOL_2026 = '2026-07-28';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** The JSON-RPC messages of a reply: SSE `data:` lines, or the JSON body. */
export function messagesOf(reply: Reply): Array<Record<string, unknown>> {
  const type = String(reply.headers['content-type'] ?? '');
  if (!reply.text) return [];
  if (type.startsWith('text/event-stream')) {
    const out: Array<Record<string, unknown>> = [];
    const parser = createParser({ onEvent: (event) => event.data && out.push(JSON.parse(event.data) as Record<string, unknown>) });
    parser.feed(reply.text);
    return out;
  }
  const parsed = JSON.parse(reply.text) as unknown;
  return Array.isArray(parsed) ? (parsed as Array<Record<string, unknown>>) : [parsed as Record<string, unknown>];
}

/** The 2026-07-28 per-request envelope: no session, version and capabilities on every request. */
export function modernMeta(): Record<string, unknown> {
  return {
    'io.modelcontextprotocol/protocolVersion': PROTOCOL_2026,
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'mcp-cluster-bench', version: '1' },
  };
}

export function modernHeaders(method: string, name?: string): Record<string, string> {
  const headers: Record<string, string> = { 'mcp-protocol-version': PROTOCOL_2026, 'mcp-method': method };
  if (name !== undefined) headers['mcp-name'] = name;
  return headers;
}

/** One client: one keep-alive connection, and optionally one 2025-era session. */
export class McpConnection {
  readonly origin: string;
  readonly path: string;
  readonly client: Client;
  sessionId: string | undefined;
  protocolVersion = PROTOCOL_2025;
  /** `mcp-worker-id` of the last reply (mcp-cluster only). */
  workerId = '';
  #nextId = 1;

  constructor(url: string) {
    const parsed = new URL(url);
    this.origin = parsed.origin;
    this.path = parsed.pathname;
    this.client = new Client(this.origin, { pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  }

  nextId(): number {
    return this.#nextId++;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: ACCEPT, 'content-type': 'application/json', ...extra };
    if (this.sessionId) {
      headers['mcp-session-id'] = this.sessionId;
      headers['mcp-protocol-version'] = this.protocolVersion;
    }
    return headers;
  }

  async post(body: unknown, extraHeaders: Record<string, string> = {}): Promise<Reply> {
    const res = await this.client.request({ path: this.path, method: 'POST', headers: this.headers(extraHeaders), body: typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.body.text();
    const worker = res.headers['mcp-worker-id'];
    if (typeof worker === 'string') this.workerId = worker;
    return { status: res.statusCode, headers: res.headers, text };
  }

  /**
   * initialize + notifications/initialized: a long-lived 2025-era session on this connection.
   * Calling it again opens another session (the connection then speaks for the newest).
   */
  async initialize(): Promise<string> {
    this.sessionId = undefined;
    const reply = await this.post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: this.protocolVersion, capabilities: {}, clientInfo: { name: 'mcp-cluster-bench', version: '1' } },
    });
    const sessionId = reply.headers['mcp-session-id'];
    if (reply.status !== 200 || typeof sessionId !== 'string') throw new Error(`initialize failed: HTTP ${reply.status} ${reply.text.slice(0, 300)}`);
    this.sessionId = sessionId;
    const initialized = await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    if (initialized.status !== 202) throw new Error(`notifications/initialized: HTTP ${initialized.status}`);
    return sessionId;
  }

  /** A request whose result is checked in full (warm-up, probes). */
  async request(method: string, params: Record<string, unknown>, extraHeaders: Record<string, string> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId();
    const reply = await this.post({ jsonrpc: '2.0', id, method, params }, extraHeaders);
    const response = reply.status === 200 ? messagesOf(reply).find((message) => message.id === id) : undefined;
    if (!response || !('result' in response)) throw new Error(`${method}: HTTP ${reply.status} ${reply.text.slice(0, 300)}`);
    return response.result as Record<string, unknown>;
  }

  async deleteSession(): Promise<void> {
    if (!this.sessionId) return;
    const headers = this.headers();
    delete headers['content-type'];
    const res = await this.client.request({ path: this.path, method: 'DELETE', headers });
    await res.body.dump();
  }

  close(): Promise<void> {
    return this.client.destroy();
  }
}

export interface SseStreamHandle {
  status: number;
  workerId: string;
  /** Number of events with data received (comments and priming events are not counted). */
  received: number;
  /** The id of the last event that carried one (priming events included). */
  lastEventId: string | undefined;
  ended: Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens a GET (or POST) SSE stream on its own connection and calls `onEvent` for every event with
 * data. Resolves once the response headers arrived.
 */
export async function openSse(
  url: string,
  options: { method?: 'GET' | 'POST'; headers: Record<string, string>; body?: string; onEvent: (event: EventSourceMessage) => void },
): Promise<SseStreamHandle> {
  const parsed = new URL(url);
  const client = new Client(parsed.origin, { pipelining: 1, bodyTimeout: 0, headersTimeout: 30_000 });
  let res;
  try {
    res = await client.request({ path: parsed.pathname, method: options.method ?? 'GET', headers: options.headers, body: options.body ?? null });
  } catch (error) {
    await client.destroy();
    throw error;
  }
  const handle: SseStreamHandle = {
    status: res.statusCode,
    workerId: String(res.headers['mcp-worker-id'] ?? ''),
    received: 0,
    lastEventId: undefined,
    ended: Promise.resolve(),
    async close() {
      res.body.destroy();
      await handle.ended;
      await client.destroy();
    },
  };
  const parser = createParser({
    onEvent: (event) => {
      if (event.id) handle.lastEventId = event.id;
      if (!event.data) return;
      handle.received++;
      options.onEvent(event);
    },
  });
  handle.ended = (async () => {
    try {
      for await (const chunk of res.body) parser.feed((chunk as Buffer).toString('utf8'));
    } catch {
      // destroyed by close(), or the connection dropped: the stream ended either way
    }
  })();
  return handle;
}

/** Headers of a session's GET stream. */
export function streamHeaders(connection: McpConnection, extra: Record<string, string> = {}): Record<string, string> {
  const headers = connection.headers({ accept: 'text/event-stream', ...extra });
  delete headers['content-type'];
  return headers;
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    }),
  );
  return results;
}
