// A fixed-size pool of worker threads for CPU-bound tool handlers, so one heavy call never holds
// the event loop that serves thousands of SSE streams. A thin layer over piscina that adds what
// a server needs from it: a queue bound that holds for cancellable tasks, a pool that stays
// closed once closed, and threads that can load .ts task modules.

import { Piscina } from 'piscina';
import { PoolClosedError, PoolQueueFullError } from './errors.ts';

export interface ToolPoolOptions {
  /** Worker threads, all started on first use and kept (a terminated one is replaced). */
  threads: number;
  /** Tasks that may wait for a free thread; beyond it `run()` rejects at once. Default 64. */
  maxQueue?: number;
  /**
   * A thread failed outside any task (an error thrown after its task returned, a crash while
   * idle). Tasks that were running on it reject on their own. Default: `process.emitWarning`.
   */
  onError?: (err: unknown) => void;
}

export interface RunOptions {
  /** Aborting removes a queued task, or terminates the thread running it (a new one replaces it). */
  signal?: AbortSignal;
}

export interface PoolStats {
  /** Live threads. */
  threads: number;
  /** Admitted and not settled: running on a thread (or about to) or queued. */
  pending: number;
  /** Waiting for a thread. */
  queued: number;
  /** Tasks settled so far: resolved, rejected or aborted. */
  completed: number;
}

const DEFAULT_MAX_QUEUE = 64;
const TSX_PRELOAD = new URL('./register-tsx.mjs', import.meta.url).href;

export class ToolPool {
  readonly threads: number;
  readonly maxQueue: number;
  readonly #onError: (err: unknown) => void;
  #piscina: Piscina | undefined;
  #pending = 0;
  #closed = false;

  constructor(options: ToolPoolOptions) {
    if (!Number.isInteger(options.threads) || options.threads < 1) throw new RangeError('threads must be an integer >= 1');
    const maxQueue = options.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError('maxQueue must be an integer >= 0');
    this.threads = options.threads;
    this.maxQueue = maxQueue;
    this.#onError = options.onError ?? ((err) => process.emitWarning(err instanceof Error ? err : String(err)));
  }

  /**
   * Runs `exportName` of the module at `moduleUrl` (a file: URL; .ts is fine) on a thread with
   * `args` (structured-cloned), and resolves with what it returns.
   * Rejects with PoolQueueFullError when every thread is busy and `maxQueue` tasks already wait,
   * PoolClosedError after `close()`, and piscina's AbortError (cause: the signal's reason) when
   * `signal` aborts.
   */
  run<R = unknown>(moduleUrl: string | URL, exportName: string, args: unknown, options: RunOptions = {}): Promise<R> {
    if (this.#closed) return Promise.reject(new PoolClosedError());
    // Our own bound, not piscina's `maxQueue`: piscina keeps tasks that carry an AbortSignal in a
    // separate queue its limit does not count, and every tool call carries one.
    const limit = this.threads + this.maxQueue;
    if (this.#pending >= limit) return Promise.reject(new PoolQueueFullError(limit));
    const piscina = this.#pool();
    this.#pending++;
    const task = piscina.run(args, {
      filename: typeof moduleUrl === 'string' ? moduleUrl : moduleUrl.href,
      name: exportName,
      signal: options.signal ?? null,
    }) as Promise<R>;
    return task.finally(() => this.#pending--);
  }

  stats(): PoolStats {
    const piscina = this.#piscina;
    return {
      threads: piscina?.threads.length ?? 0,
      pending: this.#pending,
      queued: piscina?.queueSize ?? 0,
      completed: piscina?.completed ?? 0,
    };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Terminates every thread: running and queued tasks reject, later `run()` calls too. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // piscina's destroy() leaves the pool usable (the next run() starts threads again): the
    // #closed flag is what keeps it shut.
    await this.#piscina?.destroy();
  }

  // Threads start on first use: a worker whose app never runs a pool task pays nothing.
  #pool(): Piscina {
    if (this.#piscina) return this.#piscina;
    this.#piscina = new Piscina({
      // minThreads = maxThreads: piscina replaces a thread terminated by an abort only up to
      // minThreads; below it, tasks already queued would wait for the next run() to spawn one.
      minThreads: this.threads,
      maxThreads: this.threads,
      // Tasks beyond the threads wait in piscina's queues; the bound is enforced in run().
      maxQueue: Number.POSITIVE_INFINITY,
      execArgv: ['--import', TSX_PRELOAD],
      // Queued tasks start in submission order.
      stricterFIFO: true,
    });
    // Without a listener, piscina's 'error' event would throw and take the HTTP worker down.
    this.#piscina.on('error', this.#onError);
    return this.#piscina;
  }
}
