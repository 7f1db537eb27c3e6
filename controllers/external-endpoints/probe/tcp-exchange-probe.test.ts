import assert from 'node:assert/strict';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { FakeClock, realClock } from '../../runtime/clock.ts';
import { MAX_TCP_EXPECT_READ_BYTES } from '../../../api/v1alpha1/external-endpoints.ts';
import { AnswerPattern } from './answer-pattern.ts';
import { NetProber } from './net-prober.ts';
import type { TcpExchange, TcpProbeSpec } from './prober.ts';
import { answerExcerpt, decodeSendText, exchangeVerdict, tcpExchangeProbe } from './tcp-exchange-probe.ts';

describe('decodeSendText', () => {
  const cases: readonly (readonly [string, readonly number[]])[] = [
    ['', []],
    ['PING\\r\\n', [0x50, 0x49, 0x4e, 0x47, 0x0d, 0x0a]],
    ['a\\tb\\0', [0x61, 0x09, 0x62, 0x00]],
    ['\\\\x', [0x5c, 0x78]],
    ['\\x00\\xff\\xAb', [0x00, 0xff, 0xab]],
    ['é', [0xc3, 0xa9]],
    ['é\\n', [0xc3, 0xa9, 0x0a]],
  ];
  for (const [text, bytes] of cases) {
    it(`${JSON.stringify(text)} -> [${bytes.join(' ')}]`, () => {
      assert.deepEqual([...decodeSendText(text)], bytes);
    });
  }
  for (const bad of ['\\', 'a\\q', '\\x1', '\\xzz', '\\u0041']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => decodeSendText(bad), /invalid escape/);
    });
  }
});

describe('exchangeVerdict', () => {
  const ex = (expect: RegExp | string, maxReadBytes = 16): TcpExchange => ({
    send: new Uint8Array(0),
    expect: AnswerPattern.compile(typeof expect === 'string' ? expect : expect.source),
    maxReadBytes,
  });
  const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
  const cases: readonly (readonly [string, string, TcpExchange, boolean, string])[] = [
    ['a match', '+PONG\r\n', ex(/^\+PONG/), false, 'Matched'],
    ['a partial answer', '+PO', ex(/^\+PONG/), false, 'ReadMore'],
    ['a partial answer, then close', '+PO', ex(/^\+PONG/), true, 'ClosedEarly'],
    ['nothing, then close', '', ex(/./), true, 'ClosedEarly'],
    ['the limit reached without a match', 'x'.repeat(16), ex(/PONG/), false, 'TooLong'],
    ['a match on the read that reaches the limit', 'xxxxxxxxxxxxPONG', ex(/PONG/), false, 'Matched'],
    ['a match on the read before the close', 'OK', ex(/OK/), true, 'Matched'],
    ['binary, one character per byte', '\x00\xff\x10', ex(String.raw`^\x00\xff`), false, 'Matched'],
    ['searched anywhere, as RegExp.test', 'xxOKxx', ex(/OK/), false, 'Matched'],
  ];
  for (const [name, received, exchange, ended, verdict] of cases) {
    it(name, () => {
      assert.equal(exchangeVerdict(bytes(received), exchange, ended), verdict);
      // The same verdict twice: the pattern keeps no state between reads.
      assert.equal(exchangeVerdict(bytes(received), exchange, ended), verdict);
    });
  }

  // `^(a+)+$` on "aaa...ab" takes JavaScript's backtracking RegExp 2^n steps (hours at n = 40); a backend's answer and
  // a user's pattern must not be able to stall the operator's event loop. RE2 answers in linear time.
  it('matches a pattern that backtracks catastrophically in JavaScript in linear time, on the largest answer', { timeout: 5000 }, () => {
    const answer = `${'a'.repeat(MAX_TCP_EXPECT_READ_BYTES - 1)}b`;
    assert.equal(exchangeVerdict(bytes(answer), ex(/^(a+)+$/, MAX_TCP_EXPECT_READ_BYTES), false), 'TooLong');
    assert.equal(exchangeVerdict(bytes('a'.repeat(40) + 'b'), ex(/^(a+)+$/, 64), true), 'ClosedEarly');
  });
});

describe('answerExcerpt', () => {
  it('escapes control and non-ASCII bytes and cuts long answers', () => {
    assert.equal(answerExcerpt(Uint8Array.from(Buffer.from('-ERR x\r\n', 'latin1'))), '"-ERR x\\x0d\\x0a"');
    assert.equal(answerExcerpt(Uint8Array.from([0xff, 0x22])), '"\\xff\\x22"');
    assert.equal(answerExcerpt(Uint8Array.from(Buffer.from('abcdef')), 3), '"abc"...');
  });
});

