import { Socket } from 'node:net';
import type { Clock } from '../../runtime/clock.ts';
import { type ProbeResult, type ProbeTarget, probeFailure, type TcpExchange, type TcpProbeSpec } from './prober.ts';
import { abortedError, classifySocketError, joinHostPort } from './socket-errors.ts';

// The generic TCP send/expect check (as HAProxy's tcp-check send/expect and Consul's TCP checks with a payload): connect,
// write the configured bytes, read until the answer matches a regular expression. The answer is read as Latin-1 (one
// character per byte, so binary protocols can be matched with \xHH) and at most maxReadBytes of it are kept. Connect,
// write and read are bounded by one timeout; the socket is destroyed in every outcome.

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { r: 0x0d, n: 0x0a, t: 0x09, '0': 0x00, '\\': 0x5c };

/**
 * The bytes of a `send` text: UTF-8, with \r \n \t \0 \\ and \xHH (one byte) unescaped. Pure. Throws on any other
 * escape or a trailing backslash (admission refuses those already).
 */
export function decodeSendText(text: string): Uint8Array {
  const out: number[] = [];
  let literal = '';
  const flush = () => {
    for (const b of Buffer.from(literal, 'utf8')) out.push(b);
    literal = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    if (c !== '\\') {
      literal += c;
      continue;
    }
    flush();
    const next = text[i + 1];
    const simple = next === undefined ? undefined : SIMPLE_ESCAPES[next];
    if (simple !== undefined) {
      out.push(simple);
      i += 1;
    } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
      out.push(Number.parseInt(text.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      throw new Error(`invalid escape at offset ${i}: only \\r \\n \\t \\0 \\\\ and \\xHH are allowed`);
    }
  }
  flush();
  return Uint8Array.from(out);
}

/** What to do with the answer received so far. */
export type ExchangeVerdict = 'Matched' | 'ReadMore' | 'TooLong' | 'ClosedEarly';

/**
 * The verdict on `received` (every byte read so far, at most maxReadBytes of them), `ended` when the peer closed its
 * side. A match wins even on the read that reached the limit or the close. Pure.
 */
export function exchangeVerdict(received: Uint8Array, exchange: TcpExchange, ended: boolean): ExchangeVerdict {
  const text = Buffer.from(received.buffer, received.byteOffset, received.byteLength).toString('latin1');
  if (exchange.expect.test(text)) return 'Matched';
  if (received.byteLength >= exchange.maxReadBytes) return 'TooLong';
  return ended ? 'ClosedEarly' : 'ReadMore';
}

/** A short, printable excerpt of an answer for a status message (control bytes as \xHH). Pure. */
export function answerExcerpt(received: Uint8Array, max = 64): string {
  const head = Buffer.from(received.buffer, received.byteOffset, Math.min(received.byteLength, max)).toString('latin1');
  // eslint-disable-next-line no-control-regex
  const printable = head.replace(/[\x00-\x1f\x7f-\xff\\"]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return received.byteLength > max ? `"${printable}"...` : `"${printable}"`;
}

/**
 * Connects to `target`, writes `spec.exchange.send` and reads until the answer matches, within `spec.timeoutMs`.
 * Resolves with ok on a match; fails with UnexpectedAnswer when the peer closes first, maxReadBytes pass or the timeout
 * passes after an answer without a match, Timeout when nothing at all is read in time, or a transport reason. The socket is destroyed before resolving. Never
 * rejects.
 */
export function tcpExchangeProbe(
  target: ProbeTarget,
  spec: TcpProbeSpec & { readonly exchange: TcpExchange },
  signal: AbortSignal,
  clock: Clock,
): Promise<ProbeResult> {
  const where = joinHostPort(target.address, target.port);
  const exchange = spec.exchange;
  const started = clock.now();
  const elapsed = () => Math.max(0, clock.now() - started);
  if (signal.aborted) {
    const e = abortedError(signal, where);
    return Promise.resolve(probeFailure(e.reason, e.message, 0));
  }
  return new Promise((resolve) => {
    const socket = new Socket();
    let settled = false;
    let connected = false;
    let received: Uint8Array = new Uint8Array(0);
    const finish = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const judge = (ended: boolean) => {
      const verdict = exchangeVerdict(received, exchange, ended);
      if (verdict === 'Matched') finish({ ok: true, latencyMs: elapsed() });
      else if (verdict === 'TooLong') {
        finish(
          probeFailure(
            'UnexpectedAnswer',
            `${where} sent ${exchange.maxReadBytes} bytes without a match of ${exchange.expect.source}; it began ${answerExcerpt(received)}`,
            elapsed(),
          ),
        );
      } else if (verdict === 'ClosedEarly') {
        finish(
          probeFailure(
            'UnexpectedAnswer',
            `${where} closed the connection after ${received.byteLength} bytes without a match of ${exchange.expect.source}: ${answerExcerpt(received)}`,
            elapsed(),
          ),
        );
      }
    };
    const onAbort = () => {
      const e = abortedError(signal, where);
      finish(probeFailure(e.reason, e.message, elapsed()));
    };
    // A server that answered, but not as expected, is reported as such (with what it said); silence is a Timeout.
    const timer = clock.setTimer(spec.timeoutMs, () =>
      finish(
        !connected
          ? probeFailure('Timeout', `TCP connect to ${where} timed out after ${spec.timeoutMs}ms`, elapsed())
          : received.byteLength === 0
            ? probeFailure('Timeout', `${where} sent no answer within ${spec.timeoutMs}ms`, elapsed())
            : probeFailure(
                'UnexpectedAnswer',
                `${where} answered ${answerExcerpt(received)}, which did not match ${exchange.expect.source} within ${spec.timeoutMs}ms`,
                elapsed(),
              ),
      ),
    );
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      connected = true;
      if (exchange.send.byteLength > 0) socket.write(exchange.send);
    });
    socket.on('data', (chunk: Buffer) => {
      if (settled) return;
      const room = exchange.maxReadBytes - received.byteLength;
      const next = new Uint8Array(received.byteLength + Math.min(room, chunk.byteLength));
      next.set(received, 0);
      next.set(chunk.subarray(0, room), received.byteLength);
      received = next;
      judge(false);
    });
    socket.once('end', () => judge(true));
    // Kept for the socket's lifetime (not once): an error after settling must not become an uncaught exception.
    socket.on('error', (err) => {
      const e = classifySocketError(err, connected ? 'body' : 'connect', where);
      finish(
        connected
          ? probeFailure(e.reason, `TCP exchange with ${where} failed after connecting: ${err.message}`, elapsed())
          : probeFailure(e.reason, e.message, elapsed()),
      );
    });
    socket.connect({ host: target.address, port: target.port });
  });
}
