// A real redis-server for tests: each test file starts its own on a free loopback port, in a
// fresh temp dir, without persistence, and it never outlives the test process. With REDIS_URL
// set, tests use that server instead (and cannot stop, restart or kill it: they do not own it).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { Redis, type RedisOptions } from 'ioredis';

export interface RedisHandle {
  url: string;
  port: number;
  /** False when REDIS_URL pointed at a server this process does not own. */
  owned: boolean;
  /** Stops the server (SIGTERM) and removes its temp dir. A no-op with REDIS_URL. */
  stop(): Promise<void>;
  /** Kills (SIGKILL) and starts the server again on the same port, for fault tests. Throws with REDIS_URL. */
  restart(): Promise<void>;
  /** Kills the server (SIGKILL) and leaves it down. Throws with REDIS_URL. */
  kill(): Promise<void>;
}

const START_TIMEOUT_MS = 5_000;

// Every server this process started, so none survives it, however it ends.
const running = new Set<ChildProcess>();
let exitHooksInstalled = false;

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  // 'exit' handlers must be synchronous: kill() is.
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
  // A signal skips 'exit'. Kill the servers, then re-raise so the default action still happens,
  // unless someone else handles the signal (then it is theirs to decide).
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      for (const child of running) child.kill('SIGKILL');
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export async function startRedis(): Promise<RedisHandle> {
  const external = process.env.REDIS_URL;
  if (external) {
    const notOwned = (what: string) => async () => {
      throw new Error(`${what}() is not available with REDIS_URL: this process does not own that redis-server`);
    };
    return {
      url: external,
      port: Number(new URL(external).port || 6379),
      owned: false,
      stop: async () => {},
      restart: notOwned('restart'),
      kill: notOwned('kill'),
    };
  }

  installExitHooks();
  const dir = mkdtempSync(join(tmpdir(), 'mcp-cluster-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  // The free port we pick can be taken before redis binds it: retry with another.
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      child = await spawnRedis(port, dir);
      break;
    } catch (error) {
      if (attempt >= 4) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }

  const stopChild = async (signal: NodeJS.Signals) => {
    const current = child;
    child = undefined;
    if (current) await terminate(current, signal);
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    owned: true,
    async stop() {
      await stopChild('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await stopChild('SIGKILL');
      child = await spawnRedis(port, dir);
    },
    async kill() {
      await stopChild('SIGKILL');
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function spawnRedis(port: number, dir: string): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    ['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1', '--port', String(port), '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 10_000) output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error) => reject(new Error(`cannot start redis-server (is it on PATH?): ${error.message}`)));
    child.once('exit', (code, signal) =>
      reject(new Error(`redis-server on port ${port} exited (${signal ?? code}) before answering PING:\n${output}`)),
    );
  });
  exited.catch(() => {}); // only observed through the race below
  try {
    await Promise.race([waitForPong(port, Date.now() + START_TIMEOUT_MS), exited]);
  } catch (error) {
    await terminate(child, 'SIGKILL');
    throw error;
  }
  // From here on the output is not needed; keep the pipes drained so redis never blocks on them.
  // Unref'd: a server a test forgot to stop must not keep the process alive (the exit hook kills it).
  for (const stream of [child.stdout, child.stderr]) {
    stream?.off('data', collect).resume();
    if (stream && 'unref' in stream && typeof stream.unref === 'function') stream.unref();
  }
  child.unref();
  return child;
}

async function waitForPong(port: number, deadline: number): Promise<void> {
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING in time`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      // "-LOADING ..." while starting up: not ready yet.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.ref(); // keep the process alive until the exit is observed
    child.kill(signal);
  });
}

/** ioredis clients for one test file, every one of them closed by `closeAll()`. */
export class RedisClients {
  readonly #url: string;
  readonly #clients = new Set<Redis>();

  constructor(url: string) {
    this.#url = url;
  }

  /** A connected client, named with CLIENT SETNAME so it shows up clearly in CLIENT LIST. */
  async create(name: string, options: RedisOptions = {}): Promise<Redis> {
    const client = new Redis(this.#url, { connectionName: name, lazyConnect: true, ...options });
    this.#clients.add(client);
    // The test fails on a real error through the awaited command; this only keeps ioredis from
    // printing "Unhandled error event" while a fault test has the server down.
    client.on('error', () => {});
    await client.connect();
    return client;
  }

  /** Adopts a client created elsewhere (e.g. by `monitor()`) so it is closed too. */
  track(client: Redis): Redis {
    this.#clients.add(client);
    client.on('error', () => {});
    return client;
  }

  async closeAll(): Promise<void> {
    const clients = [...this.#clients];
    this.#clients.clear();
    await Promise.all(
      clients.map(async (client) => {
        // quit() waits for the server; a client whose server is gone can only be disconnected.
        if (client.status === 'ready') {
          try {
            await client.quit();
            return;
          } catch {
            // fall through
          }
        }
        client.disconnect();
      }),
    );
  }
}

/** Deletes every key under `prefix:` so a shared REDIS_URL server is left as it was found. */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/**
 * One redis-server for a whole test file, with a client pool closed before it stops: registers
 * the file's `before` and `after` hooks, so call it at the top level. Read `handle` and `clients`
 * inside tests (they are set once `before` ran).
 */
export function redisForFile(): { readonly handle: RedisHandle; readonly clients: RedisClients } {
  const state = {} as { handle: RedisHandle; clients: RedisClients };
  before(async () => {
    state.handle = await startRedis();
    state.clients = new RedisClients(state.handle.url);
  });
  after(async () => {
    await state.clients?.closeAll();
    await state.handle?.stop();
  });
  return state;
}
