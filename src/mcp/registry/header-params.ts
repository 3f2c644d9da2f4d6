// `x-mcp-header` (2026-07-28): a tool input property annotated with a header name is mirrored by
// clients into `Mcp-Param-<Name>`, so intermediaries can route on it without parsing the body.
// The annotations are read once, at registration, from the tool's wire schema.

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MIRRORABLE = new Set(['string', 'integer', 'boolean']);

export interface HeaderParam {
  /** Header name as annotated (compared case-insensitively). */
  header: string;
  /** Property path from the arguments root. */
  path: string[];
}

/** The annotated properties of a schema; throws at registration for an annotation clients would reject. */
export function headerParamsOf(schema: Record<string, unknown>, tool: string): HeaderParam[] {
  const found: HeaderParam[] = [];
  const walk = (node: Record<string, unknown>, path: string[]) => {
    const properties = node.properties;
    if (typeof properties !== 'object' || properties === null) return;
    for (const [name, child] of Object.entries(properties as Record<string, Record<string, unknown>>)) {
      if (typeof child !== 'object' || child === null) continue;
      const header = child['x-mcp-header'];
      if (header !== undefined) {
        if (typeof header !== 'string' || !TOKEN.test(header)) throw new TypeError(`Tool ${tool}: x-mcp-header of ${[...path, name].join('.')} must be an HTTP token`);
        if (!MIRRORABLE.has(child.type as string)) throw new TypeError(`Tool ${tool}: x-mcp-header only fits string, integer or boolean properties`);
        if (found.some((param) => param.header.toLowerCase() === header.toLowerCase())) {
          throw new TypeError(`Tool ${tool}: x-mcp-header "${header}" is used twice`);
        }
        found.push({ header, path: [...path, name] });
      }
      // Only chains of `properties` are statically reachable (not items, combinators, $ref...).
      walk(child, [...path, name]);
    }
  };
  walk(schema, []);
  return found;
}

/** The body value a header must mirror, as text; undefined when the argument is absent or null. */
export function mirroredValue(args: unknown, path: string[]): string | undefined {
  let value: unknown = args;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}
