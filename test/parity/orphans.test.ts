import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import { findOrphans, type ServiceObjects } from './orphans.ts';

const service = (name: string, uid: string, selector?: Record<string, string>): Service => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, uid },
  spec: { ...(selector ? { selector } : {}), ports: [{ port: 80, protocol: 'TCP' }] },
});
const endpoints = (name: string, managed: boolean): Endpoints => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name, uid: `u-ep-${name}`, labels: managed ? { 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' } : {} },
});
const slice = (
  name: string,
  svc: string,
  uid: string,
  ips: string[],
  managedBy = 'endpointslice-controller.k8s.io',
  ownerKind = managedBy === 'endpointslice-controller.k8s.io' ? 'Service' : 'Endpoints',
): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: {
    name,
    labels: { 'kubernetes.io/service-name': svc, 'endpointslice.kubernetes.io/managed-by': managedBy },
    ownerReferences: [{ apiVersion: 'v1', kind: ownerKind, name: svc, uid, controller: true, blockOwnerDeletion: true }],
  },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
});

const clean: ServiceObjects = {
  services: [service('web', 'u-web', { app: 'web' }), service('ext', 'u-ext')],
  endpoints: [endpoints('web', true), endpoints('ext', false)],
  slices: [
    slice('web-1', 'web', 'u-web', ['10.0.0.1', '10.0.0.2']),
    slice('web-2', 'web', 'u-web', ['10.0.0.3']),
    slice('ext-1', 'ext', 'u-ep-ext', ['10.1.0.1'], 'endpointslicemirroring-controller.k8s.io'),
  ],
};

describe('findOrphans', () => {
  it('finds nothing in a clean namespace', () => {
    assert.deepEqual(findOrphans(clean), []);
  });

  const cases: { name: string; objs: ServiceObjects; want: RegExp }[] = [
    {
      name: 'a slice whose Service is gone',
      objs: { ...clean, services: clean.services.filter((s) => s.metadata.name !== 'web') },
      want: /slice web-1: its Service "web" does not exist/,
    },
    {
      name: 'a slice owned by an earlier Service of the same name',
      objs: { ...clean, slices: [...clean.slices, slice('web-3', 'web', 'u-old', ['10.0.0.4'])] },
      want: /slice web-3: owner Service\/web uid u-old is not Service web uid u-web/,
    },
    {
      name: 'a mirrored slice owned by the Service rather than the Endpoints it mirrors',
      objs: { ...clean, slices: [slice('ext-1', 'ext', 'u-ext', ['10.1.0.1'], 'endpointslicemirroring-controller.k8s.io', 'Service')] },
      want: /slice ext-1: owner Service\/ext uid u-ext is not Endpoints ext uid u-ep-ext/,
    },
    {
      name: 'the same endpoint in two slices (a duplicate left by the other implementation)',
      objs: { ...clean, slices: [...clean.slices, slice('web-3', 'web', 'u-web', ['10.0.0.2'])] },
      want: /slices web-1 and web-3: both list 10.0.0.2 for web/,
    },
    {
      name: 'a managed-by value that is not upstream',
      objs: { ...clean, slices: [slice('web-1', 'web', 'u-web', ['10.0.0.1'], 'kube-endpoints-operator')] },
      want: /slice web-1: managed-by "kube-endpoints-operator" is neither of upstream's/,
    },
    {
      name: 'a mirrored slice for a Service with a selector',
      objs: { ...clean, slices: [slice('web-1', 'web', 'u-web', ['10.0.0.1'], 'endpointslicemirroring-controller.k8s.io')] },
      want: /slice web-1: mirrored, but Service web has a selector/,
    },
    {
      name: 'a controller-made slice for a selectorless Service',
      objs: { ...clean, slices: [slice('ext-1', 'ext', 'u-ext', ['10.1.0.1'])] },
      want: /slice ext-1: made by the EndpointSlice controller, but Service ext has no selector/,
    },
    {
      name: 'a managed Endpoints object whose Service lost its selector',
      objs: { ...clean, endpoints: [...clean.endpoints, endpoints('gone', true)] },
      want: /endpoints gone: managed by the endpoints controller, but no Service with a selector/,
    },
  ];
  for (const c of cases) {
    it(`reports ${c.name}`, () => {
      const problems = findOrphans(c.objs);
      assert.ok(
        problems.some((p) => c.want.test(p)),
        `want ${c.want}, got ${JSON.stringify(problems)}`,
      );
    });
  }
});
