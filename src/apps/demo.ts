// The demo app the CLI serves by default: small tools that show every moving part, including a
// `notify` tool that reaches another session's stream wherever it is held.

import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { McpServer } from '../mcp/server.ts';
import type { ToolPool } from '../pool/pool.ts';
import type { PrimeCount } from '../pool/tasks/primes.ts';
import { poolTool } from '../pool/tool.ts';

const PRIMES_TASK = new URL('../pool/tasks/primes.ts', import.meta.url);

export interface DemoAppOptions {
  /** Reported by `whoami`, so a person (or a test) can see which worker answered. */
  workerId: string;
  /** Worker threads for CPU-heavy tools; `count_primes` is registered only when given. */
  pool?: ToolPool;
}

export function registerDemoApp(server: McpServer, options: DemoAppOptions): void {
  server.tool(
    'echo',
    { description: 'Returns the text it was given', inputSchema: z.object({ text: z.string().describe('Text to echo') }) },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );

  server.tool(
    'add',
    {
      description: 'Adds two numbers',
      inputSchema: z.object({ a: z.number(), b: z.number() }),
      outputSchema: z.object({ sum: z.number() }),
      annotations: { readOnlyHint: true, idempotentHint: true },
    },
    ({ a, b }) => ({ content: [{ type: 'text', text: String(a + b) }], structuredContent: { sum: a + b } }),
  );

  server.tool(
    'notify',
    {
      description: "Sends a notifications/message to a session's stream; reports whether a stream received it",
      inputSchema: z.object({
        sessionId: z.string().min(1).describe('The session to notify'),
        text: z.string().describe('The message'),
      }),
      outputSchema: z.object({ delivered: z.boolean(), worker: z.string() }),
    },
    async ({ sessionId, text }) => {
      const delivered = await server.notify(sessionId, {
        method: 'notifications/message',
        params: { level: 'info', logger: 'notify', data: { text, from: options.workerId } },
      });
      return {
        content: [{ type: 'text', text: delivered ? `delivered to ${sessionId}` : `no stream attached for ${sessionId}` }],
        structuredContent: { delivered, worker: options.workerId },
      };
    },
  );

  server.tool(
    'countdown',
    {
      description: 'Counts down, sending a progress notification each step; cancellable',
      inputSchema: z.object({
        steps: z.number().int().min(1).max(1000).default(5),
        intervalMs: z.number().int().min(0).max(10_000).default(100),
      }),
    },
    async ({ steps, intervalMs }, ctx) => {
      for (let done = 1; done <= steps; done++) {
        await delay(intervalMs, undefined, { signal: ctx.signal });
        await ctx.progress(done, steps, `step ${done} of ${steps}`);
      }
      return { content: [{ type: 'text', text: `counted ${steps} steps` }] };
    },
  );

  server.tool(
    'whoami',
    { description: 'Reports the worker and session that handled the call', annotations: { readOnlyHint: true } },
    (_args, ctx) => ({
      content: [{ type: 'text', text: `worker ${options.workerId}, session ${ctx.sessionId ?? '(none)'}` }],
      structuredContent: { worker: options.workerId, sessionId: ctx.sessionId ?? null },
    }),
  );

  if (options.pool) {
    server.tool(
      'count_primes',
      {
        description: 'Counts the primes below `limit` on a worker thread (CPU-bound: the limit sets the work); cancellable',
        inputSchema: z.object({ limit: z.number().int().min(0).max(20_000_000).describe('Count primes below this number') }),
        outputSchema: z.object({ limit: z.number(), count: z.number() }),
        annotations: { readOnlyHint: true, idempotentHint: true },
      },
      poolTool(options.pool, PRIMES_TASK, 'countPrimes', {
        toResult: ({ limit, count }: PrimeCount) => ({
          content: [{ type: 'text', text: `${count} primes below ${limit}` }],
          structuredContent: { limit, count },
        }),
      }),
    );
  }

  server.tool(
    'ticker',
    {
      description: "Streams numbered notifications/message events (tick 1..count) to a session's stream at a steady rate",
      inputSchema: z.object({
        sessionId: z.string().min(1).describe('The session whose stream receives the ticks'),
        count: z.number().int().min(1).max(1_000_000),
        perSecond: z.number().int().min(1).max(50_000).default(1000),
      }),
      outputSchema: z.object({ sent: z.number(), delivered: z.number() }),
    },
    async ({ sessionId, count, perSecond }, ctx) => {
      // Ticks go out in small bursts every 10 ms; each burst is issued in order, so the broker
      // (and the replay buffer) see them in order.
      const perBurst = Math.max(1, Math.round(perSecond / 100));
      const started = Date.now();
      let sent = 0;
      let delivered = 0;
      while (sent < count) {
        const burst: Array<Promise<boolean>> = [];
        for (let i = 0; i < perBurst && sent < count; i++) {
          sent++;
          burst.push(server.notify(sessionId, { method: 'notifications/message', params: { level: 'info', logger: 'ticker', data: { tick: sent, of: count } } }));
        }
        delivered += (await Promise.all(burst)).filter(Boolean).length;
        const due = started + (sent / perSecond) * 1000;
        if (due > Date.now()) await delay(due - Date.now(), undefined, { signal: ctx.signal });
      }
      return { content: [{ type: 'text', text: `sent ${sent} ticks, ${delivered} delivered live` }], structuredContent: { sent, delivered } };
    },
  );

  server.tool(
    'ask_name',
    {
      description: "Asks the user for their name (elicitation) and greets them; the reply may reach any worker",
      inputSchema: z.object({ timeoutMs: z.number().int().min(1).max(600_000).optional() }),
    },
    async ({ timeoutMs }, ctx) => {
      const answer = await ctx.elicit(
        {
          message: 'What is your name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string', title: 'Name' } }, required: ['name'] },
        },
        timeoutMs === undefined ? {} : { timeoutMs },
      );
      const name = (answer.content as { name?: unknown } | undefined)?.name;
      const text = answer.action === 'accept' && typeof name === 'string' ? `Hello, ${name}!` : `No name given (${String(answer.action)})`;
      return { content: [{ type: 'text', text }] };
    },
  );

  server.tool(
    'log_levels',
    { description: 'Sends one notifications/message at each level; logging/setLevel decides which reach the client' },
    async (_args, ctx) => {
      for (const level of ['debug', 'info', 'notice', 'warning', 'error', 'critical'] as const) {
        await ctx.log(level, { level, worker: options.workerId }, 'log_levels');
      }
      return { content: [{ type: 'text', text: 'logged at every level' }] };
    },
  );

  server.tool(
    'touch_resource',
    {
      description: 'Announces that a resource changed: every session subscribed to it gets notifications/resources/updated',
      inputSchema: z.object({ uri: z.string().default('demo://readme') }),
      outputSchema: z.object({ delivered: z.number() }),
    },
    async ({ uri }) => {
      const delivered = await server.resourceUpdated(uri);
      return { content: [{ type: 'text', text: `${delivered} subscribed session(s) notified` }], structuredContent: { delivered } };
    },
  );

  server.tool(
    'broadcast',
    {
      description: 'Sends a notification to every live session of the cluster: a message, or a list_changed',
      inputSchema: z.object({
        kind: z.enum(['message', 'tools', 'resources', 'prompts']).default('message'),
        text: z.string().default('hello, everyone'),
      }),
    },
    async ({ kind, text }) => {
      if (kind === 'tools') await server.toolListChanged();
      else if (kind === 'resources') await server.resourceListChanged();
      else if (kind === 'prompts') await server.promptListChanged();
      else await server.broadcast({ method: 'notifications/message', params: { level: 'info', logger: 'broadcast', data: { text, from: options.workerId } } });
      return { content: [{ type: 'text', text: `broadcast ${kind}` }] };
    },
  );

  server.resource(
    'demo://readme',
    { name: 'readme', title: 'About this server', mimeType: 'text/markdown' },
    (uri) => ({ contents: [{ uri, mimeType: 'text/markdown', text: '# mcp-cluster demo\nTools: echo, add, notify, countdown, whoami.' }] }),
  );

  server.prompt(
    'greet',
    {
      description: 'A greeting for someone',
      argsSchema: z.object({ name: z.string().describe('Who to greet'), style: z.string().optional().describe('formal or casual') }),
      complete: { style: (value) => ['formal', 'casual'].filter((style) => style.startsWith(value)) },
    },
    ({ name, style }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: style === 'formal' ? `Good day, ${name}.` : `Hi ${name}!` } }],
    }),
  );
}
