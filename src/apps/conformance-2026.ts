// Conformance fixtures the 2026-07-28 (stateless) scenarios call, registered by
// registerConformanceApp after the 2025 ones (so `test_simple_text` stays first in tools/list).
// test/conformance/REQUIREMENTS-2026.md §g.2–§g.4 is the checklist this implements.
//
// Input is asked through ctx.elicit / ctx.sample / ctx.listRoots with explicit keys. In the
// stateless era those become an InputRequiredResult (the server signs the answers so far into
// `requestState`, and re-runs the handler from the start on each retry); in a 2025 session
// they are ordinary server-to-client requests, so every fixture works in both eras. Handlers
// ask in a fixed order and use Promise.all to ask several questions in one round.

import { z } from 'zod';
import type { RequestContext } from '../mcp/context.ts';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, McpError, invalidParams } from '../mcp/errors.ts';
import type { McpServer } from '../mcp/server.ts';
import type { ContentBlock } from '../mcp/types.ts';

const text = (value: string): ContentBlock => ({ type: 'text', text: value });

/** An elicitation form with one field. */
function form(message: string, field: string, type: 'string' | 'boolean'): Record<string, unknown> {
  return {
    mode: 'form',
    message,
    requestedSchema: { type: 'object', properties: { [field]: { type } }, required: [field] },
  };
}

function samplingRequest(prompt: string, maxTokens: number): Record<string, unknown> {
  return { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens };
}

/**
 * The value of `field` in an accepted elicitation (`undefined` when the user declined or
 * cancelled). An accepted answer without a usable value is invalid input: -32602, never a result.
 */
function accepted<T extends 'string' | 'boolean'>(
  key: string,
  answer: Record<string, unknown>,
  field: string,
  type: T,
): (T extends 'string' ? string : boolean) | undefined {
  if (answer.action !== 'accept') return undefined;
  const content = answer.content;
  const value = typeof content === 'object' && content !== null ? (content as Record<string, unknown>)[field] : undefined;
  if (typeof value !== type) throw invalidParams(`Invalid inputResponses["${key}"]: content.${field} must be a ${type}`);
  return value as T extends 'string' ? string : boolean;
}

/** The text of a sampling result (content is one block or, since 2025-11-25, an array). */
function sampledText(key: string, result: Record<string, unknown>): string {
  const blocks = Array.isArray(result.content) ? result.content : [result.content];
  const texts = blocks
    .filter((b): b is { type: 'text'; text: string } => typeof b === 'object' && b !== null && b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text);
  if (texts.length === 0) throw invalidParams(`Invalid inputResponses["${key}"]: expected a text sampling result`);
  return texts.join('\n');
}

function rootUris(key: string, result: Record<string, unknown>): string[] {
  const roots = result.roots;
  if (!Array.isArray(roots)) throw invalidParams(`Invalid inputResponses["${key}"]: roots must be an array`);
  return roots.map((root) => {
    const uri = typeof root === 'object' && root !== null ? (root as { uri?: unknown }).uri : undefined;
    if (typeof uri !== 'string') throw invalidParams(`Invalid inputResponses["${key}"]: every root needs a uri`);
    return uri;
  });
}

/** `ok` of the "Please confirm" form, as a short summary. */
async function confirm(ctx: RequestContext): Promise<string> {
  const answer = await ctx.elicit(form('Please confirm', 'ok', 'boolean'), { key: 'confirm' });
  const ok = accepted('confirm', answer, 'ok', 'boolean');
  return `action=${String(answer.action)}${ok === undefined ? '' : `, ok=${ok}`}`;
}

