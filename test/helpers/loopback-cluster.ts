// An in-process stand-in for node:cluster, for contract tests of the cluster IPC backends.

import type { Cluster, Worker } from 'node:cluster';
import { EventEmitter } from 'node:events';
import type { IpcPort } from '../../src/cluster/ipc.ts';

/** A worker's end of the loopback, which the test can cut. */
export type LoopbackPort = IpcPort & { workerId: number; disconnect(): void };

/**
 * An in-process stand-in for node:cluster: a hub on an EventEmitter "cluster" and worker ports
 * whose messages are JSON-copied and delivered asynchronously, in order, like IPC.
 */
export function loopbackCluster() {
  const cluster = new EventEmitter();
  let nextId = 0;
  return {
    cluster: cluster as unknown as Cluster,
    /** With `onDeliver`, deliveries to this worker go there instead of to its broker: it never acknowledges. */
    port(options: { onDeliver?: () => void } = {}): LoopbackPort {
      const id = ++nextId;
      const inbox = new EventEmitter();
      let connected = true;
      const worker = {
        id,
        isConnected: () => connected,
        send(message: { kind?: unknown }, callback?: (error: Error | null) => void) {
          if (!connected) {
            callback?.(new Error('channel closed'));
            return false;
          }
          const copy = JSON.parse(JSON.stringify(message)) as unknown;
          if (options.onDeliver && message.kind === 'deliver') setImmediate(options.onDeliver);
          else setImmediate(() => inbox.emit('message', copy));
          callback?.(null);
          return true;
        },
      } as unknown as Worker;
      return {
        workerId: id,
        get connected() {
          return connected;
        },
        send(message, callback) {
          const copy = JSON.parse(JSON.stringify(message)) as unknown;
          setImmediate(() => cluster.emit('message', worker, copy));
          callback(null);
        },
        onMessage(listener) {
          inbox.on('message', listener);
          return () => inbox.off('message', listener);
        },
        onDisconnect(listener) {
          inbox.on('disconnect', listener);
          return () => inbox.off('disconnect', listener);
        },
        disconnect() {
          connected = false;
          inbox.emit('disconnect');
          cluster.emit('disconnect', worker);
        },
      };
    },
  };
}

