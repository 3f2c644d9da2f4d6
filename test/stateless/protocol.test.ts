// The 2026-07-28 revision on the same endpoint: discovery, the envelope's error ladder, result
// envelopes, input round trips with signed state, request-scoped logging and progress,
// cancellation by closing the stream, and subscriptions/listen.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from 'undici';
import { z } from 'zod';
import { McpServer } from '../../src/mcp/server.ts';
import { connectClient } from '../helpers/mcp-client.ts';
import { startTestServer, type TestServer } from '../helpers/in-process.ts';
import { call, envelope, listen, post, VERSION } from '../helpers/stateless.ts';

const SECRET = 'a-test-secret-shared-by-workers';

function register(server: McpServer, events: { aborted?: unknown; started?: () => void }) {
  server.tool('echo', { inputSchema: z.object({ text: z.string() }) }, ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.tool('greet_user', { description: 'asks for a name' }, async (_args, ctx) => {
    const answer = await ctx.elicit(
      { mode: 'form', message: 'Name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
      { key: 'user_name' },
    );
    return { content: [{ type: 'text', text: `Hello, ${(answer.content as { name: string }).name}!` }] };
  });
  server.tool('two_rounds', {}, async (_args, ctx) => {
    const first = await ctx.elicit({ mode: 'form', message: 'Step 1', requestedSchema: { type: 'object', properties: { a: { type: 'string' } } } }, { key: 'step1' });
    const second = await ctx.elicit({ mode: 'form', message: 'Step 2', requestedSchema: { type: 'object', properties: { b: { type: 'string' } } } }, { key: 'step2' });
    return { content: [{ type: 'text', text: `${(first.content as { a: string }).a}+${(second.content as { b: string }).b}` }] };
  });
  server.tool('ask_both', {}, async (_args, ctx) => {
    const [roots, sample] = await Promise.all([
      ctx.listRoots({ key: 'roots' }),
      ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 }, { key: 'sample' }),
    ]);
    return { content: [{ type: 'text', text: `${(roots.roots as unknown[]).length} root(s), ${(sample.content as { text: string }).text}` }] };
  });
  server.tool('log_it', {}, async (_args, ctx) => {
    await ctx.log('info', 'logged at info');
    await ctx.log('debug', 'logged at debug');
    return { content: [{ type: 'text', text: 'done' }] };
  });
  server.tool('steps', {}, async (_args, ctx) => {
    for (let i = 1; i <= 3; i++) await ctx.progress(i, 3);
    return { content: [{ type: 'text', text: 'stepped' }] };
  });
  server.tool('wait', {}, (_args, ctx) => {
    events.started?.();
    return new Promise((_resolve, reject) =>
      ctx.signal.addEventListener('abort', () => {
        events.aborted = ctx.signal.reason;
        reject(ctx.signal.reason);
      }),
    );
  });
  server.tool('touch', {}, async () => {
    await server.resourceUpdated('test://watched');
    await server.toolListChanged();
    return { content: [{ type: 'text', text: 'touched' }] };
  });
  server.tool(
    'routed',
    { inputSchema: z.object({ region: z.string().meta({ 'x-mcp-header': 'Region' }), count: z.number().int().optional().meta({ 'x-mcp-header': 'Count' }) }) },
    ({ region }) => ({ content: [{ type: 'text', text: region }] }),
  );
  server.resource('test://watched', { name: 'watched', mimeType: 'text/plain' }, (uri) => ({ contents: [{ uri, mimeType: 'text/plain', text: 'w' }] }));
  server.prompt('plain', { description: 'p' }, () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'p' } }] }));
}

