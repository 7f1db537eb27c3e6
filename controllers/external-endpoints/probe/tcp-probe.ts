import { Socket } from 'node:net';
import type { Clock } from '../../runtime/clock.ts';
import { type ProbeResult, type ProbeTarget, probeFailure, type TcpProbeSpec } from './prober.ts';
import { abortedError, classifySocketError, joinHostPort } from './socket-errors.ts';

/**
 * Connects to `target` and closes at once (the kubelet's TCP probe). Resolves when the handshake completes (ok), fails,
 * the timeout passes or `signal` aborts; the socket is destroyed in every case before resolving. Never rejects.
 */
export function tcpProbe(target: ProbeTarget, spec: TcpProbeSpec, signal: AbortSignal, clock: Clock): Promise<ProbeResult> {
  const where = joinHostPort(target.address, target.port);
  const started = clock.now();
  const elapsed = () => Math.max(0, clock.now() - started);
  if (signal.aborted) {
    const e = abortedError(signal, where);
    return Promise.resolve(probeFailure(e.reason, e.message, 0));
  }
  return new Promise((resolve) => {
    const socket = new Socket();
    let settled = false;
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => {
      const e = abortedError(signal, where);
      finish(probeFailure(e.reason, e.message, elapsed()));
    };
    const timer = clock.setTimer(spec.timeoutMs, () =>
      finish(probeFailure('Timeout', `TCP connect to ${where} timed out after ${spec.timeoutMs}ms`, elapsed())),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ ok: true, latencyMs: elapsed() }));
    // Kept for the socket's lifetime (not once): an error after settling must not become an uncaught exception.
    socket.on('error', (err) => {
      const e = classifySocketError(err, 'connect', where);
      finish(probeFailure(e.reason, e.message, elapsed()));
    });
    socket.connect({ host: target.address, port: target.port });
  });
}
