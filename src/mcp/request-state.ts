// Input round trips (2026-07-28, InputRequiredResult): a handler that needs the client's input
// gets a result with `inputRequests`; the client retries the same request with `inputResponses`
// and the `requestState` we gave it. The state carries the answers of earlier rounds, signed
// with a key every worker shares, so the retry may land on any worker and cannot be forged.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode, McpError } from './errors.ts';

export interface RequestStatePayload {
  /** The request it belongs to: method and tool/prompt name. */
  method: string;
  name: string;
  /** Answers gathered in earlier rounds, by input key. */
  answers: Record<string, unknown>;
  round: number;
  expiresAt: number;
}

export interface RequestStateOptions {
  /** HMAC key shared by every worker of every host. Default: random (one process only). */
  secret?: string | Buffer;
  /** A state older than this is refused. Default 10 minutes. */
  ttlMs?: number;
  /** Most input rounds one request may take. Default 10. */
  maxRounds?: number;
}

export class RequestStateCodec {
  readonly #secret: Buffer;
  readonly ttlMs: number;
  readonly maxRounds: number;

  constructor(options: RequestStateOptions = {}) {
    this.#secret = options.secret === undefined ? randomBytes(32) : Buffer.from(options.secret);
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.maxRounds = options.maxRounds ?? 10;
  }

  encode(payload: Omit<RequestStatePayload, 'expiresAt'>): string {
    const body = Buffer.from(JSON.stringify({ ...payload, expiresAt: Date.now() + this.ttlMs })).toString('base64url');
    return `${body}.${this.#sign(body)}`;
  }

  /** The payload of a state we issued for this request; anything else is -32602. */
  decode(state: unknown, method: string, name: string): RequestStatePayload {
    if (typeof state !== 'string') throw invalidState('requestState must be a string');
    const dot = state.indexOf('.');
    const body = state.slice(0, dot);
    const signature = Buffer.from(state.slice(dot + 1), 'base64url');
    const expected = Buffer.from(this.#sign(body), 'base64url');
    if (dot < 1 || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw invalidState('requestState was not issued by this server or was modified');
    }
    let payload: RequestStatePayload;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as RequestStatePayload;
    } catch {
      throw invalidState('requestState is malformed');
    }
    if (payload.method !== method || payload.name !== name) throw invalidState('requestState belongs to another request');
    if (payload.expiresAt < Date.now()) throw invalidState('requestState has expired; start the request again');
    if (payload.round >= this.maxRounds) throw invalidState(`too many input rounds (at most ${this.maxRounds})`);
    return payload;
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url');
  }
}

function invalidState(message: string): McpError {
  // In-band (HTTP 200): the request was well formed, its state was not.
  return new McpError(ErrorCode.InvalidParams, `Invalid requestState: ${message}`);
}

/**
 * A handler asked for input the client has not given yet: the dispatcher turns it into a result.
 * An McpError, so tool wrappers pass it through instead of reporting a tool failure.
 */
export class InputRequired extends McpError {
  constructor(readonly requests: Record<string, { method: string; params?: Record<string, unknown> }>) {
    super(ErrorCode.InternalError, 'input required');
  }
}

export type InputRequest = { method: string; params?: Record<string, unknown> };

/**
 * One run of a handler in the stateless era. Handlers ask for input as they would in a session
 * (`ctx.elicit()` …); a question already answered (this round or an earlier one) resolves with
 * the answer, a new one is collected and the run ends with InputRequired. Questions are keyed by
 * the handler (or by the order it asks them), so re-running the handler asks under the same keys.
 */
export class InputRound {
  readonly round: number;
  readonly #earlier: Record<string, unknown>;
  readonly #given: Record<string, unknown>;
  readonly #pending: Record<string, InputRequest> = {};
  readonly #used: Record<string, unknown> = {};
  #asked = 0;

  constructor(earlier: Record<string, unknown>, given: Record<string, unknown>, round: number) {
    this.#earlier = earlier;
    this.#given = given;
    this.round = round;
  }

  ask(method: string, params: Record<string, unknown> | undefined, key = `input-${this.#asked + 1}`): Promise<Record<string, unknown>> {
    this.#asked++;
    const answer = Object.hasOwn(this.#given, key) ? this.#given[key] : this.#earlier[key];
    if (answer !== undefined) {
      const problem = invalidAnswer(method, answer);
      if (problem) return settledLater(new McpError(ErrorCode.InvalidParams, `Invalid inputResponses["${key}"]: ${problem}`));
      this.#used[key] = answer;
      return Promise.resolve(answer as Record<string, unknown>);
    }
    this.#pending[key] = params === undefined ? { method, params: {} } : { method, params };
    // Every question asked before the handler gives up goes out together (Promise.all asks several).
    return settledLater(new InputRequired(this.#pending));
  }

  /** Keys asked in this run that the client still has to answer. */
  get pending(): Record<string, InputRequest> {
    return this.#pending;
  }

  missing(): boolean {
    return Object.keys(this.#pending).length > 0;
  }

  /** The answers this run used: carried to the next round in the signed state (extra keys are dropped). */
  answered(): Record<string, unknown> {
    return { ...this.#used };
  }
}

/**
 * A rejected promise already marked as handled: a handler that asks several questions and then
 * fails before awaiting them all must not crash the process with an unhandled rejection.
 */
function settledLater(error: Error): Promise<never> {
  const rejected = Promise.reject(error);
  rejected.catch(() => undefined);
  return rejected;
}

/** Why an answer cannot be the result of `method`, or undefined when it fits. */
export function invalidAnswer(method: string, answer: unknown): string | undefined {
  if (typeof answer !== 'object' || answer === null || Array.isArray(answer)) return 'must be an object';
  const result = answer as Record<string, unknown>;
  switch (method) {
    case 'elicitation/create':
      return ['accept', 'decline', 'cancel'].includes(result.action as string) ? undefined : 'action must be accept, decline or cancel';
    case 'sampling/createMessage':
      return typeof result.content === 'object' && result.content !== null ? undefined : 'content is required';
    case 'roots/list':
      return Array.isArray(result.roots) ? undefined : 'roots must be an array';
    default:
      return undefined;
  }
}
