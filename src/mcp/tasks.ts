// The tasks extension (io.modelcontextprotocol/tasks, 2026-07-28 revision). A tools/call of a tool
// registered with `taskSupport`, from a request that declares the extension, may become a task:
// when its handler calls `ctx.startTask()` the client gets a CreateTaskResult at once, the handler
// goes on, and what it returns (or throws) becomes the task's outcome. Questions the handler asks
// meanwhile (`ctx.elicit()` …) make the task `input_required` until `tasks/update` answers them.
//
// Everything about a task is in the TaskStore, so tasks/get, tasks/update and tasks/cancel work on
// any worker; only the handler runs where the task started. That worker hears of answers and of a
// cancel through the cluster bus, and a handler waiting for answers rereads the store now and then
// as well, in case a notice was lost (Redis briefly away).

import { randomUUID } from 'node:crypto';
import type { Cancellation } from './cancellation.ts';
import { ErrorCode, McpError, invalidParams } from './errors.ts';
import { invalidAnswer } from './request-state.ts';
import { TERMINAL_STATUSES, updateTask, type TaskInputRequest, type TaskRecord, type TaskStore } from '../tasks/store.ts';

export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** The methods the extension adds to the 2026-07-28 revision. */
export const TASK_METHODS: ReadonlySet<string> = new Set(['tasks/get', 'tasks/update', 'tasks/cancel']);

/** Whether a tool may run as a task (`optional`) or only as one (`required`). */
export type TaskSupport = 'optional' | 'required';

export interface TaskOptions {
  /** How long a task stays readable after it was created. Default 10 minutes. */
  ttlMs?: number;
  /** How often clients are told to poll tasks/get. Default 200 ms. */
  pollIntervalMs?: number;
  /**
   * How often a handler waiting for answers rereads its task when no change was announced (a
   * notice lost while Redis was away). Default 1 s.
   */
  answerRereadMs?: number;
}

/** Whether the request's own capabilities (sessionless: per request) declare the extension. */
export function declaresTasks(capabilities: Record<string, unknown>): boolean {
  const extensions = capabilities.extensions;
  return typeof extensions === 'object' && extensions !== null && (extensions as Record<string, unknown>)[TASKS_EXTENSION] !== undefined;
}

export function missingTasksExtension(what: string): McpError {
  return new McpError(ErrorCode.MissingCapability, `${what} needs the client capability extensions["${TASKS_EXTENSION}"]`, {
    httpStatus: 400,
    data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
  });
}

/** What `#inFlight` calls a running task, so a cancel from any worker finds it. */
function taskRequestKey(taskId: string): string {
  return `task:${taskId}`;
}

export interface TaskHooks {
  /** Makes the task's cancellation reachable by taskRequestKey (and forgets it). */
  track(key: string, cancellation: Cancellation): void;
  untrack(key: string, cancellation: Cancellation): void;
  /** Aborts the task's handler wherever it runs. */
  cancelEverywhere(key: string, reason: string): Promise<void>;
  /** Tells every worker that the task changed; each calls TaskManager.taskChanged. */
  announceChange(taskId: string): Promise<void>;
}

/** One wait of a handler for its task to change: settles on a notice, a cancel or a reread. */
interface ChangeWait {
  changed: Promise<void>;
  /** Settles the wait now and forgets it. */
  stop(): void;
}

export class TaskManager {
  readonly store: TaskStore;
  readonly #ttlMs: number;
  readonly #pollIntervalMs: number;
  readonly #hooks: TaskHooks;
  readonly #answerRereadMs: number;
  /** Task id → how to wake the handlers waiting here for it to change. */
  readonly #waiting = new Map<string, Set<() => void>>();

  constructor(store: TaskStore, hooks: TaskHooks, options: TaskOptions = {}) {
    this.store = store;
    this.#hooks = hooks;
    this.#ttlMs = options.ttlMs ?? 10 * 60_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 200;
    this.#answerRereadMs = options.answerRereadMs ?? 1000;
  }

  /** A starter for one tools/call; the task exists only once its handler calls start(). */
  starter(cancellation: Cancellation): TaskStarter {
    return new TaskStarter(this, cancellation);
  }

  /** Stores a new working task: once this resolves any worker can read it. */
  async create(statusMessage: string | undefined): Promise<TaskRecord> {
    const now = new Date().toISOString();
    const record: TaskRecord = {
      taskId: randomUUID(),
      status: 'working',
      createdAt: now,
      lastUpdatedAt: now,
      ttlMs: this.#ttlMs,
      pollIntervalMs: this.#pollIntervalMs,
      version: 1,
    };
    if (statusMessage !== undefined) record.statusMessage = statusMessage;
    await this.store.create(record);
    return record;
  }

