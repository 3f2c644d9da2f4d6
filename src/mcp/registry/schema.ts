// zod schemas in the API, JSON Schema 2020-12 on the wire, converted once at registration.

import { z } from 'zod';

export type ObjectSchema = z.ZodObject<z.ZodRawShape>;

/** JSON Schema for an object schema, as tools/list sends it (draft 2020-12, `$schema` kept). */
export function toWireSchema(schema: ObjectSchema | undefined): Record<string, unknown> {
  if (!schema) return { type: 'object', properties: {} };
  return z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
}

/** A readable one-line summary of a zod failure, for isError results and -32602 messages. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
