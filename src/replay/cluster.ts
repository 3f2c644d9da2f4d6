// Replay buffer for several node:cluster workers without Redis: the primary's hub holds the one
// buffer (cluster/hub.ts), so a client may resume on any worker.

import type { SseBroker } from '../broker/broker.ts';
import { ClusterBroker } from '../broker/cluster.ts';
import { IpcClient, type IpcPort } from '../cluster/ipc.ts';
import type { JsonRpcMessage } from '../mcp/jsonrpc.ts';
import type { ReplayBuffer, ReplayEntry, ReplayOutcome } from './replay.ts';

export interface ClusterReplayBufferOptions {
  port?: IpcPort;
  timeoutMs?: number;
}

export class ClusterReplayBuffer implements ReplayBuffer {
  readonly #client: IpcClient;

  constructor(options: ClusterReplayBufferOptions = {}) {
    this.#client = new IpcClient({ port: options.port, timeoutMs: options.timeoutMs });
  }

  append(sessionId: string, streamId: string, message: JsonRpcMessage): Promise<string> {
    return this.#client.request('replay.append', { sessionId, streamId, message });
  }

  /** The hub that retains also routes to every ClusterBroker. */
  publishesTo(broker: SseBroker): boolean {
    return broker instanceof ClusterBroker;
  }

  appendAndPublish(sessionId: string, streamId: string, brokerKey: string, message: JsonRpcMessage): Promise<{ id: string; delivered: boolean }> {
    return this.#client.request('replay.appendAndPublish', { sessionId, streamId, brokerKey, message });
  }

  async replayAfter(sessionId: string, lastEventId: string, send: (entry: ReplayEntry) => void): Promise<ReplayOutcome> {
    const { entries, ...outcome } = await this.#client.request('replay.entriesAfter', { sessionId, lastEventId });
    for (const entry of entries) send(entry);
    return outcome as ReplayOutcome;
  }

  tail(sessionId: string, streamId: string): Promise<string> {
    return this.#client.request('replay.tail', { sessionId, streamId });
  }

  forget(sessionId: string): Promise<void> {
    return this.#client.request('replay.forget', { sessionId });
  }

  async close(): Promise<void> {
    this.#client.close();
  }
}
