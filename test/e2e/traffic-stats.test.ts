import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countByPod, enteredRotationAt, leftRotationAt, parseTraffic, percentile } from './traffic-stats.ts';

const log = [
  'OK 100 pod=a namespace=n node=x client=1.2.3.4',
  'ERR 110 ECONNREFUSED',
  'OK 120 pod=b namespace=n',
  'DONE',
  'OK 130 pod=a',
  'OK 140 pod=b',
  'OK 150 pod=b',
].join('\n');

describe('traffic stats', () => {
  it('parses OK and ERR lines and skips others', () => {
    assert.deepEqual(
      parseTraffic(log).map((r) => [r.atMs, r.pod, r.error]),
      [
        [100, 'a', undefined],
        [110, undefined, 'ECONNREFUSED'],
        [120, 'b', undefined],
        [130, 'a', undefined],
        [140, 'b', undefined],
        [150, 'b', undefined],
      ],
    );
  });

  it('counts requests per pod and errors', () => {
    assert.deepEqual(countByPod(parseTraffic(log)), { perPod: { a: 2, b: 3 }, errors: 1 });
  });

  for (const [name, since, quiet, want] of [
    ['after the last hit, with enough quiet answers', 0, 2, 140],
    ['not yet, when too few answers followed', 0, 3, undefined],
    ['the first answer, when the pod never answered since', 135, 1, 140],
  ] as const) {
    it(`leftRotationAt: ${name}`, () => assert.equal(leftRotationAt(parseTraffic(log), 'a', since, quiet), want));
  }

  it('enteredRotationAt finds the first answer of the pod since a time', () => {
    assert.equal(enteredRotationAt(parseTraffic(log), 'a', 101), 130);
    assert.equal(enteredRotationAt(parseTraffic(log), 'a', 131), undefined);
  });

  for (const [samples, p, want] of [
    [[], 50, undefined],
    [[5], 99, 5],
    [[4, 1, 3, 2], 50, 2],
    [[4, 1, 3, 2], 99, 4],
    [[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90, 90],
  ] as const) {
    it(`percentile p${p} of [${samples.join(',')}] is ${want}`, () => assert.equal(percentile(samples, p), want));
  }
});
