// JSON-RPC 2.0 wire types and the envelope checks that every transport shares.

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: Record<string, unknown>;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** What a valid incoming message turned out to be, or why it is not valid. */
export type Classified =
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse }
  | { kind: 'invalid'; id: JsonRpcId | null; reason: string };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
}

/** Classifies one decoded JSON value as a JSON-RPC 2.0 message (spec: jsonrpc.org/specification). */
export function classify(value: unknown): Classified {
  if (!isPlainObject(value)) return { kind: 'invalid', id: null, reason: 'A JSON-RPC message must be an object' };
  const id = isId(value.id) ? value.id : null;
  if (value.jsonrpc !== '2.0') return { kind: 'invalid', id, reason: 'jsonrpc must be "2.0"' };
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method.length === 0) {
      return { kind: 'invalid', id, reason: 'method must be a non-empty string' };
    }
    // MCP: params, when present, is an object (no positional params in MCP).
    if ('params' in value && value.params !== undefined && !isPlainObject(value.params)) {
      return { kind: 'invalid', id, reason: 'params must be an object' };
    }
    if (!('id' in value)) return { kind: 'notification', message: value as unknown as JsonRpcNotification };
    // MCP forbids null request ids.
    if (!isId(value.id)) return { kind: 'invalid', id: null, reason: 'id must be a string or a number' };
    return { kind: 'request', message: value as unknown as JsonRpcRequest };
  }
  if ('result' in value || 'error' in value) {
    if ('result' in value && 'error' in value) return { kind: 'invalid', id, reason: 'result and error are exclusive' };
    if (!isId(value.id) && !(value.id === null && 'error' in value)) {
      return { kind: 'invalid', id: null, reason: 'a response needs an id' };
    }
    if ('error' in value) {
      const err = value.error;
      if (!isPlainObject(err) || typeof err.code !== 'number' || typeof err.message !== 'string') {
        return { kind: 'invalid', id, reason: 'error must have a numeric code and a message' };
      }
    } else if (!isPlainObject(value.result)) {
      return { kind: 'invalid', id, reason: 'result must be an object' };
    }
    return { kind: 'response', message: value as unknown as JsonRpcResponse };
  }
  return { kind: 'invalid', id, reason: 'not a request, notification or response' };
}

export function isRequest(message: JsonRpcMessage): message is JsonRpcRequest {
  return 'method' in message && 'id' in message;
}

export function isNotification(message: JsonRpcMessage): message is JsonRpcNotification {
  return 'method' in message && !('id' in message);
}

export function isResponse(message: JsonRpcMessage): message is JsonRpcResponse {
  return !('method' in message);
}

export function success(id: JsonRpcId, result: Record<string, unknown>): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result };
}

export function failure(id: JsonRpcId | null, error: JsonRpcErrorObject): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error };
}