  track(taskId: string, cancellation: Cancellation): void {
    this.#hooks.track(taskRequestKey(taskId), cancellation);
  }

  /** Records how the handler ended; a task already terminal (cancelled) stays as it is. */
  async settle(taskId: string, cancellation: Cancellation, outcome: { result: Record<string, unknown> } | { error: unknown }, shuttingDown: boolean): Promise<void> {
    this.#hooks.untrack(taskRequestKey(taskId), cancellation);
    await updateTask(this.store, taskId, (current) => {
      if (TERMINAL_STATUSES.has(current.status)) return undefined;
      const base = { ...current, inputRequests: undefined, answers: undefined };
      if ('result' in outcome) return { ...base, status: 'completed', result: outcome.result };
      if (cancellation.aborted && !shuttingDown) return { ...base, status: 'cancelled' };
      const error = outcome.error;
      const failure =
        error instanceof McpError
          ? { code: error.code, message: error.message, ...(error.data === undefined ? {} : { data: error.data }) }
          : { code: ErrorCode.InternalError, message: shuttingDown ? 'The server shut down before the task finished' : 'Internal error' };
      return { ...base, status: 'failed', error: failure };
    });
  }

  /** Adds questions to the task (it becomes input_required); keys are unique over its lifetime. */
  async ask(taskId: string, questions: Record<string, TaskInputRequest>): Promise<void> {
    const stored = await updateTask(this.store, taskId, (current) => {
      if (TERMINAL_STATUSES.has(current.status)) return undefined;
      return { ...current, status: 'input_required', inputRequests: { ...current.inputRequests, ...questions } };
    });
    if (!stored) throw new McpError(ErrorCode.InternalError, `task ${taskId} is gone`);
  }

  /**
   * Resolves with the client's answer to `key` once tasks/update (on any worker) stored it;
   * rejects when the task ends meanwhile or its handler is cancelled.
   */
  async answerOf(taskId: string, key: string, cancellation: Cancellation): Promise<unknown> {
    for (;;) {
      cancellation.throwIfAborted();
      // Waiting starts before the read: an answer stored after it is announced to this wait.
      const wait = this.#waitForChange(taskId, cancellation);
      try {
        const current = await this.store.get(taskId);
        if (!current) throw new McpError(ErrorCode.InternalError, `task ${taskId} expired while waiting for input`);
        if (current.answers && Object.hasOwn(current.answers, key)) return current.answers[key];
        if (TERMINAL_STATUSES.has(current.status)) throw new McpError(ErrorCode.RequestTimeout, `task ${taskId} is ${current.status}`);
        await wait.changed;
      } finally {
        wait.stop();
      }
    }
  }

  /** The task changed (announced by this worker or another): its handlers waiting here reread it. */
  taskChanged(taskId: string): void {
    const wakers = this.#waiting.get(taskId);
    if (!wakers) return;
    this.#waiting.delete(taskId);
    for (const wake of wakers) wake();
  }

  #waitForChange(taskId: string, cancellation: Cancellation): ChangeWait {
    let wakers = this.#waiting.get(taskId);
    if (!wakers) this.#waiting.set(taskId, (wakers = new Set()));
    const own = wakers;
    const signal = cancellation.signal;
    let settle!: () => void;
    const changed = new Promise<void>((resolve) => (settle = resolve));
    const stop = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      own.delete(stop);
      if (own.size === 0 && this.#waiting.get(taskId) === own) this.#waiting.delete(taskId);
      settle();
    };
    const timer = setTimeout(stop, this.#answerRereadMs);
    signal.addEventListener('abort', stop, { once: true });
    own.add(stop);
    return { changed, stop };
  }

  // ── the extension's methods ────────────────────────────────────────────────────────────

