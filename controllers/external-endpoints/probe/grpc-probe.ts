import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../runtime/clock.ts';
import { decodeHealthCheckResponse, encodeHealthCheckRequest, ServingStatus } from './grpc-health.ts';
import { type GrpcProbeSpec, type ProbeResult, type ProbeTarget, probeFailure } from './prober.ts';
import { abortedError, joinHostPort } from './socket-errors.ts';

// The gRPC health check (grpc.health.v1.Health/Check, as the kubelet's gRPC probe): one fresh channel with its own
// subchannel pool (no connection shared between probes), no retries, a deadline of the timeout, closed afterwards.
// Healthy when the answer is SERVING. Plaintext (h2c) only.

const NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

export function grpcProbe(target: ProbeTarget, spec: GrpcProbeSpec, signal: AbortSignal, clock: Clock): Promise<ProbeResult> {
  const where = joinHostPort(target.address, target.port);
  const started = clock.now();
  const elapsed = () => Math.max(0, clock.now() - started);
  if (signal.aborted) {
    const e = abortedError(signal, where);
    return Promise.resolve(probeFailure(e.reason, e.message, 0));
  }
  const client = new grpc.Client(where, grpc.credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
    'grpc.initial_reconnect_backoff_ms': spec.timeoutMs * 10,
    'grpc.max_receive_message_length': 64 * 1024,
  });
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      call.cancel();
      client.close();
      resolve(result);
    };
    const onAbort = () => {
      const e = abortedError(signal, where);
      finish(probeFailure(e.reason, e.message, elapsed()));
    };
    const timer = clock.setTimer(spec.timeoutMs, () =>
      finish(probeFailure('Timeout', `gRPC health check of ${where} timed out after ${spec.timeoutMs}ms`, elapsed())),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    const call = client.makeUnaryRequest<string, number>(
      '/grpc.health.v1.Health/Check',
      encodeHealthCheckRequest,
      decodeHealthCheckResponse,
      spec.service,
      new grpc.Metadata(),
      { deadline: Date.now() + spec.timeoutMs },
      (err, status) => {
        if (err !== null) {
          const details = err.details ?? err.message;
          let reason: 'Refused' | 'Timeout' | 'Unreachable' | 'ProtocolError' | 'NotServing' | 'Error' = 'Error';
          if (err.code === grpc.status.DEADLINE_EXCEEDED) reason = 'Timeout';
          else if (err.code === grpc.status.UNAVAILABLE) reason = /ECONNREFUSED/.test(details) ? 'Refused' : 'Unreachable';
          else if (err.code === grpc.status.UNIMPLEMENTED) reason = 'ProtocolError';
          else if (err.code === grpc.status.NOT_FOUND) reason = 'NotServing';
          finish(probeFailure(reason, `gRPC health check of ${where} failed: ${grpc.status[err.code] ?? err.code}: ${details}`, elapsed()));
          return;
        }
        if (status === ServingStatus.SERVING) {
          finish({ ok: true, latencyMs: elapsed() });
          return;
        }
        const name = NAMES[status ?? 0] ?? String(status);
        const what = spec.service === '' ? 'the server' : `service "${spec.service}"`;
        finish(probeFailure('NotServing', `${where} reports ${what} as ${name}`, elapsed()));
      },
    );
  });
}
