// A raw MCP session over undici, for tests that must see which worker answered (`mcp-worker-id`)
// and choose which connection a request travels on. Each call uses a fresh connection, so
// node:cluster's round-robin spreads them over the workers.

import { Client } from 'undici';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface PostResult {
  status: number;
  workerId: string;
  headers: Record<string, string | string[] | undefined>;
  /** JSON-RPC messages of the response, in order (SSE events or the JSON body). */
  messages: Array<Record<string, unknown>>;
}

export interface RawStream {
  workerId: string;
  status: number;
  events: EventSourceMessage[];
  /** Every `retry:` hint the server sent. */
  retries: number[];
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  /** Resolves with the first event (already received or future) matching `predicate`. */
  waitFor(predicate: (event: EventSourceMessage) => boolean, timeoutMs?: number): Promise<EventSourceMessage>;
  close(): Promise<void>;
}

const ACCEPT = 'application/json, text/event-stream';

export class RawSession {
  readonly url: URL;
  sessionId = '';
  protocolVersion = '2025-11-25';

  constructor(url: string) {
    this.url = new URL(url);
  }

  /** initialize + notifications/initialized; returns the worker that created the session. */
  async open(capabilities: Record<string, unknown> = {}): Promise<string> {
    const init = await this.post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: this.protocolVersion, capabilities, clientInfo: { name: 'raw-test', version: '1' } },
    });
    if (init.status !== 200) throw new Error(`initialize failed: ${init.status}`);
    this.sessionId = init.headers['mcp-session-id'] as string;
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return init.workerId;
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: ACCEPT, 'content-type': 'application/json', ...extra };
    if (this.sessionId) {
      headers['mcp-session-id'] = this.sessionId;
      headers['mcp-protocol-version'] = this.protocolVersion;
    }
    return headers;
  }

  async post(body: unknown): Promise<PostResult> {
    const client = new Client(this.url.origin);
    try {
      const res = await client.request({ path: this.url.pathname, method: 'POST', headers: this.headers(), body: JSON.stringify(body) });
      const text = await res.body.text();
      const type = String(res.headers['content-type'] ?? '');
      let messages: Array<Record<string, unknown>> = [];
      if (type.startsWith('text/event-stream')) {
        const parser = createParser({ onEvent: (event) => event.data && messages.push(JSON.parse(event.data)) });
        parser.feed(text);
      } else if (text) {
        const parsed = JSON.parse(text) as unknown;
        messages = Array.isArray(parsed) ? parsed : [parsed as Record<string, unknown>];
      }
      return { status: res.statusCode, workerId: String(res.headers['mcp-worker-id']), headers: res.headers, messages };
    } finally {
      await client.close();
    }
  }

  /** POSTs on fresh connections until one is answered by a worker `accept` approves. */
  async postOn(body: () => unknown, accept: (workerId: string) => boolean, attempts = 32): Promise<PostResult> {
    for (let i = 0; i < attempts; i++) {
      const result = await this.post(body());
      if (accept(result.workerId)) return result;
    }
    throw new Error('no worker matching the condition answered');
  }

  /** Calls a tool; returns its result and the worker that ran it. */
  async callTool(name: string, args: Record<string, unknown>, id: number = Date.now()): Promise<{ workerId: string; result: Record<string, unknown> }> {
    const reply = await this.post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
    const response = reply.messages.find((message) => message.id === id);
    if (!response || !('result' in response)) throw new Error(`tools/call failed: ${JSON.stringify(reply.messages)}`);
    return { workerId: reply.workerId, result: response.result as Record<string, unknown> };
  }

  /** Opens the session's GET stream on a fresh connection. */
  async openStream(extraHeaders: Record<string, string> = {}): Promise<RawStream> {
    const headers = this.headers({ accept: 'text/event-stream', ...extraHeaders });
    delete headers['content-type'];
    return this.#stream('GET', headers, undefined);
  }

  /** POSTs a request and reads its SSE response as it comes (fresh connection). */
  async postStream(body: unknown): Promise<RawStream> {
    return this.#stream('POST', this.headers(), JSON.stringify(body));
  }

  async #stream(method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined): Promise<RawStream> {
    const client = new Client(this.url.origin);
    const res = await client.request({ path: this.url.pathname, method, headers, body });
    const events: EventSourceMessage[] = [];
    const retries: number[] = [];
    const waiters = new Set<{ predicate: (event: EventSourceMessage) => boolean; resolve: (event: EventSourceMessage) => void }>();
    const parser = createParser({
      onEvent: (event) => {
        events.push(event);
        for (const waiter of waiters) {
          if (waiter.predicate(event)) {
            waiters.delete(waiter);
            waiter.resolve(event);
          }
        }
      },
      onRetry: (retry) => retries.push(retry),
    });
    const ended = (async () => {
      try {
        for await (const chunk of res.body) parser.feed((chunk as Buffer).toString('utf8'));
      } catch {
        // destroyed by close(), or the connection dropped: either way the stream ended
      }
    })();
    return {
      workerId: String(res.headers['mcp-worker-id']),
      status: res.statusCode,
      events,
      retries,
      ended,
      waitFor(predicate, timeoutMs = 5_000) {
        const seen = events.find(predicate);
        if (seen) return Promise.resolve(seen);
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`no matching SSE event within ${timeoutMs} ms; got ${JSON.stringify(events.map((e) => e.data))}`));
          }, timeoutMs);
          const waiter = {
            predicate,
            resolve: (event: EventSourceMessage) => {
              clearTimeout(timer);
              resolve(event);
            },
          };
          waiters.add(waiter);
        });
      },
      async close() {
        res.body.destroy();
        await ended;
        await client.destroy();
      },
    };
  }

  /** Opens GET streams on fresh connections until one is held by a worker `accept` approves. */
  async openStreamOn(accept: (workerId: string) => boolean, extraHeaders: Record<string, string> = {}, attempts = 32): Promise<RawStream> {
    for (let i = 0; i < attempts; i++) {
      const stream = await this.openStream(extraHeaders);
      if (accept(stream.workerId)) return stream;
      await stream.close();
    }
    throw new Error('no worker matching the condition held the stream');
  }

  async delete(): Promise<PostResult> {
    const client = new Client(this.url.origin);
    try {
      const headers = this.headers();
      delete headers['content-type'];
      const res = await client.request({ path: this.url.pathname, method: 'DELETE', headers });
      await res.body.dump();
      return { status: res.statusCode, workerId: String(res.headers['mcp-worker-id']), headers: res.headers, messages: [] };
    } finally {
      await client.close();
    }
  }
}

export function messageData(event: EventSourceMessage): Record<string, unknown> {
  return JSON.parse(event.data) as Record<string, unknown>;
}
