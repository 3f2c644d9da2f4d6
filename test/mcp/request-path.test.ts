// The request path's framing and cancellation: a result that comes alone is one SSE event framed
// by Content-Length; a call that sends related messages first streams (chunked); a handler that
// reads ctx.signal only after the client cancelled still sees the cancel; a cancelled request is
// answered with an empty SSE body.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { z } from 'zod';
import { Cancellation } from '../../src/mcp/cancellation.ts';
import { eventually, startTestServer, type TestServer } from '../helpers/in-process.ts';
import { RawSession } from '../helpers/raw-session.ts';

describe('Cancellation', () => {
  test('a signal made after the abort is already aborted, with the reason', () => {
    const cancellation = new Cancellation();
    const reason = new Error('gone');
    cancellation.abort(reason);
    cancellation.abort(new Error('a second abort changes nothing'));
    assert.equal(cancellation.aborted, true);
    assert.equal(cancellation.signal.aborted, true);
    assert.equal(cancellation.signal.reason, reason);
    assert.throws(() => cancellation.throwIfAborted(), (err) => err === reason);
  });

  test('a signal made before the abort fires its listeners once', () => {
    const cancellation = new Cancellation();
    let fired = 0;
    cancellation.signal.addEventListener('abort', () => fired++);
    assert.doesNotThrow(() => cancellation.throwIfAborted());
    cancellation.abort('stop');
    cancellation.abort('again');
    assert.equal(fired, 1);
    assert.equal(cancellation.signal.reason, 'stop');
  });
});

describe('POST answers and late signal readers', () => {
  let server: TestServer;
  let release: () => void = () => undefined;
  let started: () => void = () => undefined;
  let observed: { aborted: boolean; reason: unknown } | undefined;

  before(async () => {
    server = await startTestServer((s) => {
      s.tool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }) => ({ content: [{ type: 'text', text }] }));
      s.tool('chatty', { inputSchema: z.object({}) }, async (_args, ctx) => {
        await ctx.log('info', 'before the result');
        return { content: [{ type: 'text', text: 'done' }] };
      });
      s.tool('late_reader', { inputSchema: z.object({}) }, async (_args, ctx) => {
        // Never touches ctx.signal until the client has cancelled.
        const released = new Promise<void>((resolve) => (release = resolve));
        started();
        await released;
        observed = { aborted: ctx.signal.aborted, reason: ctx.signal.reason };
        return { content: [{ type: 'text', text: 'too late' }] };
      });
    });
  });
  after(async () => {
    await server?.close();
  });

  async function raw(session: RawSession, body: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
    const client = new Client(session.url.origin);
    try {
      const res = await client.request({ path: session.url.pathname, method: 'POST', headers: session.headers(), body: JSON.stringify(body) });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    } finally {
      await client.close();
    }
  }

  test('a result that comes alone: one SSE event, framed by Content-Length', async () => {
    const session = new RawSession(server.url);
    await session.open();
    const reply = await raw(session, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
    assert.equal(reply.headers['transfer-encoding'], undefined);
    assert.equal(Number(reply.headers['content-length']), Buffer.byteLength(reply.text));
    assert.equal(reply.headers['mcp-session-id'], session.sessionId);
    assert.equal(reply.text, `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'hi' }] } })}\n\n`);
  });

  test('related messages first: the answer streams (chunked), the log before the result', async () => {
    const session = new RawSession(server.url);
    await session.open();
    const reply = await raw(session, { jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'chatty', arguments: {} } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['transfer-encoding'], 'chunked');
    assert.equal(reply.headers['content-length'], undefined);
    const messages = reply.text
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
    assert.deepEqual(
      messages.map((m) => m.method ?? `result ${String(m.id)}`),
      ['notifications/message', 'result 8'],
    );
  });

  test('a handler that reads ctx.signal after the cancel sees it aborted; the request gets an empty SSE answer', async () => {
    const session = new RawSession(server.url);
    await session.open();
    observed = undefined;
    const running = new Promise<void>((resolve) => (started = resolve));
    const call = raw(session, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'late_reader', arguments: {} } });
    // The handler is waiting; the cancel arrives on another connection.
    await running;
    const cancel = await session.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 9, reason: 'user gave up' } });
    assert.equal(cancel.status, 202);
    release();
    const reply = await call;
    await eventually(() => observed !== undefined, 5_000, 'the handler to read its signal');
    assert.equal(observed!.aborted, true);
    assert.match(String((observed!.reason as Error).message), /user gave up/);
    // spec: no response for a cancelled request; the HTTP exchange still ends, with nothing in it.
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
    assert.equal(reply.text, '');
  });
});
