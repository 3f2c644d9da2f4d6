// A client that keeps a session's GET stream: when the server ends it (a worker died, drained,
// or cut a slow or out-of-sync stream), it reconnects with Last-Event-ID, as the spec asks of
// clients, and keeps every event of every connection in order. For fault tests.

import type { EventSourceMessage } from 'eventsource-parser';
import type { RawSession, RawStream } from './raw-session.ts';

const RECONNECT_ATTEMPTS = 50;
/** A reconnect not answered within this is abandoned and tried again (see #open). */
const OPEN_TIMEOUT_MS = 2_000;

export class FollowedStream {
  readonly session: RawSession;
  /** Every connection so far, oldest first. */
  readonly connections: RawStream[] = [];
  /** Statuses of reconnect attempts that did not give a stream (404, 503...). */
  readonly refusals: number[] = [];
  /** When each connection was established (Date.now()), parallel to `connections`. */
  readonly connectedAt: number[] = [];
  /** Why the last reconnect attempt failed, if it threw. */
  lastError: unknown;
  /** Reconnect attempts abandoned for want of an answer. */
  timeouts = 0;
  #stopped = false;
  #loop: Promise<void> = Promise.resolve();

  constructor(session: RawSession) {
    this.session = session;
  }

  /** Opens the first stream (on a worker `accept` approves, if given) and starts following. */
  async start(accept?: (workerId: string) => boolean): Promise<this> {
    const first = accept ? await this.session.openStreamOn(accept) : await this.session.openStream();
    if (first.status !== 200) throw new Error(`GET stream refused: ${first.status}`);
    this.connections.push(first);
    this.connectedAt.push(Date.now());
    this.#loop = this.#follow(first);
    return this;
  }

  get current(): RawStream {
    return this.connections.at(-1)!;
  }

  get reconnects(): number {
    return this.connections.length - 1;
  }

  /** Every event of every connection, in arrival order. */
  events(): EventSourceMessage[] {
    return this.connections.flatMap((connection) => connection.events);
  }

  /** The data events (JSON-RPC messages), parsed. */
  messages(): Array<Record<string, unknown>> {
    return this.events()
      .filter((event) => event.data && (event.event === undefined || event.event === 'message'))
      .map((event) => JSON.parse(event.data) as Record<string, unknown>);
  }

  lastEventId(): string | undefined {
    return this.events().filter((event) => event.id).at(-1)?.id;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.current.close();
    await this.#loop;
  }

  async #follow(stream: RawStream): Promise<void> {
    let current = stream;
    for (;;) {
      await current.ended;
      await current.close();
      if (this.#stopped) return;
      const next = await this.#reconnect();
      if (!next) return;
      current = next;
    }
  }

  /**
   * A connection the primary handed to a worker just as it died is never answered (node:cluster
   * round-robin); a client's connect timeout is what saves it, as here.
   */
  async #open(headers: Record<string, string>): Promise<RawStream> {
    const opening = this.session.openStream(headers);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer to the reconnect')), OPEN_TIMEOUT_MS);
    });
    try {
      return await Promise.race([opening, timeout]);
    } catch (err) {
      if ((err as Error).message === 'no answer to the reconnect') {
        this.timeouts++;
        opening.then((late) => late.close(), () => undefined);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async #reconnect(): Promise<RawStream | undefined> {
    for (let attempt = 0; attempt < RECONNECT_ATTEMPTS && !this.#stopped; attempt++) {
      const lastEventId = this.lastEventId();
      let next: RawStream;
      try {
        next = await this.#open(lastEventId ? { 'last-event-id': lastEventId } : {});
      } catch (err) {
        // Connection refused (no worker listening yet): try again shortly.
        this.lastError = err;
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      if (next.status === 200) {
        this.connections.push(next);
        this.connectedAt.push(Date.now());
        if (this.#stopped) await next.close();
        return next;
      }
      this.refusals.push(next.status);
      await next.close();
      if (next.status === 404) return undefined; // the session is gone: nothing to resume
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return undefined;
  }
}

/** Polls `probe` every 20 ms until it returns true; throws after `timeoutMs`. */
export async function until(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
