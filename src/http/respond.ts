// The one place where failures become HTTP responses.

import type { ServerResponse } from 'node:http';
import { McpError, toErrorObject } from '../mcp/errors.ts';
import { failure, type JsonRpcId } from '../mcp/jsonrpc.ts';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
  });
  res.end(payload);
}

/** Answers with the error's HTTP status and a JSON-RPC error body. */
export function sendError(res: ServerResponse, err: unknown, id: JsonRpcId | null = null, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = err instanceof McpError ? err.httpStatus : 500;
  sendJson(res, status, failure(id, toErrorObject(err)), headers);
}

export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, headers);
  res.end();
}