describe('protocol revision 2026-07-28 (sessionless) on the same endpoint', () => {
  let ts: TestServer;
  const events: { aborted?: unknown; started?: () => void } = {};

  before(async () => {
    ts = await startTestServer((server) => register(server, events), { server: { requestState: { secret: SECRET } }, http: { maxListeners: 3 } });
  });
  after(() => ts.close());

  test('server/discover tells versions, capabilities and the server, with a result envelope', async () => {
    const reply = await call(ts.url, 'server/discover');
    assert.equal(reply.status, 200);
    const result = reply.body.result as Record<string, unknown>;
    assert.deepEqual(result.supportedVersions, [VERSION]);
    assert.equal(result.resultType, 'complete');
    assert.equal(typeof result.ttlMs, 'number');
    assert.ok(['public', 'private'].includes(result.cacheScope as string));
    assert.deepEqual((result._meta as Record<string, unknown>)['io.modelcontextprotocol/serverInfo'], { name: 'test-server', version: '1.0.0' });
    assert.ok((result.capabilities as Record<string, unknown>).tools);
  });

  test('the envelope ladder: missing _meta 400/-32602, mismatch 400/-32020, unsupported 400/-32022, unknown 404/-32601; ids echoed', async () => {
    const missing = envelope('tools/list', {}, { id: 101 });
    delete (missing.body.params as { _meta?: unknown })._meta;
    const noMeta = await post(ts.url, missing.body, missing.headers);
    assert.equal(noMeta.status, 400);
    assert.deepEqual([noMeta.body.id, (noMeta.body.error as { code: number }).code], [101, -32602]);

    const mismatched = await call(ts.url, 'tools/list', {}, { id: 102, meta: { 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' } });
    assert.equal(mismatched.status, 400);
    assert.equal((mismatched.body.error as { code: number }).code, -32020);

    const unsupported = await call(ts.url, 'tools/list', {}, { id: 103, meta: { 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' }, headers: { 'mcp-protocol-version': 'v999.0.0' } });
    assert.equal(unsupported.status, 400);
    assert.deepEqual(unsupported.body.error, { code: -32022, message: 'Unsupported protocol version', data: { supported: [VERSION], requested: 'v999.0.0' } });

    for (const method of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'no/such']) {
      const reply = await call(ts.url, method, {}, { id: 104 });
      assert.equal(reply.status, 404, method);
      assert.deepEqual([reply.body.id, (reply.body.error as { code: number }).code], [104, -32601]);
    }

    const wrongMethod = await call(ts.url, 'tools/list', {}, { headers: { 'mcp-method': 'prompts/list' } });
    assert.deepEqual([wrongMethod.status, (wrongMethod.body.error as { code: number }).code], [400, -32020]);
    const wrongName = await call(ts.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { headers: { 'mcp-name': 'other' } });
    assert.deepEqual([wrongName.status, (wrongName.body.error as { code: number }).code], [400, -32020]);
    const base64Name = await call(ts.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { headers: { 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` } });
    assert.equal(base64Name.status, 200);
  });

  test('Mcp-Param-* headers mirror x-mcp-header arguments: required, decoded, compared', async () => {
    const ok = await call(ts.url, 'tools/call', { name: 'routed', arguments: { region: 'eu', count: 3 } }, { headers: { 'mcp-param-region': 'eu', 'mcp-param-count': '3' } });
    assert.equal(ok.status, 200);
    const encoded = await call(ts.url, 'tools/call', { name: 'routed', arguments: { region: 'Zürich' } }, { headers: { 'mcp-param-region': `=?base64?${Buffer.from('Zürich').toString('base64')}?=` } });
    assert.equal(encoded.status, 200);
    for (const headers of [{}, { 'mcp-param-region': 'us' }, { 'mcp-param-region': '=?base64?ZXU?=' }]) {
      const refused = await call(ts.url, 'tools/call', { name: 'routed', arguments: { region: 'eu' } }, { headers });
      assert.deepEqual([refused.status, (refused.body.error as { code: number }).code], [400, -32020], JSON.stringify(headers));
    }
    assert.throws(() => ts.server.tool('bad_header', { inputSchema: z.object({ n: z.number().meta({ 'x-mcp-header': 'N' }) }) }, () => ({ content: [] })), /only fits string, integer or boolean/);
  });

  test('sessions and resumption do not exist: Mcp-Session-Id and Last-Event-ID are ignored; GET and DELETE are 405', async () => {
    const reply = await call(ts.url, 'tools/list', {}, { headers: { 'mcp-session-id': 'no-such-session', 'last-event-id': 'g/5' } });
    assert.equal(reply.status, 200);
    const target = new URL(ts.url);
    const client = new Client(target.origin);
    for (const method of ['GET', 'DELETE'] as const) {
      const res = await client.request({ path: target.pathname, method, headers: { accept: 'text/event-stream', 'mcp-protocol-version': VERSION } });
      assert.equal(res.statusCode, 405);
      assert.equal(res.headers.allow, 'POST');
      await res.body.dump();
    }
    await client.close();
  });

  test('results carry resultType, lists and reads carry caching hints; a missing resource is -32602 with its uri', async () => {
    const listed = await call(ts.url, 'tools/list');
    const result = listed.body.result as Record<string, unknown>;
    assert.equal(result.resultType, 'complete');
    assert.equal(result.ttlMs, 0);
    assert.equal(result.cacheScope, 'private');
    const echoed = await call(ts.url, 'tools/call', { name: 'echo', arguments: { text: 'hi' } });
    assert.equal((echoed.body.result as Record<string, unknown>).resultType, 'complete');
    assert.equal((echoed.body.result as Record<string, unknown>).ttlMs, undefined);
    const missing = await call(ts.url, 'resources/read', { uri: 'test://nope' });
    assert.deepEqual(missing.body.error, { code: -32602, message: 'Resource not found', data: { uri: 'test://nope' } });
  });

  test('an input round trip: input_required, then the retry with inputResponses completes', async () => {
    const first = await call(ts.url, 'tools/call', { name: 'greet_user' }, { capabilities: { elicitation: {} } });
    const asked = first.body.result as { resultType: string; inputRequests: Record<string, { method: string }>; requestState: string };
    assert.equal(asked.resultType, 'input_required');
    assert.deepEqual(Object.keys(asked.inputRequests), ['user_name']);
    assert.equal(asked.inputRequests.user_name!.method, 'elicitation/create');
    const retry = await call(ts.url, 'tools/call', {
      name: 'greet_user',
      inputResponses: { user_name: { action: 'accept', content: { name: 'Ada' } }, unrelated: { ignored: true } },
      requestState: asked.requestState,
    }, { capabilities: { elicitation: {} } });
    assert.deepEqual((retry.body.result as { content: unknown }).content, [{ type: 'text', text: 'Hello, Ada!' }]);
    const wrongShape = await call(ts.url, 'tools/call', { name: 'greet_user', inputResponses: { user_name: 12345 } }, { capabilities: { elicitation: {} } });
    assert.equal((wrongShape.body.error as { code: number }).code, -32602);
  });

  test('several rounds carry earlier answers in a signed state; a tampered state is refused; any worker with the key accepts it', async () => {
    const caps = { capabilities: { elicitation: {} } };
    const r1 = (await call(ts.url, 'tools/call', { name: 'two_rounds' }, caps)).body.result as { requestState: string; inputRequests: object };
    assert.deepEqual(Object.keys(r1.inputRequests), ['step1']);
    const r2 = (await call(ts.url, 'tools/call', { name: 'two_rounds', inputResponses: { step1: { action: 'accept', content: { a: 'x' } } }, requestState: r1.requestState }, caps)).body
      .result as { requestState: string; inputRequests: object };
    assert.deepEqual(Object.keys(r2.inputRequests), ['step2']);
    assert.notEqual(r2.requestState, r1.requestState);
    const tampered = await call(ts.url, 'tools/call', { name: 'two_rounds', inputResponses: { step2: { action: 'accept', content: { b: 'y' } } }, requestState: `${r2.requestState}-TAMPERED` }, caps);
    assert.equal((tampered.body.error as { code: number; message: string }).code, -32602);
    assert.match((tampered.body.error as { message: string }).message, /Invalid requestState/);

    // Another worker: same secret accepts the state, another secret refuses it.
    const sameKey = await startTestServer((server) => register(server, {}), { server: { requestState: { secret: SECRET } } });
    const otherKey = await startTestServer((server) => register(server, {}), { server: { requestState: { secret: 'some-other-secret-0123456789' } } });
    try {
      const done = await call(sameKey.url, 'tools/call', { name: 'two_rounds', inputResponses: { step2: { action: 'accept', content: { b: 'y' } } }, requestState: r2.requestState }, caps);
      assert.deepEqual((done.body.result as { content: unknown }).content, [{ type: 'text', text: 'x+y' }]);
      const refused = await call(otherKey.url, 'tools/call', { name: 'two_rounds', inputResponses: { step2: { action: 'accept', content: { b: 'y' } } }, requestState: r2.requestState }, caps);
      assert.equal((refused.body.error as { code: number }).code, -32602);
    } finally {
      await sameKey.close();
      await otherKey.close();
    }
  });

  test('questions asked together go out together; an undeclared capability is 400/-32021 with requiredCapabilities', async () => {
    const both = await call(ts.url, 'tools/call', { name: 'ask_both' }, { capabilities: { roots: {}, sampling: {} } });
    assert.deepEqual(Object.keys((both.body.result as { inputRequests: object }).inputRequests).sort(), ['roots', 'sample']);
    const missing = await call(ts.url, 'tools/call', { name: 'ask_both' }, { capabilities: { roots: {} } });
    assert.equal(missing.status, 400);
    assert.equal((missing.body.error as { code: number }).code, -32021);
    assert.deepEqual((missing.body.error as { data: unknown }).data, { requiredCapabilities: { sampling: {} } });
  });

  test('logging is per request: nothing without a logLevel; with one, messages at or above it stream before the result', async () => {
    const silent = await call(ts.url, 'tools/call', { name: 'log_it' });
    assert.match(silent.contentType, /application\/json/);
    const verbose = await call(ts.url, 'tools/call', { name: 'log_it' }, { meta: { 'io.modelcontextprotocol/logLevel': 'info' } });
    assert.match(verbose.contentType, /text\/event-stream/);
    const logs = verbose.events.filter((m) => m.method === 'notifications/message').map((m) => (m.params as { data: string }).data);
    assert.deepEqual(logs, ['logged at info']);
    assert.ok(!verbose.events.some((m) => 'id' in m && 'method' in m), 'never a server-to-client request on the stream');
  });

  test('progress streams on the request; closing the stream cancels the handler', async () => {
    const stepped = await call(ts.url, 'tools/call', { name: 'steps', _meta: undefined }, { meta: { progressToken: 'tok' } });
    assert.deepEqual(stepped.events.filter((m) => m.method === 'notifications/progress').map((m) => (m.params as { progress: number }).progress), [1, 2, 3]);
    assert.ok(!stepped.events.some((m) => 'id' in (m as object) && m.id === undefined));

    const running = new Promise<void>((resolve) => (events.started = resolve));
    const target = new URL(ts.url);
    const client = new Client(target.origin);
    const { body, headers } = envelope('tools/call', { name: 'wait' });
    const pending = client.request({ path: target.pathname, method: 'POST', headers, body: JSON.stringify(body) }).catch(() => undefined);
    await running;
    await client.destroy();
    await pending;
    const deadline = Date.now() + 5_000;
    while (events.aborted === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.match(String((events.aborted as Error).message), /closed the connection/);
  });

  test('subscriptions/listen: acknowledgement first, every frame tagged, only what the filter asked for', async () => {
    const tools = await listen(ts.url, { toolsListChanged: true, promptsListChanged: false, bogus: true }, { id: 'sub-1' });
    const resources = await listen(ts.url, { resourceSubscriptions: ['test://watched'] }, { id: 77 });
    try {
      const ack = await tools.waitFor(() => true);
      assert.equal(ack.method, 'notifications/subscriptions/acknowledged');
      assert.deepEqual(ack.params, { notifications: { toolsListChanged: true }, _meta: { 'io.modelcontextprotocol/subscriptionId': 'sub-1' } });
      await resources.waitFor((m) => m.method === 'notifications/subscriptions/acknowledged');
      await call(ts.url, 'tools/call', { name: 'touch' });
      const changed = await tools.waitFor((m) => m.method === 'notifications/tools/list_changed');
      assert.deepEqual(changed.params, { _meta: { 'io.modelcontextprotocol/subscriptionId': 'sub-1' } });
      const updated = await resources.waitFor((m) => m.method === 'notifications/resources/updated');
      assert.deepEqual(updated.params, { uri: 'test://watched', _meta: { 'io.modelcontextprotocol/subscriptionId': 77 } });
      assert.equal(tools.messages.filter((m) => m.method === 'notifications/resources/updated').length, 0);
      assert.equal(resources.messages.filter((m) => m.method === 'notifications/tools/list_changed').length, 0);
    } finally {
      await tools.close();
      await resources.close();
    }
  });

  test('a worker holds a bounded number of listen streams (503 + Retry-After beyond it)', async () => {
    const open = [await listen(ts.url, { toolsListChanged: true }), await listen(ts.url, { toolsListChanged: true }), await listen(ts.url, { toolsListChanged: true })];
    try {
      await Promise.all(open.map((s) => s.waitFor(() => true)));
      const refused = await call(ts.url, 'subscriptions/listen', { notifications: { toolsListChanged: true } });
      assert.equal(refused.status, 503);
      assert.equal((refused.body.error as { code: number }).code, -32603);
    } finally {
      await Promise.all(open.map((s) => s.close()));
    }
  });

  test('the session era still works on the same endpoint, side by side', async () => {
    const c = await connectClient(ts.url);
    try {
      const { tools } = await c.client.listTools();
      assert.ok(tools.some((tool) => tool.name === 'echo'));
      assert.equal((tools as unknown as Array<Record<string, unknown>>)[0]!.resultType, undefined);
    } finally {
      await c.close();
    }
  });
});
