// Bad input against the real CLI (1 worker, --replay): property-based fuzzing (fast-check) of
// bodies, headers, methods and paths. Whatever comes in, the server never crashes, never answers
// 5xx, and answers each input with the precise HTTP status and JSON-RPC error the spec and the
// README promise. Plus: the body limit (413, declared and chunked), deep nesting, and slow
// clients (slowloris) cut off by the header and request timeouts.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { Pool } from 'undici';
import { createParser } from 'eventsource-parser';
import { createMcpHttpApp, listen } from '../../src/http/app.ts';
import { defaultOriginPolicy } from '../../src/http/guards.ts';
import { McpServer } from '../../src/mcp/server.ts';
import { startCli, type RunningCli } from '../helpers/cli.ts';
import { RawSession } from '../helpers/raw-session.ts';

const BODY_LIMIT = 64 * 1024;
const SEED = Number(process.env.FUZZ_SEED ?? 20251125);
const ACCEPT = 'application/json, text/event-stream';
const SESSION_NOT_FOUND = -32001;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or the JSON-RPC messages of an SSE body; undefined when empty. */
  body: unknown;
  text: string;
}

/** `accepts()` of the spec: a media range list names `type` exactly or by wildcard. */
function accepts(header: string | undefined, type: string): boolean {
  if (!header) return false;
  const major = type.split('/')[0];
  return header.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase()).some((range) => range === type || range === '*/*' || range === `${major}/*`);
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
function hostName(host: string): string {
  const lower = host.toLowerCase();
  if (lower.startsWith('[')) return lower.slice(0, lower.indexOf(']') + 1);
  const colon = lower.lastIndexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}
/** DNS-rebinding rules for a server bound to 127.0.0.1 with no extra hosts or origins. */
function foreign(host: string, origin: string | undefined): boolean {
  if (!LOOPBACK.has(hostName(host))) return true;
  if (origin === undefined) return false;
  try {
    return !LOOPBACK.has(hostName(new URL(origin).host));
  } catch {
    return true;
  }
}

/** Every reply that is an error carries a JSON-RPC error object (id null or the request's). */
function assertJsonRpcError(reply: Reply, code: number | number[], context: string) {
  const body = reply.body as { jsonrpc?: string; error?: { code?: number; message?: string } } | undefined;
  assert.equal(body?.jsonrpc, '2.0', `${context}: a JSON-RPC error body (${reply.status} ${reply.text.slice(0, 200)})`);
  assert.equal(typeof body?.error?.message, 'string', context);
  const codes = Array.isArray(code) ? code : [code];
  assert.ok(codes.includes(body!.error!.code!), `${context}: error code ${body?.error?.code} not in ${codes} (${reply.text.slice(0, 200)})`);
}

const printable = (options: { minLength?: number; maxLength?: number } = {}) =>
  fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), ...options });

