// Brokers run listeners from inside a transport's message handler (ioredis's reply parser, the IPC
// 'message' event). A throw there would abandon the rest of the buffer or skip the
// acknowledgement, so it is rethrown on its own, as an EventEmitter would.

export function deliverSafely<T>(listener: (value: T) => void, value: T): void {
  try {
    listener(value);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}
