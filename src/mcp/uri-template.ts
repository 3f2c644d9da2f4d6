// RFC 6570 URI templates for resource templates: expansion is not needed server-side, matching
// is. Supports levels 1-3 operators: {var} {+var} {#var} {.var} {/var} {;var} {?var} {&var}.

interface Expression {
  operator: string;
  names: string[];
}

type Part = string | Expression;

const OPERATORS = new Set(['+', '#', '.', '/', ';', '?', '&']);

function parse(template: string): Part[] {
  const parts: Part[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    if (open === -1) {
      parts.push(rest);
      break;
    }
    if (open > 0) parts.push(rest.slice(0, open));
    const close = rest.indexOf('}', open);
    if (close === -1) throw new Error(`Unclosed expression in URI template: ${template}`);
    let body = rest.slice(open + 1, close);
    let operator = '';
    if (body.length > 0 && OPERATORS.has(body[0]!)) {
      operator = body[0]!;
      body = body.slice(1);
    }
    const names = body.split(',').map((name) => name.replace(/\*$|:\d+$/, ''));
    if (names.some((name) => !/^[A-Za-z0-9_.%]+$/.test(name))) {
      throw new Error(`Invalid variable name in URI template: ${template}`);
    }
    parts.push({ operator, names });
    rest = rest.slice(close + 1);
  }
  return parts;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A compiled template: `match(uri)` returns its variables, or undefined when it does not fit. */
export class UriTemplate {
  readonly template: string;
  readonly variableNames: string[];
  readonly #regexp: RegExp;
  readonly #groups: Array<{ name: string; query: boolean }>;

  constructor(template: string) {
    this.template = template;
    const parts = parse(template);
    this.#groups = [];
    let source = '^';
    for (const part of parts) {
      if (typeof part === 'string') {
        source += escapeRegExp(part);
        continue;
      }
      const { operator, names } = part;
      if (operator === '?' || operator === '&') {
        // Query parameters: each optional, in order.
        names.forEach((name, index) => {
          const lead = index === 0 && operator === '?' ? '\\?' : '&';
          source += `(?:${lead}${escapeRegExp(name)}=([^&#]*))?`;
          this.#groups.push({ name, query: true });
        });
        continue;
      }
      const prefix = operator === '+' || operator === '' ? '' : escapeRegExp(operator === '#' ? '#' : operator);
      // Reserved expansion ({+var}, {#var}) may contain '/', the others stop at a separator.
      const valuePattern = operator === '+' || operator === '#' ? '(.+?)' : '([^/?#&,]+)';
      names.forEach((name, index) => {
        const separator = index === 0 ? prefix : operator === '' || operator === '+' || operator === '#' ? ',' : prefix;
        const namePart = operator === ';' ? `${escapeRegExp(name)}=` : '';
        source += `${separator}${namePart}${valuePattern}`;
        this.#groups.push({ name, query: false });
      });
    }
    this.#regexp = new RegExp(`${source}$`);
    this.variableNames = this.#groups.map((group) => group.name);
  }

  match(uri: string): Record<string, string> | undefined {
    const found = this.#regexp.exec(uri);
    if (!found) return undefined;
    const variables: Record<string, string> = {};
    this.#groups.forEach((group, index) => {
      const raw = found[index + 1];
      if (raw === undefined) return;
      try {
        variables[group.name] = decodeURIComponent(raw);
      } catch {
        variables[group.name] = raw;
      }
    });
    return variables;
  }
}
