// Tools: registration (zod schemas turned into wire JSON Schema once), listing and calling.

import type { z } from 'zod';
import type { RequestContext } from '../context.ts';
import { McpError, ErrorCode, invalidParams } from '../errors.ts';
import type { CallToolResult, Icon, ToolAnnotations } from '../types.ts';
import { describeIssues, toWireSchema, type ObjectSchema } from './schema.ts';
import { headerParamsOf, type HeaderParam } from './header-params.ts';
import type { TaskSupport } from '../tasks.ts';

export interface ToolDefinition<I extends ObjectSchema | undefined, O extends ObjectSchema | undefined> {
  title?: string;
  description?: string;
  inputSchema?: I;
  /** When set, every successful result must carry `structuredContent` matching it. */
  outputSchema?: O;
  annotations?: ToolAnnotations;
  icons?: Icon[];
  _meta?: Record<string, unknown>;
  /**
   * Tasks extension (2026-07-28): the handler may turn the call into a task with
   * `ctx.startTask()` (`optional`), or the tool is only for clients that declare the extension
   * (`required`: others get -32021). Default: never a task.
   */
  taskSupport?: TaskSupport;
}

export type ToolArgs<I> = I extends ObjectSchema ? z.output<I> : Record<string, never>;

export type ToolHandler<I extends ObjectSchema | undefined> = (
  args: ToolArgs<I>,
  ctx: RequestContext,
) => CallToolResult | Promise<CallToolResult>;

interface RegisteredTool {
  name: string;
  wire: Record<string, unknown>;
  headerParams: HeaderParam[];
  input: ObjectSchema | undefined;
  output: ObjectSchema | undefined;
  taskSupport: TaskSupport | undefined;
  handler: (args: unknown, ctx: RequestContext) => CallToolResult | Promise<CallToolResult>;
}

const TOOL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

export class ToolRegistry {
  readonly #tools = new Map<string, RegisteredTool>();
  #wireList: Record<string, unknown>[] | undefined;

  add<I extends ObjectSchema | undefined, O extends ObjectSchema | undefined>(
    name: string,
    definition: ToolDefinition<I, O>,
    handler: ToolHandler<I>,
  ): void {
    // spec 2025-11-25: tool names are 1-128 chars of A-Z a-z 0-9 _ - .
    if (!TOOL_NAME.test(name)) throw new TypeError(`Invalid tool name "${name}"`);
    if (this.#tools.has(name)) throw new TypeError(`Tool "${name}" is already registered`);
    const wire: Record<string, unknown> = { name, inputSchema: toWireSchema(definition.inputSchema) };
    if (definition.title !== undefined) wire.title = definition.title;
    if (definition.description !== undefined) wire.description = definition.description;
    if (definition.outputSchema) wire.outputSchema = toWireSchema(definition.outputSchema);
    if (definition.annotations) wire.annotations = definition.annotations;
    if (definition.icons) wire.icons = definition.icons;
    if (definition._meta) wire._meta = definition._meta;
    this.#tools.set(name, {
      name,
      wire,
      headerParams: headerParamsOf(wire.inputSchema as Record<string, unknown>, name),
      input: definition.inputSchema,
      output: definition.outputSchema,
      taskSupport: definition.taskSupport,
      handler: handler as RegisteredTool['handler'],
    });
    this.#wireList = undefined;
  }

  remove(name: string): boolean {
    this.#wireList = undefined;
    return this.#tools.delete(name);
  }

  /** The `x-mcp-header` properties of a tool (empty for an unknown tool). */
  headerParams(name: string): HeaderParam[] {
    return this.#tools.get(name)?.headerParams ?? [];
  }

  /** The tool's task support (undefined: never a task, or no such tool). */
  taskSupport(name: unknown): TaskSupport | undefined {
    return typeof name === 'string' ? this.#tools.get(name)?.taskSupport : undefined;
  }

  list(): Record<string, unknown>[] {
    this.#wireList ??= [...this.#tools.values()].map((tool) => tool.wire);
    return this.#wireList;
  }

  async call(params: Record<string, unknown> | undefined, ctx: RequestContext): Promise<CallToolResult> {
    const name = params?.name;
    if (typeof name !== 'string') throw invalidParams('tools/call needs a tool name');
    const tool = this.#tools.get(name);
    if (!tool) throw invalidParams(`Unknown tool: ${name}`);
    const rawArgs = params?.arguments ?? {};
    let args: unknown = rawArgs;
    if (tool.input) {
      const parsed = tool.input.safeParse(rawArgs);
      // spec 2025-11-25: input validation failures are tool execution errors, so a model can
      // read them and correct its call.
      if (!parsed.success) return errorResult(`Invalid arguments for tool ${name}: ${describeIssues(parsed.error)}`);
      args = parsed.data;
    }
    let result: CallToolResult;
    try {
      result = await tool.handler(args, ctx);
    } catch (err) {
      if (err instanceof McpError) throw err;
      if (ctx.signal.aborted) throw err;
      return errorResult(err instanceof Error ? err.message : String(err));
    }
    if (tool.output && !result.isError) {
      const checked = tool.output.safeParse(result.structuredContent);
      if (!checked.success) {
        throw new McpError(
          ErrorCode.InternalError,
          `Tool ${name} returned structuredContent that does not match its outputSchema: ${describeIssues(checked.error)}`,
        );
      }
    }
    return result;
  }
}

function errorResult(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}
