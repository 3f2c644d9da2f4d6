// Fan-out, watched by a person: `npm run fanout-demo`.
//
// Starts mcp-cluster with two workers on a loopback port (the cluster IPC broker; the Redis
// broker when REDIS_URL is set), opens a session and its GET stream on one worker, then calls the
// `notify` tool on fresh connections until a call runs on ANOTHER worker, and shows that the
// notification still arrived on the stream. Then a notify to a session nobody holds (false), and
// a clean shutdown. Bounded: it exits by itself, with 1 if anything goes wrong.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { Client, type Dispatcher } from 'undici';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const WORKERS = Math.max(2, Number(process.env.MCP_WORKERS) || 2);
const DEADLINE_MS = 60_000;
const ACCEPT = 'application/json, text/event-stream';
const PROTOCOL_VERSION = '2025-11-25';

type JsonObject = Record<string, unknown>;

const say = (text: string) => process.stdout.write(`${text}\n`);

// ---------------------------------------------------------------------------------------------
// The cluster, as a child process

interface Cluster {
  child: ChildProcess;
  url: string;
  /** Every log line so far (pino JSON, parsed). */
  logs: JsonObject[];
}

/** Killed if this script exits early (deadline, crash): the demo never leaves a cluster behind. */
let running: ChildProcess | undefined;
process.on('exit', () => running?.kill('SIGKILL'));

async function startCluster(): Promise<Cluster> {
  const args = ['--import', 'tsx', MAIN, '--host', '127.0.0.1', '--port', '0', '--workers', String(WORKERS), '--log-level', 'info'];
  const child = spawn(process.execPath, args, { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running = child;
  child.once('exit', () => (running = undefined));
  let errors = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (errors += chunk));
  const seen: JsonObject[] = [];
  const waiters = new Set<{ match: (line: JsonObject) => boolean; resolve: (line: JsonObject) => void }>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: JsonObject;
    try {
      line = JSON.parse(text) as JsonObject;
    } catch {
      return;
    }
    seen.push(line);
    for (const waiter of waiters) {
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  });
  const waitForLog = (match: (line: JsonObject) => boolean) =>
    new Promise<JsonObject>((resolve, reject) => {
      const found = seen.find(match);
      if (found) return resolve(found);
      const waiter = { match, resolve };
      waiters.add(waiter);
      child.once('exit', (code) => {
        if (waiters.delete(waiter)) reject(new Error(`the cluster exited (${code}): ${errors.trim()}`));
      });
    });
  const start = await waitForLog((line) => String(line.msg).startsWith('mcp-cluster listening on'));
  return { child, url: String(start.url), logs: seen };
}

// ---------------------------------------------------------------------------------------------
// A raw MCP session over undici: each request on a fresh connection, so node:cluster spreads them

class Session {
  sessionId = '';
  constructor(readonly url: URL) {}

  headers(extra: Record<string, string> = {}): Record<string, string> {
    const headers: Record<string, string> = { accept: ACCEPT, 'content-type': 'application/json', ...extra };
    if (this.sessionId) {
      headers['mcp-session-id'] = this.sessionId;
      headers['mcp-protocol-version'] = PROTOCOL_VERSION;
    }
    return headers;
  }

  /** POSTs one message; returns the worker that answered and the JSON-RPC messages of the reply. */
  async post(body: JsonObject): Promise<{ worker: string; sessionId?: string; messages: JsonObject[] }> {
    const client = new Client(this.url.origin);
    try {
      const res = await client.request({ path: this.url.pathname, method: 'POST', headers: this.headers(), body: JSON.stringify(body) });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`POST ${String(body.method)}: HTTP ${res.statusCode} ${text}`);
      const messages: JsonObject[] = [];
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        createParser({ onEvent: (event) => event.data && messages.push(JSON.parse(event.data) as JsonObject) }).feed(text);
      } else if (text) {
        messages.push(JSON.parse(text) as JsonObject);
      }
      const sessionId = res.headers['mcp-session-id'];
      return { worker: String(res.headers['mcp-worker-id']), sessionId: typeof sessionId === 'string' ? sessionId : undefined, messages };
    } finally {
      await client.close();
    }
  }

  async open(name: string): Promise<string> {
    const init = await this.post({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: { name, version: '1.0.0' } },
    });
    if (!init.sessionId) throw new Error('initialize returned no Mcp-Session-Id');
    this.sessionId = init.sessionId;
    await this.post({ jsonrpc: '2.0', method: 'notifications/initialized' });
    return init.worker;
  }

  /** tools/call `notify`; returns the worker that ran it and its structured result. */
  async notify(id: number, sessionId: string, text: string): Promise<{ worker: string; delivered: boolean }> {
    const reply = await this.post({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'notify', arguments: { sessionId, text } } });
    const response = reply.messages.find((message) => message.id === id);
    const result = response?.result as { structuredContent?: { delivered: boolean; worker: string } } | undefined;
    if (!result?.structuredContent) throw new Error(`notify failed: ${JSON.stringify(reply.messages)}`);
    return { worker: reply.worker, delivered: result.structuredContent.delivered };
  }

  async openStream(): Promise<Stream> {
    const client = new Client(this.url.origin);
    const headers = this.headers({ accept: 'text/event-stream' });
    delete headers['content-type'];
    const res = await client.request({ path: this.url.pathname, method: 'GET', headers });
    if (res.statusCode !== 200) throw new Error(`GET stream: HTTP ${res.statusCode}`);
    return new Stream(client, res.body, String(res.headers['mcp-worker-id']));
  }

  async close(): Promise<void> {
    const client = new Client(this.url.origin);
    try {
      const headers = this.headers();
      delete headers['content-type'];
      const res = await client.request({ path: this.url.pathname, method: 'DELETE', headers });
      await res.body.dump();
    } finally {
      await client.close();
    }
  }
}