/** Registers the 2026-07-28 fixtures on `server`. */
export function registerConformance2026Fixtures(server: McpServer): McpServer {
  // ── server-stateless diagnostics (§g.2) ──────────────────────────────────────────────────

  server.tool(
    'test_missing_capability',
    { description: 'Needs the client sampling capability; without it the call fails with -32021 (SEP-2575)' },
    async (_args, ctx) => {
      const result = await ctx.sample(samplingRequest('Reply with any text to confirm sampling works', 20), { key: 'sampling_check' });
      return { content: [text(`Sampling capability is declared; sampled: ${sampledText('sampling_check', result)}`)] };
    },
  );

  server.tool(
    'test_streaming_elicitation',
    { description: 'Asks the user to confirm; the question travels as an input request, never as a request on the response stream' },
    async (_args, ctx) => {
      await ctx.progress(0, 1, 'Waiting for confirmation');
      const summary = await confirm(ctx);
      return { content: [text(`Streaming elicitation complete: ${summary}`)] };
    },
  );

  server.tool(
    'test_logging_tool',
    { description: 'Logs one info message; it is sent only when the request sets a log level that allows it' },
    async (_args, ctx) => {
      await ctx.log('info', 'test_logging_tool executed', 'conformance');
      return { content: [text('Logged.')] };
    },
  );

  server.tool(
    'test_trigger_tool_change',
    { description: 'Publishes notifications/tools/list_changed to every listener (the tool list itself does not change)' },
    async () => {
      await server.toolListChanged();
      return { content: [text('tools/list_changed published')] };
    },
  );

  server.tool(
    'test_trigger_prompt_change',
    { description: 'Publishes notifications/prompts/list_changed to every listener (the prompt list itself does not change)' },
    async () => {
      await server.promptListChanged();
      return { content: [text('prompts/list_changed published')] };
    },
  );

  // ── input round trips: InputRequiredResult / MRTR (§g.3) ─────────────────────────────────

  server.tool(
    'test_input_required_result_elicitation',
    { description: 'Asks for the user name (elicitation) and greets them' },
    async (_args, ctx) => {
      const answer = await ctx.elicit(form('What is your name?', 'name', 'string'), { key: 'user_name' });
      const name = accepted('user_name', answer, 'name', 'string');
      return { content: [text(name === undefined ? `No name given (action=${String(answer.action)})` : `Hello, ${name}!`)] };
    },
  );

  server.tool(
    'test_input_required_result_sampling',
    { description: 'Asks the client to sample an answer to a question and returns it' },
    async (_args, ctx) => {
      const result = await ctx.sample(samplingRequest('What is the capital of France?', 100), { key: 'capital_question' });
      return { content: [text(`Sampling result: ${sampledText('capital_question', result)}`)] };
    },
  );

  server.tool(
    'test_input_required_result_list_roots',
    { description: "Asks for the client's roots and lists them" },
    async (_args, ctx) => {
      const uris = rootUris('client_roots', await ctx.listRoots({ key: 'client_roots' }));
      return { content: [text(`Found ${uris.length} root(s): ${uris.join(', ')}`)] };
    },
  );

  server.tool(
    'test_input_required_result_request_state',
    { description: 'Asks for a confirmation and completes only with the signed requestState it issued' },
    async (_args, ctx) => {
      const summary = await confirm(ctx);
      return { content: [text(`state-ok: requestState validated (${summary})`)] };
    },
  );

  server.tool(
    'test_input_required_result_multiple_inputs',
    { description: 'Asks for a name (elicitation), a greeting (sampling) and the roots in one round' },
    async (_args, ctx) => {
      const [nameAnswer, greeting, roots] = await Promise.all([
        ctx.elicit(form('What is your name?', 'name', 'string'), { key: 'user_name' }),
        ctx.sample(samplingRequest('Generate a greeting', 50), { key: 'greeting' }),
        ctx.listRoots({ key: 'client_roots' }),
      ]);
      const name = accepted('user_name', nameAnswer, 'name', 'string') ?? `(${String(nameAnswer.action)})`;
      return {
        content: [text(`Name: ${name}; Greeting: ${sampledText('greeting', greeting)}; Roots: ${rootUris('client_roots', roots).length}`)],
      };
    },
  );

  server.tool(
    'test_input_required_result_multi_round',
    { description: 'Asks for a name, then (in a second round) for a favourite colour' },
    async (_args, ctx) => {
      const first = await ctx.elicit(form('Step 1: What is your name?', 'name', 'string'), { key: 'step1' });
      const name = accepted('step1', first, 'name', 'string') ?? `(${String(first.action)})`;
      const second = await ctx.elicit(form('Step 2: What is your favorite color?', 'color', 'string'), { key: 'step2' });
      const color = accepted('step2', second, 'color', 'string') ?? `(${String(second.action)})`;
      return { content: [text(`Multi-round complete for ${name} who likes ${color}`)] };
    },
  );

  server.tool(
    'test_input_required_result_tampered_state',
    { description: 'Asks for a confirmation; a requestState that fails its integrity check is rejected' },
    async (_args, ctx) => {
      const summary = await confirm(ctx);
      return { content: [text(`integrity-ok: state verified (${summary})`)] };
    },
  );

  server.tool(
    'test_input_required_result_capabilities',
    { description: 'Asks one question per input capability the request declares, and only those' },
    async (_args, ctx) => {
      const declared = ctx.clientCapabilities;
      const asks: Promise<Record<string, unknown>>[] = [];
      const keys: string[] = [];
      if (declared.elicitation !== undefined) {
        keys.push('elicit_input');
        asks.push(ctx.elicit(form('Please provide a value', 'value', 'string'), { key: 'elicit_input' }));
      }
      if (declared.sampling !== undefined) {
        keys.push('sample_input');
        asks.push(ctx.sample(samplingRequest('Sample request', 50), { key: 'sample_input' }));
      }
      if (declared.roots !== undefined) {
        keys.push('client_roots');
        asks.push(ctx.listRoots({ key: 'client_roots' }));
      }
      if (keys.length === 0) return { content: [text('No supported capabilities declared')] };
      await Promise.all(asks);
      return { content: [text(`capabilities-ok: received ${keys.join(', ')}`)] };
    },
  );

  server.prompt(
    'test_input_required_result_prompt',
    { description: 'Prompt that gathers context through an InputRequiredResult (MRTR)' },
    async (_args, ctx) => {
      const answer = await ctx.elicit(form('What context should the prompt use?', 'context', 'string'), { key: 'user_context' });
      const context = accepted('user_context', answer, 'context', 'string') ?? `(none: ${String(answer.action)})`;
      return { messages: [{ role: 'user', content: text(`Prompt with context: ${context}`) }] };
    },
  );

  // ── unscored scenarios (§g.4) ────────────────────────────────────────────────────────────

  // http-custom-header-server-validation: a tool whose `region` argument is mirrored into the
  // Mcp-Param-Region header (SEP-2243). Accepts any string.
  server.tool(
    'test_x_mcp_header',
    {
      description: 'Echoes a value mirrored into the Mcp-Param-Region header (SEP-2243)',
      inputSchema: z.object({
        region: z.string().meta({ description: 'Region, mirrored into Mcp-Param-Region', 'x-mcp-header': 'Region' }),
        query: z.string().optional().meta({ description: 'Free text, not mirrored' }),
      }),
    },
    ({ region }) => ({ content: [text(`region=${region}`)] }),
  );

  // ── tasks extension (§h.4, unscored): io.modelcontextprotocol/tasks ────────────────────────

  server.tool(
    'greet',
    { description: 'Greets someone; never a task', inputSchema: z.object({ name: z.string() }) },
    ({ name }) => ({ content: [text(`Hello, ${name}!`)] }),
  );

  server.tool(
    'slow_compute',
    {
      description: 'Sleeps for `seconds`, as a task when the client declares the tasks extension (0 s answers at once); cancellable',
      inputSchema: z.object({ seconds: z.number().min(0).max(600), label: z.string().optional() }),
      taskSupport: 'optional',
    },
    async ({ seconds, label }, ctx) => {
      if (seconds > 0) await ctx.startTask({ statusMessage: `computing for ${seconds} s` });
      await delay(seconds * 1000, undefined, { signal: ctx.signal });
      return { content: [text(`${label ?? 'slow_compute'}: done after ${seconds} s`)] };
    },
  );

  server.tool(
    'failing_job',
    { description: 'A task-only job that ends after about a second with a tool error (status completed, isError)', taskSupport: 'required' },
    async (_args, ctx) => {
      await ctx.startTask();
      await delay(1000, undefined, { signal: ctx.signal });
      return { content: [text('failing_job: the job failed')], isError: true };
    },
  );

  server.tool(
    'protocol_error_job',
    { description: 'A task that ends with a protocol error (status failed, error -32603)', taskSupport: 'optional' },
    async (_args, ctx) => {
      await ctx.startTask();
      await delay(300, undefined, { signal: ctx.signal });
      throw new McpError(ErrorCode.InternalError, 'protocol_error_job: failed on purpose');
    },
  );

  server.tool(
    'confirm_delete',
    {
      description: 'A task that asks the user to confirm a deletion (input_required until tasks/update answers)',
      inputSchema: z.object({ filename: z.string() }),
      taskSupport: 'optional',
    },
    async ({ filename }, ctx) => {
      await ctx.startTask();
      const answer = await ctx.elicit(form(`Delete ${filename}?`, 'confirm', 'boolean'));
      const confirmed = answer.action === 'accept';
      return { content: [text(confirmed ? `Deleted ${filename}` : `Kept ${filename} (${String(answer.action)})`)] };
    },
  );

  server.tool(
    'multi_input',
    { description: 'A task that asks two questions at once and completes when both are answered', taskSupport: 'optional' },
    async (_args, ctx) => {
      await ctx.startTask();
      const answers = await Promise.all([ctx.elicit(form('First name?', 'name', 'string')), ctx.elicit(form('Second name?', 'name', 'string'))]);
      const names = answers.map((answer) => String((answer.content as Record<string, unknown> | undefined)?.name ?? answer.action));
      return { content: [text(`multi_input: ${names.join(', ')}`)] };
    },
  );

  server.tool(
    'test_tool_with_task',
    { description: 'Asks for the user name in an input round trip, then continues as a task that greets them', taskSupport: 'required' },
    async (_args, ctx) => {
      const answer = await ctx.elicit(form('What is your name?', 'name', 'string'), { key: 'user_name' });
      const name = accepted('user_name', answer, 'name', 'string') ?? `(no name: ${String(answer.action)})`;
      await ctx.startTask();
      await delay(100, undefined, { signal: ctx.signal });
      return { content: [text(`Hello, ${name}! (from a task)`)] };
    },
  );

  return server;
}