// Real sockets on 127.0.0.1 (the probe itself; the end-to-end test uses a test host in a network namespace).
async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('tcpExchangeProbe', () => {
  const sockets = new Set<Socket>();
  const received: Buffer[] = [];
  // Answers by the first line received: PING -> +PONG (in two writes); FLOOD -> 64 KiB; BYE -> "-ERR" and close;
  // WEDGED -> "-LOADING", connection kept open; SILENT -> nothing.
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = '';
    s.on('data', (d: Buffer) => {
      received.push(d);
      buf += d.toString('latin1');
      if (!buf.includes('\n')) return;
      if (buf.startsWith('PING')) {
        s.write('+PO');
        setTimeout(() => s.write('NG\r\n'), 20);
      } else if (buf.startsWith('FLOOD')) s.write(Buffer.alloc(64 * 1024, 0x61));
      else if (buf.startsWith('BYE')) s.end('-ERR bye\r\n');
      else if (buf.startsWith('WEDGED')) s.write('-LOADING\r\n');
    });
  });
  let port = 0;
  before(async () => {
    port = await listen(server);
  });
  after(() => server.close());
  const target = () => ({ address: '127.0.0.1', port });
  const spec = (send: string, expect: RegExp, maxReadBytes = 1024, timeoutMs = 2000): TcpProbeSpec & { exchange: TcpExchange } => ({
    type: 'TCP',
    timeoutMs,
    exchange: { send: decodeSendText(send), expect: AnswerPattern.compile(expect.source), maxReadBytes },
  });
  const settled = async () => {
    for (let i = 0; i < 100 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(sockets.size, 0, 'the server still holds the probe connection');
  };

  it('writes the bytes and succeeds when the answer matches, across reads', async () => {
    received.length = 0;
    const result = await tcpExchangeProbe(target(), spec('PING\\r\\n', /^\+PONG\r\n/), new AbortController().signal, realClock);
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.equal(Buffer.concat(received).toString('latin1'), 'PING\r\n');
    await settled();
  });

  it('fails with UnexpectedAnswer when the peer closes without a match', async () => {
    const result = await tcpExchangeProbe(target(), spec('BYE\\n', /^\+OK/), new AbortController().signal, realClock);
    assert.equal(result.ok ? 'ok' : result.error.reason, 'UnexpectedAnswer');
    assert.match(
      result.ok ? '' : result.error.message,
      /closed the connection after 10 bytes without a match of \^\\\+OK: "-ERR bye\\x0d\\x0a"/,
    );
    await settled();
  });

  it('stops reading at maxReadBytes', async () => {
    const result = await tcpExchangeProbe(target(), spec('FLOOD\\n', /b/, 100), new AbortController().signal, realClock);
    assert.equal(result.ok ? 'ok' : result.error.reason, 'UnexpectedAnswer');
    assert.match(result.ok ? '' : result.error.message, /sent 100 bytes without a match of b/);
    await settled();
  });

  it('reports Timeout when no matching answer comes in time, and destroys the socket', async () => {
    const clock = new FakeClock();
    const pending = tcpExchangeProbe(target(), spec('SILENT\\n', /x/, 1024, 500), new AbortController().signal, clock);
    await new Promise((r) => setTimeout(r, 100));
    await clock.advance(500);
    const result = await pending;
    assert.equal(result.ok ? 'ok' : result.error.reason, 'Timeout');
    assert.match(result.ok ? '' : result.error.message, /127\.0\.0\.1:\d+ sent no answer within 500ms/);
    assert.equal(clock.pendingTimers(), 0);
    await settled();
  });

  it('reports UnexpectedAnswer, with the answer, when an answer came but no match by the timeout', async () => {
    const result = await tcpExchangeProbe(target(), spec('WEDGED\\n', /^\+PONG/, 1024, 1000), new AbortController().signal, realClock);
    assert.equal(result.ok ? 'ok' : result.error.reason, 'UnexpectedAnswer');
    assert.match(result.ok ? '' : result.error.message, /answered "-LOADING\\x0d\\x0a", which did not match \^\\\+PONG within 1000ms/);
    await settled();
  });

  it('reports Aborted at once when the signal aborts', async () => {
    const ac = new AbortController();
    const clock = new FakeClock();
    const pending = tcpExchangeProbe(target(), spec('SILENT\\n', /x/), ac.signal, clock);
    ac.abort();
    assert.equal(((r) => (r.ok ? 'ok' : r.error.reason))(await pending), 'Aborted');
    assert.equal(clock.pendingTimers(), 0);
    await settled();
  });

  it('is what NetProber runs for a TCP spec with an exchange', async () => {
    const result = await new NetProber().probe(target(), spec('BYE\\n', /^-ERR/), new AbortController().signal);
    assert.equal(result.ok, true);
    await settled();
  });
});
