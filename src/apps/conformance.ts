// The fixture app the official MCP conformance suite (@modelcontextprotocol/conformance) tests
// against: every tool, resource and prompt its server scenarios call, with the names, inputs
// and outputs they check. test/conformance/REQUIREMENTS.md is the checklist this implements
// (REQUIREMENTS-2026.md for the stateless-era fixtures of ./conformance-2026.ts, registered
// last); `npm run conformance` runs the suite against `mcp-cluster --app conformance`.

import { setTimeout as delay } from 'node:timers/promises';
import { z } from 'zod';
import type { McpServer } from '../mcp/server.ts';
import type { ContentBlock } from '../mcp/types.ts';
import { registerConformance2026Fixtures } from './conformance-2026.ts';

/** A 2×2 RGB PNG (blue/orange checkerboard), base64. */
export const TEST_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAF0lEQVR4nGOQm/D//1IGhv9LGeQm/AcALrgGo6Fa53gAAAAASUVORK5CYII=';

/** A valid mono 16-bit PCM WAV of 8 samples at 8 kHz (a short ramp), base64. */
export const TEST_WAV_BASE64 = makeWav();

function makeWav(): string {
  const samples = [0, 4096, 8192, 4096, 0, -4096, -8192, -4096];
  const sampleRate = 8000;
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((sample, i) => data.writeInt16LE(sample, i * 2));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]).toString('base64');
}

const sleep = (ms: number, signal?: AbortSignal) => delay(ms, undefined, signal ? { signal } : {});

const text = (value: string): ContentBlock => ({ type: 'text', text: value });

/** The text of a sampling result's content (a block or, since 2025-11-25, an array of blocks). */
function samplingText(result: Record<string, unknown>): string {
  const content = result.content;
  const blocks = Array.isArray(content) ? content : [content];
  const texts = blocks
    .filter((b): b is { type: string; text: string } => typeof b === 'object' && b !== null && (b as { type?: unknown }).type === 'text')
    .map((b) => b.text);
  return texts.length > 0 ? texts.join('\n') : JSON.stringify(content ?? null);
}

function elicitationSummary(result: Record<string, unknown>): string {
  return `action=${String(result.action)}, content=${JSON.stringify(result.content ?? {})}`;
}

// json-schema-2020-12 (pending scenario): an input schema that keeps the 2020-12 vocabulary on
// the wire — $schema, $defs with an $anchor, $ref, allOf/anyOf, if/then/else and
// additionalProperties: false. zod carries the keywords it cannot express through .meta().
const addressSchema = z
  .object({ street: z.string().optional(), city: z.string().optional() })
  .meta({ id: 'address', $anchor: 'addressDef' });
const jsonSchema2020Input = z
  .strictObject({
    name: z.string().optional(),
    address: addressSchema.optional(),
    contactMethod: z.enum(['phone', 'email']).optional(),
    phone: z.string().optional(),
    email: z.string().optional(),
  })
  .meta({
    allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
    if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
    then: { required: ['phone'] },
    else: { required: ['email'] },
  });

const COMPLETION_CANDIDATES = ['test', 'test-value-1', 'test-value-2', 'paris', 'park', 'party'];

