// Server-to-client requests awaiting the client's reply. Ids carry the owner's instance id so a
// reply that lands on another worker can be routed back to the one holding the waiting handler.

import { ErrorCode, McpError } from './errors.ts';
import type { JsonRpcRequest, JsonRpcResponse } from './jsonrpc.ts';

interface Pending {
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
}

const ID_PREFIX = 'srv:';

export class OutboundRequests {
  readonly #instanceId: string;
  readonly #pending = new Map<string, Pending>();
  #counter = 0;

  constructor(instanceId: string) {
    this.#instanceId = instanceId;
  }

  /** The instance that issued a server-to-client request id, or undefined if it is not one of ours. */
  static ownerOf(id: unknown): string | undefined {
    if (typeof id !== 'string' || !id.startsWith(ID_PREFIX)) return undefined;
    const end = id.lastIndexOf(':');
    return end > ID_PREFIX.length ? id.slice(ID_PREFIX.length, end) : undefined;
  }

  /** Builds the request, hands it to `send`, and settles with the client's reply. */
  async issue(
    method: string,
    params: Record<string, unknown> | undefined,
    send: (request: JsonRpcRequest) => Promise<void>,
    options: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<Record<string, unknown>> {
    const id = `${ID_PREFIX}${this.#instanceId}:${++this.#counter}`;
    const request: JsonRpcRequest = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
    options.signal?.throwIfAborted();
    const settled = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new McpError(ErrorCode.RequestTimeout, `The client did not answer ${method} within ${options.timeoutMs} ms`));
      }, options.timeoutMs);
      const onAbort = () => {
        cleanup();
        reject(options.signal?.reason instanceof Error ? options.signal.reason : new Error('Aborted'));
      };
      const cleanup = () => {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onAbort);
        this.#pending.delete(id);
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (result) => {
          cleanup();
          resolve(result);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      });
    });
    try {
      await send(request);
    } catch (err) {
      this.#pending.get(id)?.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return settled;
  }

  /** Settles the waiting request; false when no request with that id waits here. */
  settle(response: JsonRpcResponse): boolean {
    if (typeof response.id !== 'string') return false;
    const pending = this.#pending.get(response.id);
    if (!pending) return false;
    if ('error' in response) {
      pending.reject(new McpError(response.error.code, response.error.message, { data: response.error.data }));
    } else {
      pending.resolve(response.result);
    }
    return true;
  }

  /** Rejects everything still waiting (shutdown). */
  rejectAll(reason: Error): void {
    for (const pending of [...this.#pending.values()]) pending.reject(reason);
  }
}
