import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BARRIER_MIRRORED, BARRIER_SERVICE, barrierIp, barrierMissing } from './barrier.ts';

// The barrier passes only when all three controllers show the step's barrier inputs; a cluster one step behind, or
// one controller behind, must not pass.

const mirroredIp = (n: number) => barrierIp(n).replace(/^10\.255\./, '10.254.');
const ep = (step: number, ip: string) => ({
  metadata: { name: BARRIER_SERVICE, labels: { 'parity.test/step': String(step) } },
  subsets: [{ addresses: [{ ip }] }],
});
const slice = (svc: string, manager: string, step: number, ip: string) => ({
  metadata: {
    name: `${svc}-x`,
    labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': manager, 'parity.test/step': String(step) },
  },
  endpoints: [{ addresses: [ip] }],
});
const all = (n: number) => ({
  endpoints: [ep(n, barrierIp(n))],
  slices: [
    slice(BARRIER_SERVICE, 'endpointslice-controller.k8s.io', n, barrierIp(n)),
    slice(BARRIER_MIRRORED, 'endpointslicemirroring-controller.k8s.io', n, mirroredIp(n)),
  ],
});

describe('barrierMissing', () => {
  it('passes when every controller shows step n', () => {
    const { endpoints, slices } = all(3);
    assert.deepEqual(barrierMissing(endpoints, slices, 3), []);
  });
  it('names every controller still on the previous step', () => {
    const { endpoints, slices } = all(2);
    assert.deepEqual(barrierMissing(endpoints, slices, 3), [
      'endpoints-controller',
      'endpointslice-controller',
      'endpointslice-mirroring-controller',
    ]);
  });
  it('needs both the label (Service event) and the IP (Pod or Endpoints event)', () => {
    const { slices } = all(3);
    assert.deepEqual(barrierMissing([ep(3, barrierIp(2))], slices, 3), ['endpoints-controller']);
    const labelOnly = [slices[0], slice(BARRIER_MIRRORED, 'endpointslicemirroring-controller.k8s.io', 3, mirroredIp(2))].filter(
      (s) => s !== undefined,
    );
    assert.deepEqual(barrierMissing([ep(3, barrierIp(3))], labelOnly, 3), ['endpointslice-mirroring-controller']);
  });
  it('does not take a slice from another manager as proof', () => {
    const { endpoints } = all(3);
    const slices = [
      slice(BARRIER_SERVICE, 'someone-else', 3, barrierIp(3)),
      slice(BARRIER_MIRRORED, 'endpointslicemirroring-controller.k8s.io', 3, mirroredIp(3)),
    ];
    assert.deepEqual(barrierMissing(endpoints, slices, 3), ['endpointslice-controller']);
  });
});
