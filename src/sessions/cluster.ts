// Session store for several node:cluster workers without Redis: every call goes to the primary's
// hub (cluster/hub.ts), which holds the one store, so a session created on one worker is there
// for all of them.

import { IpcClient, type IpcPort } from '../cluster/ipc.ts';
import type { SessionPatch, SessionRecord, SessionStore } from './store.ts';

export interface ClusterSessionStoreOptions {
  /** The channel to the primary. Default: this process's (a node:cluster worker's). */
  port?: IpcPort;
  /** How long a call waits for the primary before rejecting. Default 5 s. */
  timeoutMs?: number;
}

export class ClusterSessionStore implements SessionStore {
  readonly #client: IpcClient;

  constructor(options: ClusterSessionStoreOptions = {}) {
    this.#client = new IpcClient({ port: options.port, timeoutMs: options.timeoutMs });
  }

  create(record: SessionRecord): Promise<void> {
    return this.#client.request('sessions.create', { record });
  }

  get(id: string): Promise<SessionRecord | undefined> {
    return this.#client.request('sessions.get', { id });
  }

  update(id: string, patch: SessionPatch): Promise<void> {
    return this.#client.request('sessions.update', { id, patch });
  }

  touch(id: string): Promise<void> {
    return this.#client.request('sessions.touch', { id });
  }

  delete(id: string): Promise<boolean> {
    return this.#client.request('sessions.delete', { id });
  }

  subscribeResource(id: string, uri: string): Promise<void> {
    return this.#client.request('sessions.subscribeResource', { id, uri });
  }

  unsubscribeResource(id: string, uri: string): Promise<void> {
    return this.#client.request('sessions.unsubscribeResource', { id, uri });
  }

  subscribersOf(uri: string): Promise<string[]> {
    return this.#client.request('sessions.subscribersOf', { uri });
  }

  /** Stops listening to the primary; the sessions themselves live on there. */
  async close(): Promise<void> {
    this.#client.close();
  }
}
