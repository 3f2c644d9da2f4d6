// A lingering close, for a response sent before its request body was read (413). Closing a socket
// that still has unread input makes the kernel answer with a reset, and a reset can wipe the
// response from the client's buffers before the client reads it: the client then sees a dropped
// connection instead of the error that explains it. So after such a response the server
// half-closes, keeps reading (and dropping) what the client still sends, and closes once the
// client is done or after a bounded time.

import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long a connection is drained after its response before it is cut regardless. */
const LINGER_MS = 2_000;

/**
 * Makes the end of this `connection: close` response a lingering close. (Node ends such a
 * response with `socket.destroySoon()`, which closes the socket as soon as the response is out.)
 */
export function lingerAfterResponse(res: ServerResponse, lingerMs = LINGER_MS): void {
  const socket = res.socket;
  if (!socket) return;
  socket.destroySoon = function lingeringClose(this: Socket): void {
    if (this.writable) this.end();
    if (this.destroyed) return;
    const timer = setTimeout(() => this.destroy(), lingerMs);
    timer.unref();
    this.once('close', () => clearTimeout(timer));
  };
}
