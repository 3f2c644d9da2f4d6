// A 2026-07-28 (sessionless) client over undici: every request carries its `_meta` envelope and
// the mirrored headers, on a fresh connection.

import { Client } from 'undici';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export const VERSION = '2026-07-28';

export interface StatelessReply {
  status: number;
  workerId: string;
  contentType: string;
  /** The JSON body, or the last JSON-RPC response of an SSE body. */
  body: Record<string, unknown>;
  /** Every SSE message in order (empty for a JSON answer). */
  events: Array<Record<string, unknown>>;
}

export interface CallOptions {
  capabilities?: Record<string, unknown>;
  meta?: Record<string, unknown>;
  /** Header overrides; `undefined` removes a header. */
  headers?: Record<string, string | undefined>;
  id?: number | string;
}

let nextId = 1;

export function envelope(method: string, params: Record<string, unknown> = {}, options: CallOptions = {}) {
  const id = options.id ?? nextId++;
  const meta = {
    'io.modelcontextprotocol/protocolVersion': VERSION,
    'io.modelcontextprotocol/clientCapabilities': options.capabilities ?? {},
    'io.modelcontextprotocol/clientInfo': { name: 'stateless-test', version: '1.0.0' },
    ...options.meta,
  };
  const body = { jsonrpc: '2.0', id, method, params: { ...params, _meta: meta } };
  const headers: Record<string, string> = {
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': VERSION,
    'mcp-method': method,
  };
  const name =
    method === 'resources/read'
      ? params.uri
      : method === 'tools/call' || method === 'prompts/get'
        ? params.name
        : method.startsWith('tasks/')
          ? params.taskId
          : undefined;
  if (typeof name === 'string') headers['mcp-name'] = name;
  for (const [key, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) delete headers[key];
    else headers[key] = value;
  }
  return { id, body, headers };
}

export async function post(url: string, body: unknown, headers: Record<string, string>): Promise<StatelessReply> {
  const target = new URL(url);
  const client = new Client(target.origin);
  try {
    const res = await client.request({ path: target.pathname, method: 'POST', headers, body: JSON.stringify(body) });
    const text = await res.body.text();
    const contentType = String(res.headers['content-type'] ?? '');
    const events: Array<Record<string, unknown>> = [];
    let parsed: Record<string, unknown> = {};
    if (contentType.startsWith('text/event-stream')) {
      createParser({ onEvent: (e: EventSourceMessage) => e.data && events.push(JSON.parse(e.data)) }).feed(text);
      parsed = [...events].reverse().find((m) => !('method' in m)) ?? {};
    } else if (text) {
      parsed = JSON.parse(text) as Record<string, unknown>;
    }
    return { status: res.statusCode, workerId: String(res.headers['mcp-worker-id']), contentType, body: parsed, events };
  } finally {
    await client.close();
  }
}

/** One stateless request; resolves with the whole answer. */
export async function call(url: string, method: string, params: Record<string, unknown> = {}, options: CallOptions = {}): Promise<StatelessReply> {
  const { body, headers } = envelope(method, params, options);
  return post(url, body, headers);
}

export interface ListenStream {
  workerId: string;
  status: number;
  messages: Array<Record<string, unknown>>;
  waitFor(predicate: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Opens a subscriptions/listen stream and reads it as it comes. */
export async function listen(url: string, notifications: Record<string, unknown>, options: CallOptions = {}): Promise<ListenStream> {
  const target = new URL(url);
  const client = new Client(target.origin);
  const { body, headers } = envelope('subscriptions/listen', { notifications }, options);
  const res = await client.request({ path: target.pathname, method: 'POST', headers, body: JSON.stringify(body) });
  const messages: Array<Record<string, unknown>> = [];
  const parser = createParser({ onEvent: (e) => e.data && messages.push(JSON.parse(e.data)) });
  const done = (async () => {
    try {
      for await (const chunk of res.body) parser.feed((chunk as Buffer).toString('utf8'));
    } catch {
      // closed by us
    }
  })();
  return {
    workerId: String(res.headers['mcp-worker-id']),
    status: res.statusCode,
    messages,
    async waitFor(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no matching message; got ${JSON.stringify(messages)}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
    async close() {
      res.body.destroy();
      await done;
      await client.destroy();
    },
  };
}
