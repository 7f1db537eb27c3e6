// A gRPC health server for test hosts, run inside a network namespace by the nethost harness:
//   node grpc-health-server.ts [--port 50051]
// Serves grpc.health.v1.Health/Check (plaintext) on every address of its namespace. The status of every service
// starts SERVING; SIGUSR1 switches it to NOT_SERVING and SIGUSR2 back to SERVING (printing "STATUS <name>"). Prints
// "LISTENING <port>" once ready and "CHECK <service>" per request. Exits 0 on SIGTERM/SIGINT.
import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import {
  decodeHealthCheckRequest,
  encodeHealthCheckResponse,
  ServingStatus,
} from '../../../controllers/external-endpoints/probe/grpc-health.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '50051' } } });
const port = Number(values.port);
let status: number = ServingStatus.SERVING;

const server = new grpc.Server();
server.addService(
  {
    Check: {
      path: '/grpc.health.v1.Health/Check',
      requestStream: false,
      responseStream: false,
      requestSerialize: (s: string) => Buffer.from(s),
      requestDeserialize: decodeHealthCheckRequest,
      responseSerialize: encodeHealthCheckResponse,
      responseDeserialize: (b: Buffer) => b.length,
    },
  },
  {
    Check: (call: grpc.ServerUnaryCall<string, number>, callback: grpc.sendUnaryData<number>) => {
      process.stdout.write(`CHECK ${call.request}\n`);
      callback(null, status);
    },
  },
);
server.bindAsync(`[::]:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
  if (err !== null) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`LISTENING ${bound}\n`);
});
process.on('SIGUSR1', () => {
  status = ServingStatus.NOT_SERVING;
  process.stdout.write('STATUS NOT_SERVING\n');
});
process.on('SIGUSR2', () => {
  status = ServingStatus.SERVING;
  process.stdout.write('STATUS SERVING\n');
});
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.forceShutdown();
    process.exit(0);
  });
}
