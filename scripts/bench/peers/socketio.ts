// Socket.IO 4 with its Redis adapter (`@socket.io/redis-adapter`), the usual way to reach a client
// connected to another process: `io.to(socketId).emit()` on any server PUBLISHes through Redis
// and the server holding that socket writes it out. This process is one such server; clients
// connect over WebSocket. With --sender it also takes commands from the bench on IPC (see
// sender.ts) and emits to other servers' sockets: the "server B" of the latency scenario.

import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { listenAndAnnounce } from './ready.ts';

const { values } = parseArgs({ options: { 'redis-url': { type: 'string' } } });
const url = values['redis-url'];
if (!url) throw new Error('--redis-url is required');

const pub = new Redis(url, { connectionName: 'bench:socket.io:pub' });
const sub = new Redis(url, { connectionName: 'bench:socket.io:sub' });
const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false });
io.adapter(createAdapter(pub, sub));
await listenAndAnnounce(http, '/');
