// The ceiling: a bare node:http handler that answers a JSON-RPC tools/call echo with JSON, with
// no protocol engine behind it; and GET /sse, an idle server-sent-events stream (the floor of
// what one held SSE connection costs in node:http).

import { createServer } from 'node:http';
import { listenAndAnnounce } from './ready.ts';

const HEARTBEAT_MS = 15_000;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    const heartbeat = setInterval(() => res.write(': keepalive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    res.on('close', () => clearInterval(heartbeat));
    return;
  }
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let message: { id?: unknown; params?: { arguments?: { text?: unknown } } };
    try {
      message = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    const text = String(message.params?.arguments?.text ?? '');
    const body = JSON.stringify({ jsonrpc: '2.0', id: message.id ?? null, result: { content: [{ type: 'text', text }] } });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});

await listenAndAnnounce(server);
