// The protocol as the official SDK client sees it: lifecycle, tools, resources, prompts,
// completion, logging, progress, cancellation and server-to-client requests.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { connectClient, type ConnectedClient } from '../helpers/mcp-client.ts';
import { eventually, startTestServer, type TestServer } from '../helpers/in-process.ts';

const PNG_1PX = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('MCP protocol over Streamable HTTP (official SDK client)', () => {
  let ts: TestServer;
  let started: (() => void) | undefined;
  let cancelledReason: unknown;

  before(async () => {
    ts = await startTestServer(
      (server) => {
        for (let i = 0; i < 7; i++) {
          server.tool(`filler_${i}`, { description: 'pagination filler' }, () => ({ content: [] }));
        }
        server.tool(
          'echo',
          { description: 'echo', inputSchema: z.object({ text: z.string().min(1).describe('what to echo') }) },
          ({ text }) => ({ content: [{ type: 'text', text }] }),
        );
        server.tool(
          'divide',
          {
            inputSchema: z.object({ a: z.number(), b: z.number() }),
            outputSchema: z.object({ quotient: z.number() }),
          },
          ({ a, b }) => {
            if (b === 0) throw new Error('division by zero');
            return { content: [{ type: 'text', text: String(a / b) }], structuredContent: { quotient: a / b } };
          },
        );
        server.tool('all_content', {}, () => ({
          content: [
            { type: 'text', text: 'hello' },
            { type: 'image', data: PNG_1PX, mimeType: 'image/png' },
            { type: 'audio', data: 'UklGRgAAAABXQVZF', mimeType: 'audio/wav' },
            { type: 'resource', resource: { uri: 'test://doc', mimeType: 'text/plain', text: 'embedded' } },
            { type: 'resource_link', uri: 'test://doc', name: 'doc', mimeType: 'text/plain' },
          ],
        }));
        server.tool('progress', { inputSchema: z.object({ steps: z.number().int() }) }, async ({ steps }, ctx) => {
          for (let i = 1; i <= steps; i++) await ctx.progress(i, steps, `step ${i}`);
          return { content: [{ type: 'text', text: 'done' }] };
        });
        server.tool('log', {}, async (_args, ctx) => {
          for (const level of ['debug', 'info', 'warning', 'error'] as const) await ctx.log(level, { level }, 'test');
          return { content: [] };
        });
        server.tool('wait_forever', {}, (_args, ctx) => {
          started?.();
          return new Promise((_resolve, reject) => {
            ctx.signal.addEventListener('abort', () => {
              cancelledReason = ctx.signal.reason;
              reject(ctx.signal.reason);
            });
          });
        });
        server.tool('ask_user', {}, async (_args, ctx) => {
          const answer = await ctx.elicit({
            message: 'Your name?',
            requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
          });
          return { content: [{ type: 'text', text: `${answer.action}:${(answer.content as { name?: string } | undefined)?.name}` }] };
        });
        server.tool('ask_model', {}, async (_args, ctx) => {
          const reply = await ctx.sample({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 10 });
          return { content: [{ type: 'text', text: (reply.content as { text: string }).text }] };
        });
        server.tool('roots', {}, async (_args, ctx) => {
          const roots = await ctx.listRoots();
          return { content: [{ type: 'text', text: JSON.stringify(roots.roots) }] };
        });
        server.resource('test://doc', { name: 'doc', mimeType: 'text/plain' }, (uri) => ({
          contents: [{ uri, mimeType: 'text/plain', text: 'the document' }],
        }));
        server.resource('test://logo', { name: 'logo', mimeType: 'image/png' }, (uri) => ({
          contents: [{ uri, mimeType: 'image/png', blob: PNG_1PX }],
        }));
        server.resourceTemplate(
          'test://users/{id}/profile',
          { name: 'profile', complete: { id: (value) => ['alice', 'albert', 'bob'].filter((id) => id.startsWith(value)) } },
          (uri, { id }) => ({ contents: [{ uri, text: `profile of ${id}` }] }),
        );
        server.prompt(
          'greet',
          {
            description: 'greeting',
            argsSchema: z.object({ name: z.string().describe('who'), tone: z.string().optional() }),
            complete: { tone: (value) => ['formal', 'friendly'].filter((tone) => tone.startsWith(value)) },
          },
          ({ name, tone }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `${tone ?? 'plain'} hello ${name}` } }] }),
        );
      },
      { server: { pageSize: 5 } },
    );
  });
  after(() => ts.close());

  async function connected(capabilities: Record<string, unknown> = {}): Promise<ConnectedClient> {
    return connectClient(ts.url, { capabilities });
  }

  test('initialize negotiates the latest version and advertises capabilities', async () => {
    const c = await connected();
    try {
      assert.equal(c.client.getServerVersion()?.name, 'test-server');
      const caps = c.client.getServerCapabilities();
      assert.deepEqual(caps?.tools, { listChanged: true });
      assert.deepEqual(caps?.resources, { subscribe: true, listChanged: true });
      assert.ok(caps?.logging);
      assert.ok(caps?.completions);
      assert.match(c.sessionId, /^[0-9a-f-]{36}$/);
    } finally {
      await c.close();
    }
  });

  test('tools/list paginates with an opaque cursor until every tool is listed', async () => {
    const c = await connected();
    try {
      const names: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await c.client.listTools(cursor === undefined ? {} : { cursor });
        names.push(...page.tools.map((tool) => tool.name));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      assert.equal(pages, 4);
      assert.equal(new Set(names).size, names.length);
      assert.ok(names.includes('echo') && names.includes('filler_0') && names.includes('roots'));
      const echo = (await c.client.listTools()).tools.find((tool) => tool.name === 'filler_0');
      assert.ok(echo);
      await assert.rejects(c.client.listTools({ cursor: 'not-a-cursor' }), /Invalid cursor/);
    } finally {
      await c.close();
    }
  });

  test('tool schemas go on the wire as JSON Schema 2020-12 with their keywords', async () => {
    const c = await connected();
    try {
      const all = [];
      let cursor: string | undefined;
      do {
        const page = await c.client.listTools(cursor === undefined ? {} : { cursor });
        all.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      const echo = all.find((tool) => tool.name === 'echo')!;
      assert.equal(echo.inputSchema.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.deepEqual(echo.inputSchema.properties, { text: { type: 'string', minLength: 1, description: 'what to echo' } });
      assert.deepEqual(echo.inputSchema.required, ['text']);
      const divide = all.find((tool) => tool.name === 'divide')!;
      assert.equal(divide.outputSchema?.type, 'object');
    } finally {
      await c.close();
    }
  });

  test('tools/call validates input, reports tool errors as isError, and returns structured content', async () => {
    const c = await connected();
    try {
      const echoed = await c.client.callTool({ name: 'echo', arguments: { text: 'hi' } });
      assert.deepEqual(echoed.content, [{ type: 'text', text: 'hi' }]);
      const invalid = await c.client.callTool({ name: 'echo', arguments: { text: 42 } });
      assert.equal(invalid.isError, true);
      assert.match((invalid.content as Array<{ text: string }>)[0]!.text, /Invalid arguments for tool echo: text/);
      const quotient = await c.client.callTool({ name: 'divide', arguments: { a: 6, b: 3 } });
      assert.deepEqual(quotient.structuredContent, { quotient: 2 });
      const failed = await c.client.callTool({ name: 'divide', arguments: { a: 1, b: 0 } });
      assert.equal(failed.isError, true);
      assert.deepEqual(failed.content, [{ type: 'text', text: 'division by zero' }]);
      await assert.rejects(c.client.callTool({ name: 'no_such_tool', arguments: {} }), (err: { code?: number }) => err.code === -32602);
    } finally {
      await c.close();
    }
  });

  test('every content type survives the round trip', async () => {
    const c = await connected();
    try {
      const result = await c.client.callTool({ name: 'all_content', arguments: {} });
      const types = (result.content as Array<{ type: string }>).map((block) => block.type);
      assert.deepEqual(types, ['text', 'image', 'audio', 'resource', 'resource_link']);
    } finally {
      await c.close();
    }
  });

  test('progress notifications reach the caller before the result', async () => {
    const c = await connected();
    try {
      const seen: Array<{ progress: number; total?: number; message?: string }> = [];
      const result = await c.client.callTool({ name: 'progress', arguments: { steps: 3 } }, undefined, {
        onprogress: (progress) => seen.push(progress),
      });
      assert.deepEqual(result.content, [{ type: 'text', text: 'done' }]);
      assert.deepEqual(seen.map((p) => p.progress), [1, 2, 3]);
      assert.equal(seen[2]!.total, 3);
      assert.equal(seen[0]!.message, 'step 1');
    } finally {
      await c.close();
    }
  });

  test('logging/setLevel filters notifications/message for that session', async () => {
    const c = await connected();
    try {
      const levels: string[] = [];
      c.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        levels.push(n.params.level);
      });
      await c.client.callTool({ name: 'log', arguments: {} });
      assert.deepEqual(levels, ['debug', 'info', 'warning', 'error']);
      levels.length = 0;
      await c.client.setLoggingLevel('warning');
      await c.client.callTool({ name: 'log', arguments: {} });
      assert.deepEqual(levels, ['warning', 'error']);
      await assert.rejects(c.client.setLoggingLevel('loud' as 'info'), (err: { code?: number }) => err.code === -32602);
    } finally {
      await c.close();
    }
  });

  test('notifications/cancelled aborts the handler through its AbortSignal', async () => {
    const c = await connected();
    try {
      const running = new Promise<void>((resolve) => (started = resolve));
      const controller = new AbortController();
      const call = c.client.callTool({ name: 'wait_forever', arguments: {} }, undefined, { signal: controller.signal });
      await running;
      controller.abort('user gave up');
      await assert.rejects(call);
      await eventually(() => cancelledReason !== undefined, 5_000, 'handler abort');
      assert.match(String((cancelledReason as Error).message), /user gave up/);
    } finally {
      await c.close();
    }
  });

  test('a handler awaits elicitation, sampling and roots answered by the client', async () => {
    const c = await connected({ elicitation: {}, sampling: {}, roots: { listChanged: true } });
    try {
      c.client.setRequestHandler(ElicitRequestSchema, async (request) => {
        assert.equal(request.params.message, 'Your name?');
        return { action: 'accept', content: { name: 'Ada' } };
      });
      c.client.setRequestHandler(CreateMessageRequestSchema, async () => ({
        role: 'assistant',
        content: { type: 'text', text: 'sampled!' },
        model: 'test-model',
      }));
      c.client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///work', name: 'work' }] }));
      const elicited = await c.client.callTool({ name: 'ask_user', arguments: {} });
      assert.deepEqual(elicited.content, [{ type: 'text', text: 'accept:Ada' }]);
      const sampled = await c.client.callTool({ name: 'ask_model', arguments: {} });
      assert.deepEqual(sampled.content, [{ type: 'text', text: 'sampled!' }]);
      const roots = await c.client.callTool({ name: 'roots', arguments: {} });
      assert.deepEqual(roots.content, [{ type: 'text', text: '[{"uri":"file:///work","name":"work"}]' }]);
    } finally {
      await c.close();
    }
  });

  test('server-to-client requests need the client capability', async () => {
    const c = await connected();
    try {
      const result = await c.client.callTool({ name: 'ask_user', arguments: {} }).catch((err: { code?: number; message: string }) => err);
      assert.equal((result as { code?: number }).code, -32600);
      assert.match((result as { message: string }).message, /elicitation capability/);
    } finally {
      await c.close();
    }
  });

  test('resources: list, read text and blob, templates, not found', async () => {
    const c = await connected();
    try {
      const listed = await c.client.listResources();
      assert.deepEqual(listed.resources.map((r) => r.uri), ['test://doc', 'test://logo']);
      const text = await c.client.readResource({ uri: 'test://doc' });
      assert.deepEqual(text.contents, [{ uri: 'test://doc', mimeType: 'text/plain', text: 'the document' }]);
      const blob = await c.client.readResource({ uri: 'test://logo' });
      assert.equal((blob.contents[0] as { blob: string }).blob, PNG_1PX);
      const templates = await c.client.listResourceTemplates();
      assert.deepEqual(templates.resourceTemplates.map((t) => t.uriTemplate), ['test://users/{id}/profile']);
      const profile = await c.client.readResource({ uri: 'test://users/ada%20l/profile' });
      assert.equal((profile.contents[0] as { text: string }).text, 'profile of ada l');
      await assert.rejects(c.client.readResource({ uri: 'test://missing' }), (err: { code?: number }) => err.code === -32002);
    } finally {
      await c.close();
    }
  });

  test('resources/subscribe delivers notifications/resources/updated on the GET stream until unsubscribed', async () => {
    const c = await connected();
    try {
      const updates: string[] = [];
      c.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
        updates.push(n.params.uri);
      });
      await c.client.subscribeResource({ uri: 'test://doc' });
      await eventually(() => ts.server.broker.hasSubscriber(c.sessionId), 5_000, 'GET stream');
      assert.equal(await ts.server.resourceUpdated('test://doc'), 1);
      await eventually(() => updates.length === 1, 5_000, 'resource update');
      assert.deepEqual(updates, ['test://doc']);
      await c.client.unsubscribeResource({ uri: 'test://doc' });
      assert.equal(await ts.server.resourceUpdated('test://doc'), 0);
      await assert.rejects(c.client.subscribeResource({ uri: 'test://missing' }), (err: { code?: number }) => err.code === -32002);
    } finally {
      await c.close();
    }
  });

  test('prompts: list with arguments, get, invalid arguments', async () => {
    const c = await connected();
    try {
      const { prompts } = await c.client.listPrompts();
      assert.deepEqual(prompts, [
        {
          name: 'greet',
          description: 'greeting',
          arguments: [
            { name: 'name', description: 'who', required: true },
            { name: 'tone', required: false },
          ],
        },
      ]);
      const got = await c.client.getPrompt({ name: 'greet', arguments: { name: 'Ada', tone: 'formal' } });
      assert.deepEqual(got.messages, [{ role: 'user', content: { type: 'text', text: 'formal hello Ada' } }]);
      await assert.rejects(c.client.getPrompt({ name: 'greet', arguments: {} }), (err: { code?: number }) => err.code === -32602);
      await assert.rejects(c.client.getPrompt({ name: 'nope' }), (err: { code?: number }) => err.code === -32602);
    } finally {
      await c.close();
    }
  });

  test('completion/complete for prompt arguments and template variables', async () => {
    const c = await connected();
    try {
      const tone = await c.client.complete({ ref: { type: 'ref/prompt', name: 'greet' }, argument: { name: 'tone', value: 'f' } });
      assert.deepEqual(tone.completion.values, ['formal', 'friendly']);
      const id = await c.client.complete({
        ref: { type: 'ref/resource', uri: 'test://users/{id}/profile' },
        argument: { name: 'id', value: 'al' },
      });
      assert.deepEqual(id.completion, { values: ['alice', 'albert'], total: 2, hasMore: false });
    } finally {
      await c.close();
    }
  });

  test('notify reaches the GET stream of another session and reports whether anyone got it', async () => {
    const a = await connected();
    const b = await connected();
    try {
      const received: unknown[] = [];
      b.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        received.push(n.params.data);
      });
      await eventually(() => ts.server.broker.hasSubscriber(b.sessionId), 5_000, 'GET stream');
      assert.equal(await ts.server.notify(b.sessionId, { method: 'notifications/message', params: { level: 'info', data: 'hello b' } }), true);
      await eventually(() => received.length === 1, 5_000, 'notification');
      assert.deepEqual(received, ['hello b']);
      assert.equal(await ts.server.notify('no-such-session', { method: 'notifications/message', params: { level: 'info', data: 'x' } }), false);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
