import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStatTicks, parseStatusKb, sampleProcess } from './proc-stats.ts';

describe('parseStatTicks', () => {
  const cases = [
    {
      name: 'sums utime and stime (fields 14 and 15)',
      given: '1234 (node) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 100 1000 200',
      want: 300,
    },
    {
      name: 'counts fields from the last parenthesis, so a command name with spaces and parentheses is fine',
      given: '99 (kube (x) y) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 10 2',
      want: 10,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(parseStatTicks(Object.freeze(c.given)), c.want));

  it('refuses a line without a command name', () => assert.throws(() => parseStatTicks('garbage'), /malformed/));
});

describe('parseStatusKb', () => {
  const status = 'Name:\tnode\nVmPeak:\t  900 kB\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n';
  it('reads VmHWM and VmRSS in bytes', () => {
    assert.equal(parseStatusKb(status, 'VmHWM'), 2048 * 1024);
    assert.equal(parseStatusKb(status, 'VmRSS'), 1024 * 1024);
  });
  it('gives 0 for a missing field (a zombie has no memory lines)', () => assert.equal(parseStatusKb('Name:\tx\n', 'VmHWM'), 0));
});

describe('sampleProcess', () => {
  it('reads this very process: some CPU used and a peak RSS at least the current one', async () => {
    const s = await sampleProcess(process.pid);
    assert.ok(s.cpuSeconds > 0);
    assert.ok(s.peakRssBytes >= s.rssBytes && s.rssBytes > 0);
  });
});
