// Resources and resource templates: listing, reading, and completing template variables.

import type { RequestContext } from '../context.ts';
import { ErrorCode, McpError } from '../errors.ts';
import type { Annotations, Completer, Icon, ReadResourceResult } from '../types.ts';
import { UriTemplate } from '../uri-template.ts';

export interface ResourceDefinition {
  name: string;
  title?: string;
  description?: string;
  mimeType?: string;
  size?: number;
  annotations?: Annotations;
  icons?: Icon[];
  _meta?: Record<string, unknown>;
}

export type ResourceReader = (uri: string, ctx: RequestContext) => ReadResourceResult | Promise<ReadResourceResult>;

export interface ResourceTemplateDefinition extends Omit<ResourceDefinition, 'size'> {
  /** Completers for template variables (`completion/complete` with `ref/resource`). */
  complete?: Record<string, Completer>;
}

export type TemplateReader = (
  uri: string,
  variables: Record<string, string>,
  ctx: RequestContext,
) => ReadResourceResult | Promise<ReadResourceResult>;

interface RegisteredTemplate {
  template: UriTemplate;
  wire: Record<string, unknown>;
  complete: Record<string, Completer>;
  read: TemplateReader;
}

export class ResourceRegistry {
  readonly #resources = new Map<string, { wire: Record<string, unknown>; read: ResourceReader }>();
  readonly #templates = new Map<string, RegisteredTemplate>();

  add(uri: string, definition: ResourceDefinition, read: ResourceReader): void {
    if (this.#resources.has(uri)) throw new TypeError(`Resource "${uri}" is already registered`);
    this.#resources.set(uri, { wire: { uri, ...definition }, read });
  }

  addTemplate(uriTemplate: string, definition: ResourceTemplateDefinition, read: TemplateReader): void {
    if (this.#templates.has(uriTemplate)) throw new TypeError(`Resource template "${uriTemplate}" is already registered`);
    const { complete, ...rest } = definition;
    this.#templates.set(uriTemplate, {
      template: new UriTemplate(uriTemplate),
      wire: { uriTemplate, ...rest },
      complete: complete ?? {},
      read,
    });
  }

  remove(uri: string): boolean {
    return this.#resources.delete(uri) || this.#templates.delete(uri);
  }

  list(): Record<string, unknown>[] {
    return [...this.#resources.values()].map((resource) => resource.wire);
  }

  listTemplates(): Record<string, unknown>[] {
    return [...this.#templates.values()].map((template) => template.wire);
  }

  async read(uri: string, ctx: RequestContext): Promise<ReadResourceResult> {
    const resource = this.#resources.get(uri);
    if (resource) return resource.read(uri, ctx);
    for (const template of this.#templates.values()) {
      const variables = template.template.match(uri);
      if (variables) return template.read(uri, variables, ctx);
    }
    throw new McpError(ErrorCode.ResourceNotFound, 'Resource not found', { data: { uri } });
  }

  /** Whether `uri` names a resource this server can read (for resources/subscribe). */
  has(uri: string): boolean {
    if (this.#resources.has(uri)) return true;
    for (const template of this.#templates.values()) if (template.template.match(uri)) return true;
    return false;
  }

  completer(uriTemplate: string, argument: string): Completer | undefined {
    return this.#templates.get(uriTemplate)?.complete[argument];
  }

  hasTemplate(uriTemplate: string): boolean {
    return this.#templates.has(uriTemplate);
  }
}