describe('bad input (1 worker, --replay)', () => {
  let cli: RunningCli;
  let pool: Pool;
  let url: URL;
  let tried = 0;
  const counts: Record<string, number> = {};

  before(async () => {
    cli = await startCli(['--workers', '1', '--replay', '--max-body-bytes', String(BODY_LIMIT)]);
    url = new URL(cli.url);
    pool = new Pool(url.origin, { connections: 4, pipelining: 1 });
  });
  after(async () => {
    await pool?.close();
    await cli?.stop();
  });

  async function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Reply> {
    tried++;
    const res = await pool.request({ method, path, headers, body });
    const type = String(res.headers['content-type'] ?? '');
    if (type.startsWith('text/event-stream') && method === 'GET') {
      // A live stream: its status and headers are the answer.
      res.body.destroy();
      return { status: res.statusCode, headers: res.headers, body: undefined, text: '' };
    }
    const text = await res.body.text();
    let parsed: unknown;
    if (type.startsWith('text/event-stream')) {
      const messages: unknown[] = [];
      createParser({ onEvent: (event) => event.data && messages.push(JSON.parse(event.data)) }).feed(text);
      parsed = messages;
    } else if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    return { status: res.statusCode, headers: res.headers, body: parsed, text };
  }

  const alive = async () => {
    assert.equal(cli.child.exitCode, null, 'the server process is alive');
    assert.equal((await send('GET', '/healthz', {})).status, 200);
  };

  async function openSession(protocolVersion = '2025-11-25'): Promise<RawSession> {
    const session = new RawSession(cli.url);
    session.protocolVersion = protocolVersion;
    await session.open();
    return session;
  }

  const run = async <T>(name: string, arbitrary: fc.Arbitrary<T>, numRuns: number, check: (value: T) => Promise<void>) => {
    try {
      await fc.assert(fc.asyncProperty(arbitrary, check), { numRuns, seed: SEED, endOnFailure: true });
    } catch (err) {
      // node:test prints the message only: put the property's own failure in it.
      throw new Error(`${name}: ${(err as Error).message}\n${String((err as Error).cause)}`);
    }
    counts[name] = numRuns;
  };

  // ── bodies ──────────────────────────────────────────────────────────────────────────────

  test('bodies: invalid JSON, wrong types, huge strings, deep nesting, batches: the precise status and JSON-RPC error', async () => {
    const modern = await openSession('2025-11-25');
    const legacy = await openSession('2025-03-26'); // the one revision with batches
    const post = (session: RawSession, body: string | Buffer) => send('POST', url.pathname, session.headers(), body);

    // Not JSON at all → 400 -32700.
    await run('invalid JSON', printable({ maxLength: 200 }).filter((text) => {
      try {
        JSON.parse(text);
        return false;
      } catch {
        return true;
      }
    }), 300, async (text) => {
      const reply = await post(modern, text);
      assert.equal(reply.status, 400, text);
      assertJsonRpcError(reply, -32700, text);
    });

    // Valid JSON that is not a JSON-RPC message (any value but a well-formed object) → 400 -32600.
    const notAMessage = fc.oneof(
      fc.jsonValue().filter((v) => typeof v !== 'object' || v === null),
      fc.record({
        jsonrpc: fc.oneof(fc.constant('1.0'), fc.integer(), fc.constant(null), printable({ maxLength: 5 }).filter((s) => s !== '2.0')),
        id: fc.oneof(fc.integer(), printable({ maxLength: 10 })),
        method: printable({ minLength: 1, maxLength: 20 }),
      }),
      fc.record({ jsonrpc: fc.constant('2.0'), id: fc.integer(), method: fc.oneof(fc.integer(), fc.constant(''), fc.boolean(), fc.constant(null)) }),
      fc.record({ jsonrpc: fc.constant('2.0'), id: fc.integer({ min: 1 }), method: fc.constant('ping'), params: fc.oneof(fc.array(fc.integer()), fc.integer(), printable()) }),
      fc.record({ jsonrpc: fc.constant('2.0'), id: fc.oneof(fc.constant(null), fc.boolean(), fc.double({ noDefaultInfinity: true, noNaN: true }).map(() => ({}))), method: fc.constant('ping') }),
    );
    await run('not a message', notAMessage, 400, async (value) => {
      const text = JSON.stringify(value);
      const reply = await post(modern, text);
      assert.equal(reply.status, 400, text);
      assertJsonRpcError(reply, -32600, text);
      const id = (value as { id?: unknown } | null)?.id;
      if (typeof id === 'number' || typeof id === 'string') assert.equal((reply.body as { id: unknown }).id, id, 'the error names the request id');
    });

    // Well-formed requests for methods that do not exist → 200, -32601 with the request's id;
    // notifications of any method → 202.
    const unknownMethod = printable({ minLength: 1, maxLength: 30 }).map((s) => `x-fuzz/${s}`);
    await run('unknown methods', fc.record({ id: fc.oneof(fc.integer(), printable({ maxLength: 20 })), method: unknownMethod, notification: fc.boolean(), params: fc.option(fc.dictionary(printable({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }), { nil: undefined }) }), 300, async ({ id, method, notification, params }) => {
      const message: Record<string, unknown> = { jsonrpc: '2.0', method };
      if (!notification) message.id = id;
      if (params !== undefined) message.params = params;
      const reply = await post(modern, JSON.stringify(message));
      if (notification) {
        assert.equal(reply.status, 202);
        return;
      }
      assert.equal(reply.status, 200);
      const response = (reply.body as Array<{ id: unknown; error?: { code: number } }>).find((m) => m.id === id);
      assert.equal(response?.error?.code, -32601, JSON.stringify(reply.body));
    });

    // Wrong types in the params of real methods → a JSON-RPC error (-32602 or a tool error result), never 5xx.
    await run('wrong param types', fc.record({
      method: fc.constantFrom('tools/call', 'resources/read', 'prompts/get', 'completion/complete', 'logging/setLevel', 'resources/subscribe', 'tools/list'),
      params: fc.dictionary(fc.constantFrom('name', 'uri', 'arguments', 'level', 'ref', 'argument', 'cursor', '_meta'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
    }), 300, async ({ method, params }) => {
      const reply = await post(modern, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
      assert.equal(reply.status, 200, reply.text.slice(0, 300));
      const response = (reply.body as Array<{ id: unknown; result?: unknown; error?: { code: number } }>).find((m) => m.id === 1);
      assert.ok(response, 'a response');
      if (response.error) assert.ok([-32602, -32002, -32600, -32601].includes(response.error.code), JSON.stringify(response.error));
    });

    // Batches: refused by 2025-11-25 (400 -32600); on 2025-03-26, one reply per request or invalid item.
    const item = fc.oneof(
      fc.record({ jsonrpc: fc.constant('2.0'), id: fc.integer({ min: 1, max: 1e6 }), method: unknownMethod }),
      fc.record({ jsonrpc: fc.constant('2.0'), method: unknownMethod }),
      fc.jsonValue({ maxDepth: 2 }).filter((v) => typeof v !== 'object' || v === null),
    );
    await run('batches', fc.array(item, { minLength: 1, maxLength: 8 }), 200, async (items) => {
      const text = JSON.stringify(items);
      const refused = await post(modern, text);
      assert.equal(refused.status, 400);
      assertJsonRpcError(refused, -32600, 'batch on 2025-11-25');
      const reply = await post(legacy, text);
      const requests = items.filter((i) => typeof i === 'object' && i !== null && 'id' in i) as Array<{ id: number }>;
      const invalid = items.filter((i) => typeof i !== 'object' || i === null);
      if (requests.length === 0 && invalid.length === 0) return assert.equal(reply.status, 202);
      if (requests.length === 0) {
        assert.equal(reply.status, 400);
        assert.equal((reply.body as unknown[]).length, invalid.length);
        return;
      }
      assert.equal(reply.status, 200);
      const messages = reply.body as Array<{ id: unknown; error?: { code: number } }>;
      for (const request of requests) assert.equal(messages.find((m) => m.id === request.id)?.error?.code, -32601);
      assert.equal(messages.filter((m) => m.id === null && m.error?.code === -32600).length, invalid.length);
    });

    // Huge strings (over the limit → 413) and deep nesting (→ 400 -32600, not a stack overflow).
    await run('sizes and depths', fc.record({ size: fc.integer({ min: BODY_LIMIT - 200, max: BODY_LIMIT * 3 }), depth: fc.integer({ min: 1, max: 20_000 }), array: fc.boolean() }), 60, async ({ size, depth, array }) => {
      const huge = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(size) } } });
      const big = await post(modern, huge);
      if (Buffer.byteLength(huge) > BODY_LIMIT) {
        assert.equal(big.status, 413);
        assertJsonRpcError(big, -32600, 'over the limit');
      } else {
        assert.equal(big.status, 200);
      }
      const open = array ? '['.repeat(depth) : '{"a":'.repeat(depth);
      const close = array ? ']'.repeat(depth) : '}'.repeat(depth);
      const nested = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"t","deep":${open}1${close}}}}`;
      const reply = await post(modern, nested);
      if (Buffer.byteLength(nested) > BODY_LIMIT) {
        assert.equal(reply.status, 413, `depth ${depth}`);
      } else if (depth + 3 > 512) {
        assert.equal(reply.status, 400, `depth ${depth}`);
        assertJsonRpcError(reply, -32600, `depth ${depth}`);
      } else {
        assert.equal(reply.status, 200, `depth ${depth}: ${reply.text.slice(0, 200)}`);
      }
    });
    // Deep nesting (within the body limit; JSON.stringify overflows the stack from ~5,000 levels)
    // where a recursive walk would happen: initialize's capabilities (stored), a reply to a server
    // request (routed to the worker that asked), a notification's params.
    for (const body of [
      `{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","clientInfo":{"name":"x","version":"1"},"capabilities":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}}`,
      `{"jsonrpc":"2.0","id":"w9.1:1","result":{"a":${'['.repeat(25_000)}${']'.repeat(25_000)}}}`,
      `{"jsonrpc":"2.0","method":"notifications/x","params":{"a":${'['.repeat(25_000)}${']'.repeat(25_000)}}}`,
    ]) {
      const session = body.includes('"initialize"') ? new RawSession(cli.url) : modern;
      const reply = await send('POST', url.pathname, session.headers(), body);
      assert.equal(reply.status, 400, reply.text.slice(0, 200));
      assertJsonRpcError(reply, -32600, 'deep');
    }
    counts['deep walks'] = 3;
    await alive();
  });

  test('a body over the limit without Content-Length (chunked) is cut at the limit: 413', async () => {
    const session = await openSession();
    // A raw socket: the server answers and closes while the client is still sending, which an
    // HTTP client reports as EPIPE instead of the response.
    const head = Object.entries(session.headers()).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const response = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname);
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('error', () => undefined); // EPIPE / ECONNRESET once the server hung up
      socket.on('close', () => resolve(text));
      socket.on('connect', () => {
        socket.write(`POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\ntransfer-encoding: chunked\r\n${head}\r\n`);
        const chunk = ' '.repeat(4096);
        for (let i = 0; i < 40; i++) socket.write(`${(4096).toString(16)}\r\n${chunk}\r\n`);
        socket.write('0\r\n\r\n');
      });
    });
    tried++;
    assert.match(response, /^HTTP\/1\.1 413 /);
    assert.match(response, /\r\nconnection: close\r\n/i);
    const body = JSON.parse(response.slice(response.indexOf('\r\n\r\n') + 4)) as { error: { code: number } };
    assert.equal(body.error.code, -32600);
    await alive();
  });

  // ── headers ─────────────────────────────────────────────────────────────────────────────

  test('headers: Accept, Content-Type, session id, protocol version, Origin, Host, Last-Event-ID', async () => {
    let session = await openSession();
    const port = url.port;
    const header = <T extends string>(valid: T[], weird: fc.Arbitrary<string>) =>
      fc.oneof(fc.constant(undefined), fc.constantFrom(...valid), weird);
    const inputs = fc.record({
      method: fc.constantFrom('POST', 'GET', 'DELETE'),
      accept: header([ACCEPT, '*/*', 'application/json', 'text/event-stream', 'application/*, text/*', 'text/html'], printable({ maxLength: 40 })),
      contentType: header(['application/json', 'application/json; charset=utf-8', 'text/plain', 'APPLICATION/JSON'], printable({ maxLength: 30 })),
      session: fc.constantFrom('valid', 'unknown', 'garbage', 'absent'),
      garbageSession: printable({ minLength: 1, maxLength: 60 }),
      version: fc.constantFrom('2025-11-25', '2025-06-18', '2025-03-26', undefined, 'garbage'),
      garbageVersion: printable({ minLength: 1, maxLength: 20 }),
      origin: header([`http://localhost:${port}`, `http://127.0.0.1:${port}`, 'https://evil.example', 'null'], printable({ maxLength: 30 })),
      host: header([`127.0.0.1:${port}`, `localhost:${port}`, 'evil.example', `[::1]:${port}`], printable({ minLength: 1, maxLength: 30 }).filter((h) => h.trim() === h && h.length > 0 && !h.startsWith('['))), // undici asserts on a bare '['
      lastEventId: header(['g/0', 'g/999999', 'p123/1'], printable({ maxLength: 70 })),
    });
    await run('headers', inputs, 800, async (input) => {
      const headers: Record<string, string> = {};
      if (input.accept !== undefined) headers.accept = input.accept;
      if (input.contentType !== undefined && input.method === 'POST') headers['content-type'] = input.contentType;
      const sessionId = { valid: session.sessionId, unknown: crypto.randomUUID(), garbage: input.garbageSession, absent: undefined }[input.session];
      if (sessionId !== undefined) headers['mcp-session-id'] = sessionId;
      const version = input.version === 'garbage' ? input.garbageVersion : input.version;
      if (version !== undefined) headers['mcp-protocol-version'] = version;
      if (input.origin !== undefined) headers.origin = input.origin;
      if (input.host !== undefined) headers.host = input.host;
      if (input.lastEventId !== undefined && input.method === 'GET') headers['last-event-id'] = input.lastEventId;
      const body = input.method === 'POST' ? JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) : undefined;
      const reply = await send(input.method, url.pathname, headers, body);
      const context = JSON.stringify({ ...input, status: reply.status, body: reply.text.slice(0, 200) });
      assert.ok(reply.status < 500, context);
      if (reply.status >= 400) assertJsonRpcError(reply, [-32600, -32700, -32602, SESSION_NOT_FOUND], context);

      // The precise answer, in the order the checks apply.
      const sessionEra = version === undefined || ['2025-11-25', '2025-06-18', '2025-03-26', '2024-11-05'].includes(version);
      let expected: number | undefined;
      if (foreign(input.host ?? `127.0.0.1:${port}`, input.origin)) expected = 403;
      else if (!sessionEra) expected = undefined; // another protocol revision's rules
      else if (input.method === 'POST' && !(accepts(input.accept, 'application/json') && accepts(input.accept, 'text/event-stream'))) expected = 406;
      else if (input.method === 'POST' && input.contentType?.split(';')[0]?.trim().toLowerCase() !== 'application/json') expected = 415;
      else if (input.method === 'GET' && !accepts(input.accept, 'text/event-stream')) expected = 406;
      else if (version === '2024-11-05') expected = 400; // known revision, not supported
      else if (sessionId === undefined) expected = 400;
      else if (input.session !== 'valid') expected = 404;
      else expected = 200;
      if (expected !== undefined) assert.equal(reply.status, expected, context);
      if (expected === 404) assertJsonRpcError(reply, SESSION_NOT_FOUND, context);
      // A DELETE that succeeded ended the session: continue with a new one.
      if (input.method === 'DELETE' && reply.status === 200) session = await openSession();
    });
    await alive();
  });

  // ── methods and paths ───────────────────────────────────────────────────────────────────

  test('methods and paths: 404 off the endpoint, 405 for other methods, health always up', async () => {
    const methods = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'MKCOL', 'PURGE');
    const paths = fc.oneof(
      fc.constantFrom('/mcp', '/mcp?x=1', '/mcp/', '/MCP', '//mcp', '/mcp/../mcp', '/healthz', '/readyz', '/', '/.well-known/oauth-protected-resource', '/metrics'),
      printable({ maxLength: 40 }).map((s) => `/${s.replace(/[\s#]/g, '')}`),
    );
    await run('methods and paths', fc.record({ method: methods, path: paths }), 400, async ({ method, path }) => {
      const reply = await send(method, path, {});
      const context = `${method} ${path} → ${reply.status} ${reply.text.slice(0, 120)}`;
      assert.ok(reply.status < 500, context);
      const pathname = path.split('?', 1)[0];
      if (pathname === '/healthz') assert.equal(reply.status, 200, context);
      else if (pathname === '/metrics' || pathname === '/readyz') assert.ok([200, 404, 405, 503].includes(reply.status), context);
      else if (pathname !== '/mcp') assert.equal(reply.status, 404, context);
      else if (['GET', 'POST'].includes(method)) assert.equal(reply.status, 406, context); // no Accept
      else if (method === 'DELETE') assert.equal(reply.status, 400, context); // no session id
      else {
        assert.equal(reply.status, 405, context);
        assert.equal(reply.headers.allow, 'GET, POST, DELETE');
        if (method !== 'HEAD') assertJsonRpcError(reply, -32600, context);
      }
    });
    await alive();
  });

  test('figures', (t) => {
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    t.diagnostic(`fuzzed inputs: ${total} (${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ')}); HTTP requests sent: ${tried}; seed ${SEED}`);
    assert.equal(cli.child.exitCode, null, 'the server never crashed');
    assert.ok(!cli.lines.some((line) => /"level":(50|60)/.test(line)), 'no error was logged');
  });
});

