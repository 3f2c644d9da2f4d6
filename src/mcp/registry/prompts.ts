// Prompts: arguments declared with a zod object of strings, listed with their descriptions.

import type { z } from 'zod';
import type { RequestContext } from '../context.ts';
import { invalidParams } from '../errors.ts';
import type { Completer, GetPromptResult, Icon } from '../types.ts';
import { describeIssues, type ObjectSchema } from './schema.ts';

export interface PromptDefinition<A extends ObjectSchema | undefined> {
  title?: string;
  description?: string;
  /** Prompt arguments are strings on the wire (spec); optional fields are optional arguments. */
  argsSchema?: A;
  complete?: Record<string, Completer>;
  icons?: Icon[];
  _meta?: Record<string, unknown>;
}

export type PromptHandler<A extends ObjectSchema | undefined> = (
  args: A extends ObjectSchema ? z.output<A> : Record<string, never>,
  ctx: RequestContext,
) => GetPromptResult | Promise<GetPromptResult>;

interface RegisteredPrompt {
  wire: Record<string, unknown>;
  args: ObjectSchema | undefined;
  complete: Record<string, Completer>;
  handler: (args: unknown, ctx: RequestContext) => GetPromptResult | Promise<GetPromptResult>;
}

export class PromptRegistry {
  readonly #prompts = new Map<string, RegisteredPrompt>();

  add<A extends ObjectSchema | undefined>(name: string, definition: PromptDefinition<A>, handler: PromptHandler<A>): void {
    if (this.#prompts.has(name)) throw new TypeError(`Prompt "${name}" is already registered`);
    const wire: Record<string, unknown> = { name };
    if (definition.title !== undefined) wire.title = definition.title;
    if (definition.description !== undefined) wire.description = definition.description;
    if (definition.argsSchema) wire.arguments = describeArguments(definition.argsSchema);
    if (definition.icons) wire.icons = definition.icons;
    if (definition._meta) wire._meta = definition._meta;
    this.#prompts.set(name, {
      wire,
      args: definition.argsSchema,
      complete: definition.complete ?? {},
      handler: handler as RegisteredPrompt['handler'],
    });
  }

  remove(name: string): boolean {
    return this.#prompts.delete(name);
  }

  list(): Record<string, unknown>[] {
    return [...this.#prompts.values()].map((prompt) => prompt.wire);
  }

  async get(params: Record<string, unknown> | undefined, ctx: RequestContext): Promise<GetPromptResult> {
    const name = params?.name;
    if (typeof name !== 'string') throw invalidParams('prompts/get needs a prompt name');
    const prompt = this.#prompts.get(name);
    if (!prompt) throw invalidParams(`Unknown prompt: ${name}`);
    let args: unknown = params?.arguments ?? {};
    if (prompt.args) {
      const parsed = prompt.args.safeParse(args);
      if (!parsed.success) throw invalidParams(`Invalid arguments for prompt ${name}: ${describeIssues(parsed.error)}`);
      args = parsed.data;
    }
    return prompt.handler(args, ctx);
  }

  completer(name: string, argument: string): Completer | undefined {
    return this.#prompts.get(name)?.complete[argument];
  }

  has(name: string): boolean {
    return this.#prompts.has(name);
  }
}

function describeArguments(schema: ObjectSchema): Array<Record<string, unknown>> {
  return Object.entries(schema.shape).map(([name, field]) => {
    const argument: Record<string, unknown> = { name };
    const description = (field as z.ZodType).description;
    if (description !== undefined) argument.description = description;
    argument.required = !(field as z.ZodType).safeParse(undefined).success;
    return argument;
  });
}
