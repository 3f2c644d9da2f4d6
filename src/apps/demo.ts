// The demo app the CLI serves by default: small tools that show every moving part, including a
// `notify` tool that reaches another session's stream wherever it is held.

import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { McpServer } from '../mcp/server.ts';

export interface DemoAppOptions {
  /** Reported by `whoami`, so a person (or a test) can see which worker answered. */
  workerId: string;
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
