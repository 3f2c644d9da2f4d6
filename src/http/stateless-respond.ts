// The error answer of the 2026-07-28 revision: its pinned HTTP status, the request id echoed
// (never null in this revision), Retry-After when the refusal is temporary.

import type { ServerResponse } from 'node:http';
import { ErrorCode, McpError } from '../mcp/errors.ts';
import type { JsonRpcId, JsonRpcResponse } from '../mcp/jsonrpc.ts';
import { UnavailableError } from './limits.ts';
import { mergeHeaders, sendJson } from './respond.ts';
import type { Transport } from './transport.ts';

/** An error answer of this revision: its pinned status, the request id echoed (never null). */
export function sendStatelessError(t: Transport, res: ServerResponse, id: JsonRpcId | undefined, err: unknown): void {
  const error = err instanceof McpError ? err : new McpError(ErrorCode.InternalError, 'Internal error', { httpStatus: 500 });
  const body: Partial<JsonRpcResponse> & { jsonrpc: '2.0' } = { jsonrpc: '2.0' };
  if (id !== undefined) (body as { id: JsonRpcId }).id = id;
  (body as { error: unknown }).error = error.toJsonRpc();
  const headers = err instanceof UnavailableError ? mergeHeaders(t.baseHeaders, { 'retry-after': String(err.retryAfterSeconds) }) : t.baseHeaders;
  sendJson(res, error.httpStatus, body, headers);
}

