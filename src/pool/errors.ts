// Pool failures with stable codes, so callers (poolTool, metrics) branch on `code`, not messages.

export type PoolErrorCode = 'POOL_QUEUE_FULL' | 'POOL_CLOSED';

export class PoolError extends Error {
  readonly code: PoolErrorCode;

  constructor(code: PoolErrorCode, message: string) {
    super(message);
    this.name = 'PoolError';
    this.code = code;
  }
}

export class PoolQueueFullError extends PoolError {
  /** Tasks the pool holds at most: one running per thread plus `maxQueue` waiting. */
  readonly limit: number;

  constructor(limit: number) {
    super('POOL_QUEUE_FULL', `The CPU pool is busy: ${limit} tasks are already running or waiting for a thread; retry later`);
    this.name = 'PoolQueueFullError';
    this.limit = limit;
  }
}

export class PoolClosedError extends PoolError {
  constructor() {
    super('POOL_CLOSED', 'The CPU pool is closed');
    this.name = 'PoolClosedError';
  }
}