class Stream {
  readonly #events: EventSourceMessage[] = [];
  readonly #waiters = new Set<{ match: (event: EventSourceMessage) => boolean; resolve: (event: EventSourceMessage) => void }>();
  readonly #reading: Promise<void>;

  constructor(
    readonly client: Client,
    readonly body: Dispatcher.ResponseData['body'],
    readonly worker: string,
  ) {
    const parser = createParser({
      onEvent: (event) => {
        this.#events.push(event);
        for (const waiter of this.#waiters) {
          if (waiter.match(event)) {
            this.#waiters.delete(waiter);
            waiter.resolve(event);
          }
        }
      },
    });
    this.#reading = (async () => {
      try {
        for await (const chunk of body) parser.feed((chunk as Buffer).toString('utf8'));
      } catch {
        // closed by us, or the server ended the stream
      }
    })();
  }

  waitFor(match: (event: EventSourceMessage) => boolean, timeoutMs: number): Promise<EventSourceMessage> {
    const seen = this.#events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`nothing arrived on the stream within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (event: EventSourceMessage) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  async close(): Promise<void> {
    this.body.destroy();
    await this.#reading;
    await this.client.destroy();
  }
}

// ---------------------------------------------------------------------------------------------

async function demo(cluster: Cluster): Promise<void> {
  const url = new URL(cluster.url);

  const receiver = new Session(url);
  const createdOn = await receiver.open('fanout-demo-receiver');
  say(`\nsession ${receiver.sessionId} created on worker ${createdOn}`);
  const stream = await receiver.openStream();
  say(`its GET stream is held by worker ${stream.worker}`);

  const sender = new Session(url);
  await sender.open('fanout-demo-sender');
  say(`\ncalling the notify tool from another session, each call on a fresh connection,`);
  say(`until one runs on a worker other than ${stream.worker}:`);
  let call: { worker: string; delivered: boolean } | undefined;
  let text = '';
  for (let attempt = 1; attempt <= 32 && !call; attempt++) {
    text = `hello #${attempt}`;
    const result = await sender.notify(attempt, receiver.sessionId, text);
    const where = result.worker === stream.worker ? 'the same worker as the stream' : 'another worker';
    say(`  call ${attempt}: ran on worker ${result.worker} (${where}), delivered: ${result.delivered}`);
    if (result.worker !== stream.worker) call = result;
  }
  if (!call) throw new Error('no notify call landed on another worker in 32 tries');

  const sent = text;
  const event = await stream.waitFor((e) => e.data.includes(sent), 5_000);
  const message = JSON.parse(event.data) as { method: string; params: { data: unknown } };
  say(`\nworker ${call.worker} notified; on worker ${stream.worker}'s stream arrived:`);
  if (event.id) say(`  id: ${event.id}`);
  say(`  ${message.method} ${JSON.stringify(message.params.data)}`);
  say(`  -> notify returned delivered: ${call.delivered}`);

  const nobody = randomUUID();
  const lost = await sender.notify(100, nobody, 'anyone there?');
  say(`\nnotify to an unknown session ${nobody} (on worker ${lost.worker}): delivered: ${lost.delivered}`);

  await stream.close();
  await receiver.close();
  await sender.close();
}

function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid url)';
  }
}

async function main(): Promise<number> {
  const broker = process.env.REDIS_URL ? `Redis at ${redacted(process.env.REDIS_URL)}` : 'cluster IPC through the primary';
  say(`starting mcp-cluster: ${WORKERS} workers, broker: ${broker}`);
  const cluster = await startCluster();
  say(`listening on ${cluster.url}`);
  let failed: unknown;
  try {
    await demo(cluster);
  } catch (err) {
    failed = err;
  }
  say(`\nstopping the cluster (SIGTERM)...`);
  // 'close': exited and its output read to the end.
  const closed = once(cluster.child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  cluster.child.kill('SIGTERM');
  const [code] = await closed;
  const stopped = cluster.logs.find((line) => line.msg === 'all workers stopped');
  say(`cluster exited with code ${code}; worker exit codes: ${stopped ? JSON.stringify(stopped.codes) : '(not logged)'}`);
  if (failed) throw failed;
  return code === 0 ? 0 : 1;
}

const deadline = setTimeout(() => {
  process.stderr.write(`fanout-demo: did not finish within ${DEADLINE_MS / 1000} s\n`);
  process.exit(1);
}, DEADLINE_MS);
deadline.unref();

try {
  process.exitCode = await main();
} catch (err) {
  process.stderr.write(`fanout-demo: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
