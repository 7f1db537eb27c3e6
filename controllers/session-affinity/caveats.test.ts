import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import type { Affinity } from './affinity.ts';
import { affinityWarnings } from './caveats.ts';
import { CLIENT_IP, NONE, service } from './test-fixtures.ts';

describe('affinityWarnings (data-plane and provider caveats, F9)', () => {
  const cases: {
    name: string;
    given: { affinity: Affinity; services: Service[] };
    want: string[];
  }[] = [
    {
      name: 'None has no caveats',
      given: {
        affinity: NONE,
        services: [service('a', { ports: 2, type: 'LoadBalancer' })],
      },
      want: [],
    },
    {
      name: 'a plain one-port ClusterIP Service has none',
      given: { affinity: CLIENT_IP(3600), services: [service('a')] },
      want: [],
    },
    {
      name: 'multi-port Services: per port versus per Service',
      given: {
        affinity: CLIENT_IP(3600),
        services: [service('b', { ports: 2 }), service('a', { ports: 3 }), service('c')],
      },
      want: [
        'Services a, b have several ports: ClientIP affinity is kept per port under iptables, nftables and Cilium (a client can reach different backends on different ports) but per Service under IPVS',
      ],
    },
    {
      name: 'a LoadBalancer Service: providers that refuse ClientIP',
      given: {
        affinity: CLIENT_IP(3600),
        services: [service('lb', { type: 'LoadBalancer' })],
      },
      want: [
        "Service lb is type LoadBalancer: some cloud load balancers (AWS ELB and NLB, OCI) refuse ClientIP affinity and then fail to provision or update; check the Service's events",
      ],
    },
    {
      name: 'externalTrafficPolicy Local: per-node affinity',
      given: {
        affinity: CLIENT_IP(3600),
        services: [service('np', { type: 'NodePort', externalTrafficPolicy: 'Local' })],
      },
      want: [
        'Service np has externalTrafficPolicy Local: each node keeps its own affinity, so an external client that arrives through different nodes can reach different backends',
      ],
    },
    {
      name: 'one day: above the OVN and Antrea caps',
      given: { affinity: CLIENT_IP(86400), services: [] },
      want: [
        'timeoutSeconds 86400 is above what some data planes keep: OVN-Kubernetes caps affinity at about 18 hours (64800s) and treats 86400 as no expiry; Antrea supports at most 65535',
      ],
    },
    {
      name: '65000 s: above the OVN cap only',
      given: { affinity: CLIENT_IP(65000), services: [] },
      want: [
        'timeoutSeconds 65000 is above what some data planes keep: OVN-Kubernetes caps affinity at about 18 hours (64800s) and treats 86400 as no expiry',
      ],
    },
    {
      name: 'a short timeout: IPVS TIME_WAIT stretches it',
      given: { affinity: CLIENT_IP(30), services: [] },
      want: [
        'timeoutSeconds 30 is shorter than TIME_WAIT: under IPVS an affinity lasts while its connections linger (about 2 minutes), so it outlives the timeout',
      ],
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(affinityWarnings(c.given.affinity, deepFreeze(c.given.services)), c.want));

  it('names at most ten Services and counts the rest', () => {
    const services = deepFreeze(Array.from({ length: 12 }, (_, i) => service(`s${String(i).padStart(2, '0')}`, { ports: 2 })));
    const [w] = affinityWarnings(CLIENT_IP(3600), services);
    assert.match(w ?? '', /^Services s00, s01, s02, s03, s04, s05, s06, s07, s08, s09 \(\+2 more\) have several ports/);
  });

  it('reports the caveats in a fixed order', () => {
    const got = affinityWarnings(
      CLIENT_IP(60),
      deepFreeze([
        service('x', {
          ports: 2,
          type: 'LoadBalancer',
          externalTrafficPolicy: 'Local',
        }),
      ]),
    );
    assert.deepEqual(
      got.map((w) => w.split(' ').slice(0, 3).join(' ')),
      ['timeoutSeconds 60 is', 'Service x has', 'Service x is', 'Service x has'],
    );
  });
});
