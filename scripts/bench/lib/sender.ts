// Drives a sender process (peers/sender.ts) over IPC.

import { fileURLToPath } from 'node:url';
import type { SenderCommand, SenderReply } from '../peers/sender.ts';
import { spawnTs, type Running } from './children.ts';

const SCRIPT = fileURLToPath(new URL('../peers/sender.ts', import.meta.url));

export class Sender {
  readonly running: Running;
  readonly hasBroadcast: boolean;

  private constructor(running: Running, hasBroadcast: boolean) {
    this.running = running;
    this.hasBroadcast = hasBroadcast;
  }

  static async start(kind: 'mcp' | 'socketio' | 'raw', redisUrl: string): Promise<Sender> {
    const running = spawnTs(`sender(${kind})`, SCRIPT, ['--kind', kind, '--redis-url', redisUrl], { ipc: true });
    const ready = await new Promise<SenderReply>((resolve, reject) => {
      running.child.once('message', (message: SenderReply) => resolve(message));
      running.child.once('exit', (code) => reject(new Error(`sender(${kind}) exited with ${code}`)));
    });
    return new Sender(running, ready.type === 'ready' && ready.broadcast);
  }

  /** Sends a command and resolves with its reply (an `error` reply rejects). */
  request<T extends SenderReply['type']>(command: SenderCommand, timeoutMs = 120_000): Promise<Extract<SenderReply, { type: T }>> {
    const child = this.running.child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.off('message', onMessage);
        reject(new Error(`sender: no reply to ${command.type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onMessage = (message: SenderReply) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        if (message.type === 'error') reject(new Error(`sender: ${message.message}`));
        else resolve(message as Extract<SenderReply, { type: T }>);
      };
      child.on('message', onMessage);
      child.send(command);
    });
  }

  async stop(): Promise<void> {
    if (this.running.child.connected) this.running.child.disconnect();
    await this.running.stop();
  }
}
