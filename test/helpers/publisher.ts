// A notifier in the test process built exactly like a worker's server (createBackends: the same
// Redis clients, broker and replay buffer), so fault tests know every notification's outcome.

import { createBackends } from '../../src/cluster/backends.ts';
import { Lifespan } from '../../src/cluster/lifespan.ts';
import { loadConfig } from '../../src/config/config.ts';
import { McpServer } from '../../src/mcp/server.ts';

export interface TestPublisher {
  server: McpServer;
  /** notifications/message with `logger` and `data: { seq, ...extra }`. */
  notify(sessionId: string, logger: string, seq: number, extra?: Record<string, unknown>): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * `extraArgs` are CLI flags for the publisher's own config. The replay buffer's bound is applied
 * by whoever appends (XADD MAXLEN), so a test that raises `--replay-max-length` on its workers
 * must raise it here too, or the publisher trims what the workers were meant to retain.
 */
export async function startPublisher(redisUrl: string, channelPrefix: string, extraArgs: string[] = []): Promise<TestPublisher> {
  const lifespan = new Lifespan();
  const config = loadConfig(['--redis-url', redisUrl, '--replay', '--channel-prefix', channelPrefix, '--log-level', 'silent', ...extraArgs], {});
  const backends = await createBackends(config, 'test-publisher', lifespan);
  const server = new McpServer({ name: 'test-publisher', version: '1', broker: backends.broker, sessions: backends.sessions, replay: backends.replay });
  return {
    server,
    notify: (sessionId, logger, seq, extra = {}) =>
      server.notify(sessionId, { method: 'notifications/message', params: { level: 'info', logger, data: { seq, ...extra } } }),
    async close() {
      await server.close();
      await lifespan.close();
    },
  };
}

/** The `seq` of the notifications/message events with `logger`, in arrival order. */
export function seqsOf(messages: Array<Record<string, unknown>>, logger: string): number[] {
  return messages
    .filter((m) => m.method === 'notifications/message' && (m.params as { logger?: string } | undefined)?.logger === logger)
    .map((m) => (m.params as { data: { seq: number } }).data.seq);
}
