// A small HTTP backend for test hosts, run inside a network namespace by the nethost harness:
//   node http-server.ts [--port 8080] [--status 200]
// Listens on every address of its namespace (IPv4 and IPv6), answers every request with --status (default 200) or,
// for /status/NNN, with NNN. Prints "LISTENING <port>" once ready and "REQUEST <method> <path> host=<host>" per
// request, so tests can wait for it and see what a probe sent. Exits 0 on SIGTERM or SIGINT.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' }, status: { type: 'string', default: '200' } } });
const port = Number(values.port);
const status = Number(values.status);

const server = createServer((req, res) => {
  process.stdout.write(`REQUEST ${req.method} ${req.url} host=${req.headers.host ?? ''}\n`);
  const m = /^\/status\/([1-5]\d\d)$/.exec(req.url ?? '');
  res.writeHead(m?.[1] === undefined ? status : Number(m[1]), { 'Content-Type': 'text/plain' }).end('ok\n');
});
server.keepAliveTimeout = 1000;
server.listen(port, '::', () => process.stdout.write(`LISTENING ${port}\n`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
