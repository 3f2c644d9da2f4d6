// The sending side of the cross-process notify scenarios, run as its own process so that both
// systems deliver what a third process publishes through Redis:
//
//   --kind mcp       createNotifier (src/notifier.ts): one PUBLISH per message, exactly what
//                    server.notify on another worker sends with the Redis broker
//   --kind socketio  a Socket.IO server with the Redis adapter: io.to(socketId).emit()
//   --kind raw       a bare PUBLISH of the payload on `bench:raw:<target>` (the floor: Redis alone)
//
// The bench drives it over IPC. `rate`: send `rate` messages a second for `seconds`, round-robin
// over `targets`, each stamped with the send time (`t`, µs of the system-wide monotonic clock,
// so the receiving process can subtract). `fanout`: one message to each target, as fast as it
// can; `broadcast`: one broadcast (mcp: notifier.broadcast, when the library has it).

import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { createNotifier } from '../../../src/notifier.ts';
import { nowUs } from '../lib/clock.ts';

const { values } = parseArgs({
  options: { kind: { type: 'string' }, 'redis-url': { type: 'string' }, 'channel-prefix': { type: 'string', default: 'mcp' } },
});
const kind = values.kind;
const url = values['redis-url'];
if ((kind !== 'mcp' && kind !== 'socketio' && kind !== 'raw') || !url) throw new Error('usage: sender.ts --kind mcp|socketio|raw --redis-url URL');

export type SenderCommand =
  | { type: 'rate'; targets: string[]; rate: number; seconds: number }
  | { type: 'fanout'; targets: string[]; tag: number }
  | { type: 'broadcast'; tag: number }
  | { type: 'resource-updated'; uri: string };

export type SenderReply =
  | { type: 'ready'; broadcast: boolean }
  | { type: 'rate-done'; sent: number; failed: number; seconds: number }
  | { type: 'fanout-done'; sent: number; delivered: number; publishMs: number }
  | { type: 'broadcast-done'; publishMs: number; result: unknown }
  | { type: 'resource-updated-done'; reached: number }
  | { type: 'error'; message: string };

type Emit = (target: string, payload: Record<string, unknown>) => Promise<boolean> | void;

let emit: Emit;
let broadcast: ((payload: Record<string, unknown>) => Promise<unknown>) | undefined;
let resourceUpdated: ((uri: string) => Promise<number>) | undefined;
const redis = new Redis(url, { connectionName: `bench:sender:${kind}` });
let closeAll: () => Promise<void>;

if (kind === 'mcp') {
  const notifier = createNotifier({ redis, channelPrefix: values['channel-prefix'] });
  emit = (target, payload) => notifier.notify(target, { method: 'notifications/message', params: { level: 'info', logger: 'bench', data: payload } });
  // Not in the library yet when this was written: used as soon as createNotifier has it.
  const maybe = (notifier as unknown as { broadcast?: (message: unknown) => Promise<unknown> }).broadcast;
  if (typeof maybe === 'function') {
    broadcast = (payload) => maybe.call(notifier, { method: 'notifications/message', params: { level: 'info', logger: 'bench', data: payload } });
  }
  resourceUpdated = (uri) => notifier.resourceUpdated(uri);
  closeAll = async () => {
    await redis.quit();
  };
} else if (kind === 'raw') {
  emit = async (target, payload) => (await redis.publish(`bench:raw:${target}`, JSON.stringify(payload))) > 0;
  closeAll = async () => {
    await redis.quit();
  };
} else {
  const { createServer } = await import('node:http');
  const { Server } = await import('socket.io');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const sub = new Redis(url, { connectionName: 'bench:sender:socketio:sub' });
  const http = createServer();
  const io = new Server(http, { transports: ['websocket'], serveClient: false });
  io.adapter(createAdapter(redis, sub));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', () => resolve()));
  emit = (target, payload) => {
    io.to(target).emit('tick', payload);
  };
  broadcast = async (payload) => {
    io.emit('tick', payload);
  };
  closeAll = async () => {
    io.close();
    await Promise.all([redis.quit(), sub.quit()]);
  };
}

const reply = (message: SenderReply) => process.send!(message);

async function runRate(targets: string[], rate: number, seconds: number): Promise<void> {
  const total = Math.round(rate * seconds);
  const started = performance.now();
  let sent = 0;
  let failed = 0;
  const pending = new Set<Promise<unknown>>();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        const seq = sent++;
        const result = emit(targets[seq % targets.length]!, { seq, t: nowUs() });
        if (result) {
          const p = result.then(
            (ok) => {
              if (!ok) failed++;
            },
            () => {
              failed++;
            },
          );
          pending.add(p);
          void p.finally(() => pending.delete(p));
        }
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);
  reply({ type: 'rate-done', sent, failed, seconds: (performance.now() - started) / 1000 });
}

async function runFanout(targets: string[], tag: number): Promise<void> {
  const started = performance.now();
  const t = nowUs();
  const results = await Promise.all(targets.map((target, seq) => emit(target, { seq, t, tag })));
  const delivered = results.filter((r) => r !== false).length;
  reply({ type: 'fanout-done', sent: targets.length, delivered, publishMs: performance.now() - started });
}

process.on('message', (command: SenderCommand) => {
  const run = async () => {
    if (command.type === 'rate') await runRate(command.targets, command.rate, command.seconds);
    else if (command.type === 'fanout') await runFanout(command.targets, command.tag);
    else if (command.type === 'broadcast') {
      if (!broadcast) throw new Error('no broadcast API');
      const started = performance.now();
      const result = await broadcast({ seq: 0, t: nowUs(), tag: command.tag });
      reply({ type: 'broadcast-done', publishMs: performance.now() - started, result: result ?? null });
    } else if (command.type === 'resource-updated') {
      if (!resourceUpdated) throw new Error('no resourceUpdated API');
      reply({ type: 'resource-updated-done', reached: await resourceUpdated(command.uri) });
    }
  };
  run().catch((error: unknown) => reply({ type: 'error', message: String((error as Error).stack ?? error) }));
});
process.on('disconnect', () => {
  void closeAll().finally(() => process.exit(0));
});
reply({ type: 'ready', broadcast: broadcast !== undefined });