/** Registers the conformance fixtures on `server`. */
export function registerConformanceApp(server: McpServer): McpServer {
  // ── tools ────────────────────────────────────────────────────────────────────────────────

  // First in tools/list: the 2026 http-header-validation probes call tools[0] with `{}`.
  server.tool('test_simple_text', { description: 'Returns one text content block' }, () => ({
    content: [text('This is a simple text response for testing.')],
  }));

  // server-sse-polling: the stream ends mid-call (SSE polling); the result reaches the client
  // when it resumes with GET + Last-Event-ID. Needs --replay; without it the call just finishes.
  server.tool('test_reconnection', { description: 'Closes its SSE stream mid-call, then finishes' }, async (_args, ctx) => {
    ctx.closeSseStream();
    await sleep(100, ctx.signal);
    return { content: [{ type: 'text', text: 'Reconnection test completed successfully' }] };
  });

  server.tool('test_image_content', { description: 'Returns one PNG image content block' }, () => ({
    content: [{ type: 'image', data: TEST_PNG_BASE64, mimeType: 'image/png' }],
  }));

  server.tool('test_audio_content', { description: 'Returns one WAV audio content block' }, () => ({
    content: [{ type: 'audio', data: TEST_WAV_BASE64, mimeType: 'audio/wav' }],
  }));

  server.tool('test_embedded_resource', { description: 'Returns an embedded text resource' }, () => ({
    content: [
      {
        type: 'resource',
        resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
      },
    ],
  }));

  server.tool(
    'test_multiple_content_types',
    { description: 'Returns text, image and embedded resource content in one result' },
    () => ({
      content: [
        text('Multiple content types test:'),
        { type: 'image', data: TEST_PNG_BASE64, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );

  server.tool(
    'test_tool_with_logging',
    { description: 'Sends three info log notifications while it runs' },
    async (_args, ctx) => {
      await ctx.log('info', 'Tool execution started', 'conformance');
      await sleep(50, ctx.signal);
      await ctx.log('info', 'Tool processing data', 'conformance');
      await sleep(50, ctx.signal);
      await ctx.log('info', 'Tool execution completed', 'conformance');
      return { content: [text('Tool with logging executed successfully')] };
    },
  );

  server.tool('test_error_handling', { description: 'Always fails: the result has isError: true' }, () => {
    throw new Error('This tool intentionally returns an error for testing');
  });

  server.tool(
    'test_tool_with_progress',
    { description: 'Reports progress 0/100, 50/100 and 100/100 when the call has a progressToken' },
    async (_args, ctx) => {
      await ctx.progress(0, 100, 'Completed step 0 of 100');
      await sleep(50, ctx.signal);
      await ctx.progress(50, 100, 'Completed step 50 of 100');
      await sleep(50, ctx.signal);
      await ctx.progress(100, 100, 'Completed step 100 of 100');
      const token = ctx.meta?.progressToken;
      return { content: [text(`Progress reported${token === undefined ? ' (no progressToken given)' : ` for token ${String(token)}`}`)] };
    },
  );

  server.tool(
    'test_sampling',
    {
      description: 'Asks the client to sample an LLM completion for the prompt',
      inputSchema: z.object({ prompt: z.string().describe('The prompt to send to the LLM') }),
    },
    async ({ prompt }, ctx) => {
      const result = await ctx.sample({
        messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
        maxTokens: 100,
      });
      return { content: [text(`LLM response: ${samplingText(result)}`)] };
    },
  );

  server.tool(
    'test_elicitation',
    {
      description: 'Asks the user (through the client) for a username and an email address',
      inputSchema: z.object({ message: z.string().describe('The message to show the user') }),
    },
    async ({ message }, ctx) => {
      const result = await ctx.elicit({
        message,
        requestedSchema: {
          type: 'object',
          properties: {
            username: { type: 'string', description: "User's response" },
            email: { type: 'string', description: "User's email address" },
          },
          required: ['username', 'email'],
        },
      });
      return { content: [text(`User response: ${elicitationSummary(result)}`)] };
    },
  );

  server.tool(
    'test_elicitation_sep1034_defaults',
    { description: 'Elicits a form whose fields carry default values of every primitive type (SEP-1034)' },
    async (_args, ctx) => {
      const result = await ctx.elicit({
        message: 'Please review and update the form fields with defaults',
        requestedSchema: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'User name', default: 'John Doe' },
            age: { type: 'integer', description: 'User age', default: 30 },
            score: { type: 'number', description: 'User score', default: 95.5 },
            status: {
              type: 'string',
              description: 'User status',
              enum: ['active', 'inactive', 'pending'],
              default: 'active',
            },
            verified: { type: 'boolean', description: 'Verification status', default: true },
          },
          required: [],
        },
      });
      return { content: [text(`Elicitation completed: ${elicitationSummary(result)}`)] };
    },
  );

  server.tool(
    'test_elicitation_sep1330_enums',
    { description: 'Elicits a form with the five enum schema variants (SEP-1330)' },
    async (_args, ctx) => {
      const result = await ctx.elicit({
        message: 'Please pick from each of these enum fields',
        requestedSchema: {
          type: 'object',
          properties: {
            untitledSingle: {
              type: 'string',
              description: 'Untitled single-select',
              enum: ['option1', 'option2', 'option3'],
            },
            titledSingle: {
              type: 'string',
              description: 'Titled single-select',
              oneOf: [
                { const: 'value1', title: 'First Option' },
                { const: 'value2', title: 'Second Option' },
                { const: 'value3', title: 'Third Option' },
              ],
            },
            legacyEnum: {
              type: 'string',
              description: 'Legacy titled enum (enumNames)',
              enum: ['opt1', 'opt2', 'opt3'],
              enumNames: ['Option One', 'Option Two', 'Option Three'],
            },
            untitledMulti: {
              type: 'array',
              description: 'Untitled multi-select',
              items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
            },
            titledMulti: {
              type: 'array',
              description: 'Titled multi-select',
              items: {
                anyOf: [
                  { const: 'value1', title: 'First Choice' },
                  { const: 'value2', title: 'Second Choice' },
                  { const: 'value3', title: 'Third Choice' },
                ],
              },
            },
          },
          required: [],
        },
      });
      return { content: [text(`Elicitation completed: ${elicitationSummary(result)}`)] };
    },
  );

  server.tool(
    'json_schema_2020_12_tool',
    { description: 'Tool with JSON Schema 2020-12 features', inputSchema: jsonSchema2020Input },
    (args) => ({ content: [text(`Received: ${JSON.stringify(args)}`)] }),
  );

  // ── resources ────────────────────────────────────────────────────────────────────────────

  server.resource(
    'test://static-text',
    { name: 'static-text', title: 'Static text', description: 'A fixed plain-text resource', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }),
  );

  server.resource(
    'test://static-binary',
    { name: 'static-binary', title: 'Static binary', description: 'A fixed PNG image, read as a blob', mimeType: 'image/png' },
    (uri) => ({ contents: [{ uri, mimeType: 'image/png', blob: TEST_PNG_BASE64 }] }),
  );

  server.resource(
    'test://watched-resource',
    { name: 'watched-resource', title: 'Watched resource', description: 'A resource clients can subscribe to', mimeType: 'text/plain' },
    (uri) => ({ contents: [{ uri, mimeType: 'text/plain', text: 'Watched resource content' }] }),
  );

  server.resourceTemplate(
    'test://template/{id}/data',
    {
      name: 'template-data',
      title: 'Data by id',
      description: 'JSON data for the id in the URI',
      mimeType: 'application/json',
      complete: { id: (value) => ['1', '2', '3', '123'].filter((id) => id.startsWith(value)) },
    },
    (uri, { id }) => ({
      contents: [
        {
          uri,
          mimeType: 'application/json',
          text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
        },
      ],
    }),
  );

  // ── prompts ──────────────────────────────────────────────────────────────────────────────

  server.prompt('test_simple_prompt', { description: 'A prompt without arguments' }, () => ({
    messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }],
  }));

  server.prompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with two required arguments',
      argsSchema: z.object({
        arg1: z.string().describe('First test argument'),
        arg2: z.string().describe('Second test argument'),
      }),
      complete: {
        arg1: (value) => COMPLETION_CANDIDATES.filter((candidate) => candidate.startsWith(value)),
        arg2: (value) => COMPLETION_CANDIDATES.filter((candidate) => candidate.startsWith(value)),
      },
    },
    ({ arg1, arg2 }) => ({
      messages: [{ role: 'user', content: text(`Prompt with arguments: arg1='${arg1}', arg2='${arg2}'`) }],
    }),
  );

  server.prompt(
    'test_prompt_with_embedded_resource',
    {
      description: 'A prompt that embeds the resource named by its argument',
      argsSchema: z.object({ resourceUri: z.string().describe('URI of the resource to embed') }),
    },
    ({ resourceUri }) => ({
      messages: [
        {
          role: 'user',
          content: {
            type: 'resource',
            resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' },
          },
        },
        { role: 'user', content: text('Please process the embedded resource above.') },
      ],
    }),
  );

  server.prompt('test_prompt_with_image', { description: 'A prompt that carries an image' }, () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: TEST_PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: text('Please analyze the image above.') },
    ],
  }));

  // ── 2026-07-28 fixtures (test/conformance/REQUIREMENTS-2026.md §g), listed in both eras ──
  registerConformance2026Fixtures(server);

  return server;
}
