// Tool handlers that run on the pool: `server.tool(name, definition, poolTool(...))` keeps the
// registration API, input validation and output checks of any tool; only the work moves to a
// thread. The request's AbortSignal (notifications/cancelled, shutdown) cancels the task.

import type { RequestContext } from '../mcp/context.ts';
import type { CallToolResult } from '../mcp/types.ts';
import { PoolQueueFullError } from './errors.ts';
import type { ToolPool } from './pool.ts';

export interface PoolToolOptions<Args, Value> {
  /**
   * Turns what the task returned into the tool result, on the calling thread. Default: the task
   * already returns a CallToolResult (plain data, so it survives the structured clone).
   */
  toResult?: (value: Value, args: Args) => CallToolResult;
}

/**
 * A tool handler that runs `exportName` of the task module at `moduleUrl` on `pool` with the
 * validated arguments. The task receives only the arguments (data cloned to the thread), not the
 * request context: progress, logs and server-to-client requests stay on the calling thread.
 * A full queue becomes an `isError` result the model can read and retry on.
 */
export function poolTool<Args = unknown, Value = CallToolResult>(
  pool: ToolPool,
  moduleUrl: string | URL,
  exportName: string,
  options: PoolToolOptions<Args, Value> = {},
): (args: Args, ctx: RequestContext) => Promise<CallToolResult> {
  const toResult = options.toResult ?? ((value: Value) => value as CallToolResult);
  return async (args, ctx) => {
    let value: Value;
    try {
      value = await pool.run<Value>(moduleUrl, exportName, args, { signal: ctx.signal });
    } catch (err) {
      // Cancelled: answer like any cancelled handler, with the reason the server aborted with
      // (not piscina's AbortError wrapping it).
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (err instanceof PoolQueueFullError) {
        return { isError: true, content: [{ type: 'text', text: `${err.message}.` }] };
      }
      throw err;
    }
    return toResult(value, args);
  };
}
