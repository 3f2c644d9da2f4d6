// What every peer server shares: listen on a free loopback port, announce the URL on stdout as
// one JSON line (the bench waits for it), and leave on SIGTERM/SIGINT.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function listenAndAnnounce(server: Server, path = '/mcp', extra: Record<string, unknown> = {}): Promise<string> {
  // SSE streams and idle keep-alive load connections must not be cut by a socket timeout.
  server.timeout = 0;
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}${path}`;
  process.stdout.write(`${JSON.stringify({ ready: url, pid: process.pid, ...extra })}\n`);
  const stop = () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1_000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  return url;
}
