import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EndpointSubset } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { endpointPortHash, endpointSubsetHash, repackSubsets } from './repack.ts';

// Every `want` below was produced by upstream's own RepackSubsets (k8s.io/kubernetes v1.36.4,
// pkg/api/v1/endpoints, FNV-1a-128 over dump.ForHash) run on the same `given`, encoded with Go's encoding/json.
// Go omits empty strings in JSON, so the comparison treats a missing string field as "" (nodeName, a pointer, is kept).
const cases: { name: string; given: EndpointSubset[]; want: EndpointSubset[] }[] = [
  {
    name: 'identical single-address subsets are de-duplicated',
    given: [
      {
        addresses: [{ ip: '1.2.3.4', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'u1' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '1.2.3.4', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'u1' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
    want: [
      {
        addresses: [{ ip: '1.2.3.4', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'a', uid: 'u1' } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ],
  },
  {
    name: 'same IP with different targetRef UIDs are distinct addresses',
    given: [
      { addresses: [{ ip: '1.2.3.4', targetRef: { kind: 'Pod', name: 'a', uid: 'u1' } }], ports: [{ port: 80 }] },
      { addresses: [{ ip: '1.2.3.4', targetRef: { kind: 'Pod', name: 'b', uid: 'u2' } }], ports: [{ port: 80 }] },
    ],
    want: [
      {
        addresses: [
          { ip: '1.2.3.4', targetRef: { kind: 'Pod', name: 'a', uid: 'u1' } },
          { ip: '1.2.3.4', targetRef: { kind: 'Pod', name: 'b', uid: 'u2' } },
        ],
        ports: [{ port: 80 }],
      },
    ],
  },
  {
    name: 'not ready wins over ready for the same address and port',
    given: [
      { addresses: [{ ip: '1.2.3.4' }], ports: [{ port: 80 }] },
      { notReadyAddresses: [{ ip: '1.2.3.4' }], ports: [{ port: 80 }] },
      { addresses: [{ ip: '1.2.3.4' }], ports: [{ port: 80 }] },
    ],
    want: [{ notReadyAddresses: [{ ip: '1.2.3.4' }], ports: [{ port: 80 }] }],
  },
  {
    name: 'three pods serving two ports give one subset with both ports, addresses sorted by IP string',
    given: [
      {
        addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }],
        ports: [{ name: 'port0', port: 8080, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }],
        ports: [{ name: 'port1', port: 8088, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.2', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'u2' } }],
        ports: [{ name: 'port0', port: 8080, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.2', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'u2' } }],
        ports: [{ name: 'port1', port: 8088, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.10', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p3', uid: 'u3' } }],
        ports: [{ name: 'port0', port: 8080, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.10', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p3', uid: 'u3' } }],
        ports: [{ name: 'port1', port: 8088, protocol: 'TCP' }],
      },
    ],
    want: [
      {
        addresses: [
          { ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } },
          { ip: '10.0.0.10', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p3', uid: 'u3' } },
          { ip: '10.0.0.2', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'u2' } },
        ],
        ports: [
          { name: 'port1', port: 8088, protocol: 'TCP' },
          { name: 'port0', port: 8080, protocol: 'TCP' },
        ],
      },
    ],
  },
  {
    name: 'port-less subsets (headless without ports) survive with ports absent and group ready with not-ready',
    given: [
      { addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }], ports: [] },
      {
        notReadyAddresses: [{ ip: '10.0.0.2', nodeName: 'n', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'u2' } }],
        ports: [],
      },
    ],
    want: [
      {
        addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }],
        notReadyAddresses: [{ ip: '10.0.0.2', nodeName: 'n', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'u2' } }],
      },
    ],
  },
  {
    name: 'port-less addresses merge into a ported subset with the same address set',
    given: [{ addresses: [{ ip: '10.0.0.1' }] }, { addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 53, protocol: 'UDP' }] }],
    want: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 53, protocol: 'UDP' }] }],
  },
  {
    name: 'ports <= 0 are sentinels and dropped',
    given: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 0, name: 'zero' }, { port: -5 }, { port: 80 }] }],
    want: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }],
  },
  {
    name: 'addresses sort by IP bytes, then targetRef UID, without targetRef first',
    given: [
      {
        addresses: [
          { ip: '10.0.0.1', targetRef: { uid: 'b' } },
          { ip: '10.0.0.1', targetRef: { uid: 'a' } },
          { ip: '10.0.0.1' },
          { ip: '10.0.0.10' },
          { ip: '10.0.0.2' },
          { ip: 'fd00::2' },
          { ip: 'fd00::10' },
        ],
        ports: [{ port: 80 }],
      },
    ],
    want: [
      {
        addresses: [
          { ip: '10.0.0.1' },
          { ip: '10.0.0.1', targetRef: { uid: 'a' } },
          { ip: '10.0.0.1', targetRef: { uid: 'b' } },
          { ip: '10.0.0.10' },
          { ip: '10.0.0.2' },
          { ip: 'fd00::10' },
          { ip: 'fd00::2' },
        ],
        ports: [{ port: 80 }],
      },
    ],
  },
  {
    name: 'one address on three protocols: ports in upstream FNV hash order (tcp, sctp, udp)',
    given: [
      {
        addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }],
        ports: [{ name: 'tcp', port: 8080, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }],
        ports: [{ name: 'udp', port: 8080, protocol: 'UDP' }],
      },
      {
        addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }],
        ports: [{ name: 'sctp', port: 8080, protocol: 'SCTP' }],
      },
    ],
    want: [
      {
        addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }],
        ports: [
          { name: 'tcp', port: 8080, protocol: 'TCP' },
          { name: 'sctp', port: 8080, protocol: 'SCTP' },
          { name: 'udp', port: 8080, protocol: 'UDP' },
        ],
      },
    ],
  },
  {
    name: 'distinct address sets become subsets in upstream FNV hash order',
    given: [
      {
        addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }],
        ports: [{ name: 'a', port: 1000, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.2', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'u2' } }],
        ports: [{ name: 'a', port: 2000, protocol: 'TCP' }],
      },
      {
        notReadyAddresses: [{ ip: '10.0.0.3', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p3', uid: 'u3' } }],
        ports: [{ name: 'a', port: 1000, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.4', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p4', uid: 'u4' } }],
        ports: [{ name: 'a', port: 3000, protocol: 'TCP', appProtocol: 'http' }],
      },
    ],
    want: [
      {
        addresses: [{ ip: '10.0.0.2', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p2', uid: 'u2' } }],
        ports: [{ name: 'a', port: 2000, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.1', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'u1' } }],
        notReadyAddresses: [{ ip: '10.0.0.3', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p3', uid: 'u3' } }],
        ports: [{ name: 'a', port: 1000, protocol: 'TCP' }],
      },
      {
        addresses: [{ ip: '10.0.0.4', nodeName: '', targetRef: { kind: 'Pod', namespace: 'ns', name: 'p4', uid: 'u4' } }],
        ports: [{ name: 'a', port: 3000, protocol: 'TCP', appProtocol: 'http' }],
      },
    ],
  },
  {
    name: 'nothing in, nothing out',
    given: [],
    want: [],
  },
];

// Go's encoder drops "" strings (omitempty) except pointer fields; normalise both sides the same way.
function wire(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(wire);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.entries(v)
      .filter(([k, x]) => x !== undefined && !(x === '' && k !== 'nodeName'))
      .map(([k, x]) => [k, wire(x)]),
  );
}

describe('repackSubsets matches upstream RepackSubsets', () => {
  for (const c of cases) {
    it(c.name, () => {
      const got = repackSubsets(deepFreeze(c.given));
      assert.deepEqual(wire(got), wire(c.want));
    });
  }
});

describe('repackSubsets canonical form', () => {
  const pods = Array.from({ length: 6 }, (_, i) => ({
    ip: `10.0.${i % 3}.${i}`,
    nodeName: `node-${i % 2}`,
    targetRef: { kind: 'Pod', namespace: 'ns', name: `p${i}`, uid: `uid-${i}` },
  }));
  const raw: EndpointSubset[] = pods.flatMap((a, i) => [
    i % 2 === 0
      ? { addresses: [a], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }
      : { notReadyAddresses: [a], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    { addresses: [a], ports: [{ name: 'metrics', port: 9000 + (i % 2), protocol: 'TCP' }] },
  ]);

  it('is independent of input order', () => {
    const forward = repackSubsets(deepFreeze(structuredClone(raw)));
    const backward = repackSubsets(deepFreeze(structuredClone(raw).reverse()));
    assert.deepEqual(backward, forward);
  });

  it('is idempotent', () => {
    const once = repackSubsets(deepFreeze(structuredClone(raw)));
    assert.deepEqual(repackSubsets(deepFreeze(structuredClone(once))), once);
  });

  it('orders subsets by their hash and ports by theirs', () => {
    const got = repackSubsets(deepFreeze(structuredClone(raw)));
    const subsetHashes = got.map((s) => endpointSubsetHash(s));
    assert.deepEqual(subsetHashes, [...subsetHashes].sort());
    for (const s of got) {
      const portHashes = (s.ports ?? []).map((p) => endpointPortHash(p));
      assert.deepEqual(portHashes, [...portHashes].sort());
    }
    assert.ok(got.length > 1, 'the fixture must produce several subsets to exercise the order');
  });
});
