// A client for traffic tests, run inside a client namespace:
//   node traffic-client.ts --url http://10.0.0.12/ (--count 60 | --duration-ms 20000) [--interval-ms 0] [--timeout-ms 1000]
// Sends one HTTP GET per fresh connection (no keep-alive: each request is a new connection, so a proxy picks an
// endpoint for each), one after another, and prints one line per request:
//   OK <epoch ms> <first line of the body>      or      ERR <epoch ms> <error code>
// then "DONE". Bounded: stops after --count requests or --duration-ms, whichever is given (both: the first reached).
import { request } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    count: { type: 'string' },
    'duration-ms': { type: 'string' },
    'interval-ms': { type: 'string', default: '0' },
    'timeout-ms': { type: 'string', default: '1000' },
  },
});
if (values.url === undefined || (values.count === undefined && values['duration-ms'] === undefined)) {
  process.stderr.write('usage: traffic-client.ts --url URL (--count N | --duration-ms MS) [--interval-ms MS] [--timeout-ms MS]\n');
  process.exit(2);
}
const url = values.url;
const count = values.count === undefined ? Infinity : Number(values.count);
const deadline = values['duration-ms'] === undefined ? Infinity : Date.now() + Number(values['duration-ms']);
const intervalMs = Number(values['interval-ms']);
const timeoutMs = Number(values['timeout-ms']);

function once(): Promise<string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers: { Connection: 'close' }, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(`OK ${Date.now()} ${body.split('\n')[0] ?? ''}`));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(`ERR ${Date.now()} ${err.code ?? err.message}`));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`ERR ${Date.now()} ${err.code ?? err.message}`));
    req.end();
  });
}

let stopped = false;
process.once('SIGTERM', () => (stopped = true));
for (let i = 0; i < count && Date.now() < deadline && !stopped; i++) {
  process.stdout.write(`${await once()}\n`);
  if (intervalMs > 0) await new Promise((r) => setTimeout(r, intervalMs));
}
process.stdout.write('DONE\n');
