// Task modules for the pool tests, run on pool threads. `spin` is CPU-bound until the test
// releases it: a busy loop that polls a BroadcastChannel synchronously (the thread's event loop
// never runs), so the test decides when CPU work ends instead of guessing how long it takes.

import { BroadcastChannel, isMainThread, receiveMessageOnPort, threadId, type MessagePort } from 'node:worker_threads';

export interface GateMessage {
  type: 'started';
  threadId: number;
}

export function spin({ gate }: { gate: string }): number {
  const channel = new BroadcastChannel(gate);
  channel.postMessage({ type: 'started', threadId } satisfies GateMessage);
  let rounds = 0;
  try {
    for (;;) {
      rounds++;
      // receiveMessageOnPort accepts a BroadcastChannel too (Node docs), the types do not say so.
      const received = receiveMessageOnPort(channel as unknown as MessagePort);
      if (received?.message === 'release') return rounds;
    }
  } finally {
    channel.close();
  }
}

export function where(): { isMainThread: boolean; threadId: number } {
  return { isMainThread, threadId };
}

export function fail({ message }: { message: string }): never {
  throw new Error(message);
}
