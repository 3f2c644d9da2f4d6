// Every transport error path answers with the precise HTTP status and JSON-RPC error code.

import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { z } from 'zod';
import { startTestServer, type TestServer } from '../helpers/in-process.ts';

const JSON_AND_SSE = 'application/json, text/event-stream';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body, or for an SSE response its JSON-RPC response(s): one object, or an array. */
  body: unknown;
  /** For an SSE response, every message in order. */
  events: Array<Record<string, unknown>>;
  text: string;
}

function sseMessages(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n\n')
    .map((block) => block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n'))
    .filter((data) => data.length > 0)
    .map((data) => JSON.parse(data) as Record<string, unknown>);
}

describe('Streamable HTTP error paths', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer(
      (server) => {
        server.tool('echo', { inputSchema: z.object({ text: z.string() }) }, ({ text }) => ({ content: [{ type: 'text', text }] }));
      },
      { http: { maxBodyBytes: 64 * 1024 } },
    );
  });
  after(() => ts.close());

  async function send(
    method: 'POST' | 'GET' | 'DELETE' | 'PUT',
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const res = await request(ts.url, {
      method,
      headers: { accept: JSON_AND_SSE, 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    if (String(res.headers['content-type']).startsWith('text/event-stream')) {
      const events = sseMessages(text);
      const responses = events.filter((message) => !('method' in message));
      return { status: res.statusCode, headers: res.headers, body: responses.length === 1 ? responses[0] : responses, events, text };
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.statusCode, headers: res.headers, body: parsed, events: [], text };
  }

  const initialize = (protocolVersion = '2025-11-25', id: number | string = 1) => ({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });

  async function openSession(protocolVersion = '2025-11-25'): Promise<string> {
    const init = await send('POST', initialize(protocolVersion));
    assert.equal(init.status, 200);
    const id = init.headers['mcp-session-id'] as string;
    const ack = await send('POST', { jsonrpc: '2.0', method: 'notifications/initialized' }, {
      'mcp-session-id': id,
      'mcp-protocol-version': protocolVersion,
    });
    assert.equal(ack.status, 202);
    return id;
  }

  const errorCode = (reply: Reply) => (reply.body as { error?: { code: number } }).error?.code;

  test('initialize negotiates: a supported version is echoed, an unknown one gets the latest', async () => {
    const old = await send('POST', initialize('2025-03-26'));
    assert.equal((old.body as { result: { protocolVersion: string } }).result.protocolVersion, '2025-03-26');
    const unknown = await send('POST', initialize('1999-01-01'));
    assert.equal((unknown.body as { result: { protocolVersion: string } }).result.protocolVersion, '2025-11-25');
    assert.match(unknown.headers['mcp-session-id'] as string, /^[0-9a-f-]{36}$/);
  });

  test('Accept without text/event-stream → 406; wrong Content-Type → 415', async () => {
    const notAcceptable = await send('POST', initialize(), { accept: 'application/json' });
    assert.equal(notAcceptable.status, 406);
    assert.equal(errorCode(notAcceptable), -32600);
    const unsupported = await send('POST', initialize(), { 'content-type': 'text/plain' });
    assert.equal(unsupported.status, 415);
    const getNotAcceptable = await send('GET', undefined, { accept: 'application/json' });
    assert.equal(getNotAcceptable.status, 406);
  });

  test('invalid JSON → 400 with -32700; a non-JSON-RPC object → 400 with -32600', async () => {
    const session = await openSession();
    const parse = await send('POST', '{"jsonrpc": "2.0", ', { 'mcp-session-id': session });
    assert.equal(parse.status, 400);
    assert.equal(errorCode(parse), -32700);
    const invalid = await send('POST', { jsonrpc: '1.0', id: 5, method: 'ping' }, { 'mcp-session-id': session });
    assert.equal(invalid.status, 400);
    assert.equal(errorCode(invalid), -32600);
    assert.equal((invalid.body as { id: unknown }).id, 5);
    const nullId = await send('POST', { jsonrpc: '2.0', id: null, method: 'ping' }, { 'mcp-session-id': session });
    assert.equal(errorCode(nullId), -32600);
  });

  test('body over the limit → 413', async () => {
    const big = { jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(70 * 1024) } };
    const reply = await send('POST', big);
    assert.equal(reply.status, 413);
    assert.equal(errorCode(reply), -32600);
  });

  test('a body over the limit still being sent: the 413 reaches a client that reads only once it has sent everything', async () => {
    const url = new URL(ts.url);
    const response = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname);
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('error', () => undefined); // a reset shows as an empty response below
      socket.on('close', () => resolve(text));
      socket.on('connect', async () => {
        // Like a client busy uploading: nothing is read until the whole body is out.
        socket.pause();
        socket.write(`POST ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\naccept: ${JSON_AND_SSE}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`);
        const chunk = ' '.repeat(16 * 1024);
        // 480 KiB over about 300 ms: the 64 KiB limit is passed early, the server answers meanwhile.
        for (let i = 0; i < 30 && !socket.destroyed; i++) {
          socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
          await delay(10);
        }
        if (!socket.destroyed) socket.end('0\r\n\r\n');
        socket.resume();
      });
    });
    assert.match(response, /^HTTP\/1\.1 413 /);
    assert.match(response, /\r\nconnection: close\r\n/i);
  });

  test('missing session id → 400; unknown → 404; after DELETE → 404', async () => {
    const missing = await send('POST', { jsonrpc: '2.0', id: 1, method: 'ping' });
    assert.equal(missing.status, 400);
    const unknown = await send('POST', { jsonrpc: '2.0', id: 1, method: 'ping' }, { 'mcp-session-id': 'nope' });
    assert.equal(unknown.status, 404);
    const session = await openSession();
    const ok = await send('POST', { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-session-id': session });
    assert.deepEqual(ok.body, { jsonrpc: '2.0', id: 2, result: {} });
    const deleted = await send('DELETE', undefined, { 'mcp-session-id': session });
    assert.equal(deleted.status, 200);
    const gone = await send('POST', { jsonrpc: '2.0', id: 3, method: 'ping' }, { 'mcp-session-id': session });
    assert.equal(gone.status, 404);
    const getGone = await send('GET', undefined, { 'mcp-session-id': session, accept: 'text/event-stream' });
    assert.equal(getGone.status, 404);
    const getMissing = await send('GET', undefined, { accept: 'text/event-stream' });
    assert.equal(getMissing.status, 400);
  });

  test('an MCP-Protocol-Version naming no session-era revision → 400 (read as the sessionless revision, whose _meta is missing)', async () => {
    const session = await openSession();
    const reply = await send('POST', { jsonrpc: '2.0', id: 1, method: 'ping' }, {
      'mcp-session-id': session,
      'mcp-protocol-version': '2024-01-01',
    });
    assert.equal(reply.status, 400);
    assert.equal(errorCode(reply), -32602);
    assert.equal((reply.body as { id: unknown }).id, 1);
  });

  test('requests before notifications/initialized get an error, ping does not', async () => {
    const init = await send('POST', initialize());
    const session = init.headers['mcp-session-id'] as string;
    const early = await send('POST', { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { 'mcp-session-id': session });
    assert.equal(errorCode(early), -32600);
    const ping = await send('POST', { jsonrpc: '2.0', id: 2, method: 'ping' }, { 'mcp-session-id': session });
    assert.deepEqual(ping.body, { jsonrpc: '2.0', id: 2, result: {} });
  });

  test('unknown method → -32601; bad params → -32602', async () => {
    const session = await openSession();
    const unknown = await send('POST', { jsonrpc: '2.0', id: 1, method: 'tools/explode' }, { 'mcp-session-id': session });
    assert.equal(unknown.status, 200);
    assert.equal(errorCode(unknown), -32601);
    const badParams = await send('POST', { jsonrpc: '2.0', id: 2, method: 'resources/read', params: {} }, { 'mcp-session-id': session });
    assert.equal(errorCode(badParams), -32602);
  });

  test('initialize twice in one session, or in a batch, is refused', async () => {
    const session = await openSession();
    const again = await send('POST', initialize(), { 'mcp-session-id': session });
    assert.equal(again.status, 400);
    const batched = await send('POST', [initialize()]);
    assert.equal(batched.status, 400);
  });

  test('batches: refused on 2025-06-18 and later, answered on 2025-03-26', async () => {
    const modern = await openSession('2025-11-25');
    const refused = await send('POST', [{ jsonrpc: '2.0', id: 1, method: 'ping' }], { 'mcp-session-id': modern });
    assert.equal(refused.status, 400);
    assert.equal(errorCode(refused), -32600);
    const legacy = await openSession('2025-03-26');
    const answered = await send(
      'POST',
      [
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
        { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'b' } } },
        { foo: 'bar' },
      ],
      { 'mcp-session-id': legacy, 'mcp-protocol-version': '2025-03-26' },
    );
    assert.equal(answered.status, 200);
    const replies = answered.body as Array<{ id: unknown; result?: unknown; error?: { code: number } }>;
    assert.equal(replies.length, 3);
    assert.deepEqual(replies[0], { jsonrpc: '2.0', id: 1, result: {} });
    assert.deepEqual(replies[1], { jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: 'b' }] } });
    assert.equal(replies[2]!.error?.code, -32600);
    const empty = await send('POST', [], { 'mcp-session-id': legacy });
    assert.equal(empty.status, 400);
  });

  test('notifications and responses alone → 202 with no body', async () => {
    const session = await openSession();
    const reply = await send('POST', { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 99 } }, {
      'mcp-session-id': session,
    });
    assert.equal(reply.status, 202);
    assert.equal(reply.text, '');
    const response = await send('POST', { jsonrpc: '2.0', id: 'srv:gone:1', result: {} }, { 'mcp-session-id': session });
    assert.equal(response.status, 202);
  });

  test('DNS rebinding: a foreign Origin or Host → 403; loopback origins pass', async () => {
    const foreignOrigin = await send('POST', initialize(), { origin: 'http://evil.example' });
    assert.equal(foreignOrigin.status, 403);
    const foreignHost = await send('POST', initialize(), { host: 'evil.example' });
    assert.equal(foreignHost.status, 403);
    const local = await send('POST', initialize(), { origin: 'http://localhost:5173' });
    assert.equal(local.status, 200);
  });

  test('other HTTP methods → 405 with Allow; other paths → 404', async () => {
    const put = await send('PUT', {});
    assert.equal(put.status, 405);
    assert.equal(put.headers.allow, 'GET, POST, DELETE');
    const other = await request(ts.url.replace('/mcp', '/elsewhere'));
    assert.equal(other.statusCode, 404);
    await other.body.dump();
    const health = await request(ts.url.replace('/mcp', '/healthz'));
    assert.equal(health.statusCode, 200);
    await health.body.dump();
  });

  test('a second GET stream for a session ends the first (one stream per session)', async () => {
    const session = await openSession();
    const first = await request(ts.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': session } });
    assert.equal(first.statusCode, 200);
    assert.match(String(first.headers['content-type']), /text\/event-stream/);
    const firstEnded = first.body.text();
    const second = await request(ts.url, { method: 'GET', headers: { accept: 'text/event-stream', 'mcp-session-id': session } });
    assert.equal(second.statusCode, 200);
    await firstEnded; // resolves only when the server ended the first stream
    assert.equal(await ts.server.notify(session, { method: 'notifications/message', params: { level: 'info', data: 'to second' } }), true);
    const reader = second.body;
    const chunk: string = await new Promise((resolve) => reader.once('data', (data: Buffer) => resolve(data.toString())));
    assert.match(chunk, /to second/);
    reader.destroy();
  });

  test('requests are answered on an SSE stream by default', async () => {
    const session = await openSession();
    const reply = await send('POST', { jsonrpc: '2.0', id: 3, method: 'ping' }, { 'mcp-session-id': session });
    assert.match(String(reply.headers['content-type']), /text\/event-stream/);
    assert.deepEqual(reply.events, [{ jsonrpc: '2.0', id: 3, result: {} }]);
  });

  test('a POST whose handler streams becomes an SSE response carrying the result last', async () => {
    const session = await openSession();
    ts.server.tool('streamer', {}, async (_args, ctx) => {
      await ctx.notify('notifications/message', { level: 'info', data: 'first' });
      return { content: [{ type: 'text', text: 'last' }] };
    });
    const reply = await send('POST', { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'streamer' } }, {
      'mcp-session-id': session,
    });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /text\/event-stream/);
    assert.equal(reply.events.length, 2);
    assert.equal(reply.events[0]!.method, 'notifications/message');
    assert.deepEqual(reply.events[1], { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'last' }] } });
  });
});