  async get(params: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    return taskView(await this.#require(params));
  }

  /** tasks/update: answers for questions still open are taken; anything else is ignored. */
  async update(params: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    const { taskId } = await this.#require(params);
    const responses = params?.inputResponses ?? {};
    if (typeof responses !== 'object' || responses === null || Array.isArray(responses)) throw invalidParams('inputResponses must be an object');
    let taken = false;
    await updateTask(this.store, taskId, (current) => {
      taken = false; // a compare-and-set retry starts over
      if (current.status !== 'input_required' || !current.inputRequests) return undefined;
      const pending = { ...current.inputRequests };
      const answers = { ...current.answers };
      for (const [key, value] of Object.entries(responses as Record<string, unknown>)) {
        const question = pending[key];
        if (!question) continue;
        const problem = invalidAnswer(question.method, value);
        if (problem) throw invalidParams(`Invalid inputResponses["${key}"]: ${problem}`);
        answers[key] = value;
        delete pending[key];
        taken = true;
      }
      if (!taken) return undefined;
      const open = Object.keys(pending).length > 0;
      return { ...current, answers, inputRequests: open ? pending : undefined, status: open ? 'input_required' : 'working' };
    });
    if (taken) {
      this.taskChanged(taskId);
      // The answers are stored: a notice that cannot be sent (Redis away) only means the handler
      // finds them at its next reread instead of now.
      await this.#hooks.announceChange(taskId).catch(() => undefined);
    }
    return {};
  }

  /** tasks/cancel: idempotent; a running task settles to cancelled and its handler is aborted. */
  async cancel(params: Record<string, unknown> | undefined): Promise<Record<string, unknown>> {
    const { taskId } = await this.#require(params);
    let cancelled = false;
    await updateTask(this.store, taskId, (current) => {
      if (TERMINAL_STATUSES.has(current.status)) return undefined;
      cancelled = true;
      return { ...current, status: 'cancelled', inputRequests: undefined, answers: undefined };
    });
    if (cancelled) await this.#hooks.cancelEverywhere(taskRequestKey(taskId), 'The task was cancelled');
    return {};
  }

  async #require(params: Record<string, unknown> | undefined): Promise<TaskRecord> {
    const taskId = params?.taskId;
    if (typeof taskId !== 'string' || taskId.length === 0) throw invalidParams('taskId must be a non-empty string');
    const record = await this.store.get(taskId);
    if (!record) throw invalidParams(`Unknown task: ${taskId}`, { taskId });
    return record;
  }
}

/**
 * One tools/call that may become a task. Before start() the handler runs like any request (its
 * questions are input round trips); after, its questions go to the task.
 */
export class TaskStarter {
  readonly #manager: TaskManager;
  readonly #cancellation: Cancellation;
  #record: TaskRecord | undefined;
  #starting: Promise<void> | undefined;
  #announce!: (record: TaskRecord) => void;
  /** Resolves with the new task once the handler started it. */
  readonly started: Promise<TaskRecord>;
  #asked = 0;
  #batch: Record<string, TaskInputRequest> | undefined;
  #flushing: Promise<void> | undefined;

  constructor(manager: TaskManager, cancellation: Cancellation) {
    this.#manager = manager;
    this.#cancellation = cancellation;
    this.started = new Promise((resolve) => (this.#announce = resolve));
  }

  get taskId(): string | undefined {
    return this.#record?.taskId;
  }

  start(statusMessage?: string): Promise<void> {
    return (this.#starting ??= (async () => {
      const record = await this.#manager.create(statusMessage);
      this.#record = record;
      this.#manager.track(record.taskId, this.#cancellation);
      this.#announce(record);
    })());
  }

  /** A question from the running task: stored with the others asked in the same turn, then awaited. */
  async ask(method: string, params: Record<string, unknown> | undefined, key?: string): Promise<Record<string, unknown>> {
    const taskId = this.#record!.taskId;
    const name = key ?? `task-input-${++this.#asked}`;
    // Questions asked together (Promise.all) reach the client together.
    (this.#batch ??= {})[name] = params === undefined ? { method, params: {} } : { method, params };
    this.#flushing ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const batch = this.#batch!;
      this.#batch = undefined;
      this.#flushing = undefined;
      return this.#manager.ask(taskId, batch);
    });
    await this.#flushing;
    return (await this.#manager.answerOf(taskId, name, this.#cancellation)) as Record<string, unknown>;
  }
}

/** The fields every answer about a task carries. */
function statusFields(record: TaskRecord): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    taskId: record.taskId,
    status: record.status,
    createdAt: record.createdAt,
    lastUpdatedAt: record.lastUpdatedAt,
    ttlMs: record.ttlMs,
    pollIntervalMs: record.pollIntervalMs,
  };
  if (record.statusMessage !== undefined) fields.statusMessage = record.statusMessage;
  return fields;
}

/** What tasks/get shows of a task: status fields, and the questions, result or error its status calls for. */
function taskView(record: TaskRecord): Record<string, unknown> {
  const view = statusFields(record);
  if (record.status === 'input_required' && record.inputRequests) view.inputRequests = record.inputRequests;
  if (record.status === 'completed' && record.result) view.result = record.result;
  if (record.status === 'failed' && record.error) view.error = record.error;
  return view;
}

/** The answer to a tools/call that became a task (flat: no nested task object, no result yet). */
export function createTaskResult(record: TaskRecord): Record<string, unknown> {
  return { resultType: 'task', ...statusFields(record) };
}
