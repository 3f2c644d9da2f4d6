// The one place where failures become HTTP responses.

import type { ServerResponse } from 'node:http';
import { McpError, toErrorObject } from '../mcp/errors.ts';
import { failure, type JsonRpcId } from '../mcp/jsonrpc.ts';

export type Headers = Readonly<Record<string, string>>;

/**
 * Response headers merged into one object by property stores, later parts winning. Not object
 * spread: Node enumerates the headers given to writeHead, and V8 (Node 20) enumerates an object
 * made by `{ ...a, ...b }` many times slower than one built by stores, which showed as several
 * microseconds per response.
 */
export function mergeHeaders(first: Headers | undefined, second?: Headers, third?: Headers): Record<string, string> {
  const merged: Record<string, string> = {};
  if (first) for (const name in first) merged[name] = first[name]!;
  if (second) for (const name in second) merged[name] = second[name]!;
  if (third) for (const name in third) merged[name] = third[name]!;
  return merged;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Headers): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, mergeHeaders(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }));
  res.end(payload);
}

/** Answers with the error's HTTP status and a JSON-RPC error body. */
export function sendError(res: ServerResponse, err: unknown, id: JsonRpcId | null = null, headers?: Headers): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof McpError ? err.httpStatus : 500;
  sendJson(res, status, failure(id, toErrorObject(err)), headers);
}

export function sendEmpty(res: ServerResponse, status: number, headers?: Headers): void {
  res.writeHead(status, mergeHeaders(headers));
  res.end();
}