// Slow clients, against listen() with short timeouts (the CLI's are 10 s for headers, 5 min for a
// request): a client sending its headers (or its body) a byte at a time is cut off.
describe('slowloris', () => {
  const HEADERS_TIMEOUT_MS = 1_000;
  const REQUEST_TIMEOUT_MS = 2_000;
  let port = 0;
  let close: () => Promise<void>;

  before(async () => {
    const server = new McpServer({ name: 'slow', version: '1' });
    const app = createMcpHttpApp(server, { originPolicy: defaultOriginPolicy('127.0.0.1') });
    const http = await listen(app, { port: 0, headersTimeoutMs: HEADERS_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
    port = (http.address() as { port: number }).port;
    close = async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await server.close();
    };
  });
  after(async () => close?.());

  /** Sends `head` at once, then `drip` one byte every 100 ms; resolves when the server hangs up. */
  function drip(head: string, drip: string): Promise<{ ms: number; response: string; bytesDripped: number }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      const started = Date.now();
      let response = '';
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      socket.on('data', (chunk) => (response += chunk.toString()));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(timer);
        resolve({ ms: Date.now() - started, response, bytesDripped: sent });
      });
      socket.on('connect', () => {
        socket.write(head);
        timer = setInterval(() => {
          if (sent >= drip.length) {
            clearInterval(timer);
            socket.destroy();
            reject(new Error('the server never cut the slow client off'));
            return;
          }
          socket.write(drip[sent++]!);
        }, 100);
      });
    });
  }

  test('headers sent a byte at a time: cut off after the headers timeout with 408', async (t) => {
    const cut = await drip('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ', 'a'.repeat(80));
    t.diagnostic(`slow headers cut after ${cut.ms} ms (headers timeout ${HEADERS_TIMEOUT_MS} ms, checked every 1 s)`);
    assert.match(cut.response, /^HTTP\/1\.1 408/);
    assert.ok(cut.ms < HEADERS_TIMEOUT_MS + 1_500);
  });

  test('a body sent a byte at a time: cut off after the request timeout with 408', async (t) => {
    const head = `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: ${ACCEPT}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
    const cut = await drip(head, ' '.repeat(80));
    t.diagnostic(`slow body cut after ${cut.ms} ms (request timeout ${REQUEST_TIMEOUT_MS} ms)`);
    assert.match(cut.response, /^HTTP\/1\.1 408/);
    assert.ok(cut.ms < REQUEST_TIMEOUT_MS + 1_500);
  });
});
