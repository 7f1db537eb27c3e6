// What a simulated container runs inside its Pod's network namespace:
//   node pod-server.ts --pod web-1 --namespace default --node node-1 [--http 8080 ...] [--tcp 5000 ...]
// Every --http port answers any request with one line `pod=<name> namespace=<ns> node=<node> client=<ip>`, so a
// client (and a person with curl) sees which endpoint a Service picked and what source address it saw. Every --tcp
// port echoes what it receives. Prints "LISTENING" once every port is bound. Exits 0 on SIGTERM or SIGINT.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    pod: { type: 'string', default: '' },
    namespace: { type: 'string', default: '' },
    node: { type: 'string', default: '' },
    http: { type: 'string', multiple: true, default: [] },
    tcp: { type: 'string', multiple: true, default: [] },
  },
});

const servers: Server[] = [];
const identity = `pod=${values.pod} namespace=${values.namespace} node=${values.node}`;
for (const port of values.http) {
  const server = createHttpServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', Connection: 'close' }).end(`${identity} client=${req.socket.remoteAddress ?? ''}\n`);
  });
  server.keepAliveTimeout = 1000;
  servers.push(server.listen(Number(port), '0.0.0.0'));
}
for (const port of values.tcp) {
  const server = createTcpServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  servers.push(server.listen(Number(port), '0.0.0.0'));
}
let listening = 0;
for (const server of servers) {
  server.once('listening', () => {
    if (++listening === servers.length) process.stdout.write('LISTENING\n');
  });
  server.once('error', (err) => {
    process.stderr.write(`pod-server: ${err.message}\n`);
    process.exit(1);
  });
}
if (servers.length === 0) process.stdout.write('LISTENING\n');
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    for (const s of servers) s.close();
    process.exit(0);
  });
}
