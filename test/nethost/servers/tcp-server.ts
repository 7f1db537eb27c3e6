// A small TCP backend for test hosts, run inside a network namespace by the nethost harness:
//   node tcp-server.ts [--port 5432]
// Accepts connections on every address of its namespace and closes each at once (a TCP probe only needs the
// handshake). Prints "LISTENING <port>" once ready and "ACCEPTED <remote>" per connection. Exits 0 on SIGTERM/SIGINT.
import { createServer } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '5432' } } });
const port = Number(values.port);

const server = createServer((socket) => {
  process.stdout.write(`ACCEPTED ${socket.remoteAddress}\n`);
  socket.on('error', () => {});
  socket.end();
});
server.listen(port, '::', () => process.stdout.write(`LISTENING ${port}\n`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => server.close(() => process.exit(0)));
}
