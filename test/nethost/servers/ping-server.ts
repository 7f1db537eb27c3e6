// A line-protocol backend for test hosts (the TCP send/expect check), run inside a network namespace by the nethost
// harness:
//   node ping-server.ts [--port 7000]
// Answers each "PING" line with "+PONG\r\n", in two writes (so a check must read across packets). SIGUSR1 wedges it
// (it keeps accepting connections and reading, but answers "-LOADING\r\n": a TCP connect check still passes), SIGUSR2
// heals it (each printing "STATE <state>"). Prints "LISTENING <port>" once ready and "PING <remote>" per request. Exits 0
// on SIGTERM/SIGINT.
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string', default: '7000' } } });
const port = Number(values.port);
let wedged = false;

const sockets = new Set<Socket>();
const server = createServer((socket) => {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
  socket.on('error', () => {});
  let line = '';
  socket.on('data', (chunk: Buffer) => {
    line += chunk.toString('latin1');
    for (let nl = line.indexOf('\n'); nl >= 0; nl = line.indexOf('\n')) {
      const request = line.slice(0, nl).replace(/\r$/, '');
      line = line.slice(nl + 1);
      if (request !== 'PING') {
        socket.end('-ERR unknown command\r\n');
        return;
      }
      process.stdout.write(`PING ${socket.remoteAddress}\n`);
      if (wedged) {
        socket.write('-LOADING\r\n');
      } else {
        socket.write('+PO');
        setTimeout(() => socket.writable && socket.write('NG\r\n'), 10);
      }
    }
  });
});
server.listen(port, '::', () => process.stdout.write(`LISTENING ${port}\n`));
process.on('SIGUSR1', () => {
  wedged = true;
  process.stdout.write('STATE WEDGED\n');
});
process.on('SIGUSR2', () => {
  wedged = false;
  process.stdout.write('STATE SERVING\n');
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    for (const s of sockets) s.destroy();
    server.close(() => process.exit(0));
  });
}
