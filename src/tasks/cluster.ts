// Tasks for several node:cluster workers without Redis: the primary's hub holds the one store,
// every call goes there (cluster/hub.ts), so a task created on one worker is there for all.

import { IpcClient, type IpcPort } from '../cluster/ipc.ts';
import type { TaskRecord, TaskStore } from './store.ts';

export class ClusterTaskStore implements TaskStore {
  readonly #client: IpcClient;

  constructor(options: { port?: IpcPort; timeoutMs?: number } = {}) {
    this.#client = new IpcClient({ port: options.port, timeoutMs: options.timeoutMs });
  }

  create(record: TaskRecord): Promise<void> {
    return this.#client.request('tasks.create', { record });
  }

  get(taskId: string): Promise<TaskRecord | undefined> {
    return this.#client.request('tasks.get', { taskId });
  }

  compareAndSet(taskId: string, expectedVersion: number, record: TaskRecord): Promise<boolean> {
    return this.#client.request('tasks.compareAndSet', { taskId, expectedVersion, record });
  }

  /** Stops listening to the primary; the tasks live on there. */
  async close(): Promise<void> {
    this.#client.close();
  }
}
