import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, Service } from '../../api/core/v1.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { type PodProjectionKey, podEndpointsChanged, podUpdateKey, servicesToUpdate } from './pod-service-mapping.ts';

function pod(overrides: {
  name?: string;
  rv?: string;
  labels?: Record<string, string>;
  ready?: boolean;
  ips?: string[];
  podIP?: string;
  deletion?: string;
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  phase?: string;
}): Pod {
  return {
    metadata: {
      name: overrides.name ?? 'pod1',
      namespace: 'ns',
      uid: 'uid-1',
      resourceVersion: overrides.rv ?? '1',
      ...(overrides.labels ? { labels: overrides.labels } : {}),
      ...(overrides.deletion ? { deletionTimestamp: overrides.deletion } : {}),
    },
    spec: {
      containers: [],
      ...(overrides.nodeName !== undefined ? { nodeName: overrides.nodeName } : {}),
      ...(overrides.hostname !== undefined ? { hostname: overrides.hostname } : {}),
      ...(overrides.subdomain !== undefined ? { subdomain: overrides.subdomain } : {}),
    },
    status: {
      phase: overrides.phase ?? 'Running',
      ...(overrides.podIP !== undefined ? { podIP: overrides.podIP } : {}),
      podIPs: (overrides.ips ?? ['10.0.0.1']).map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: overrides.ready === false ? 'False' : 'True' }],
    },
  };
}

const base = { labels: { app: 'a' } };

describe('podEndpointsChanged', () => {
  const cases: { name: string; given: [Pod, Pod]; want: { podChanged: boolean; labelsChanged: boolean } }[] = [
    { name: 'identical pods', given: [pod(base), pod(base)], want: { podChanged: false, labelsChanged: false } },
    { name: 'resourceVersion only', given: [pod(base), pod({ ...base, rv: '2' })], want: { podChanged: false, labelsChanged: false } },
    {
      name: 'nodeName change is not a change',
      given: [pod({ ...base, nodeName: 'a' }), pod({ ...base, nodeName: 'b' })],
      want: { podChanged: false, labelsChanged: false },
    },
    {
      name: 'phase change alone is not a change',
      given: [pod(base), pod({ ...base, phase: 'Failed' })],
      want: { podChanged: false, labelsChanged: false },
    },
    {
      name: 'singular podIP is not compared',
      given: [pod({ ...base, podIP: '10.0.0.1' }), pod({ ...base, podIP: '10.0.0.9' })],
      want: { podChanged: false, labelsChanged: false },
    },
    {
      name: 'podIPs value change',
      given: [pod(base), pod({ ...base, ips: ['10.0.0.2'] })],
      want: { podChanged: true, labelsChanged: false },
    },
    {
      name: 'podIPs length change',
      given: [pod(base), pod({ ...base, ips: ['10.0.0.1', 'fd00::1'] })],
      want: { podChanged: true, labelsChanged: false },
    },
    { name: 'readiness flips', given: [pod(base), pod({ ...base, ready: false })], want: { podChanged: true, labelsChanged: false } },
    {
      name: 'deletion timestamp set',
      given: [pod(base), pod({ ...base, deletion: '2024-01-01T00:00:00Z' })],
      want: { podChanged: true, labelsChanged: false },
    },
    {
      name: 'already terminating pod: every update is a change',
      given: [pod({ ...base, deletion: '2024-01-01T00:00:00Z' }), pod({ ...base, deletion: '2024-01-01T00:00:00Z' })],
      want: { podChanged: true, labelsChanged: false },
    },
    {
      name: 'label change',
      given: [pod(base), pod({ labels: { app: 'b' } })],
      want: { podChanged: false, labelsChanged: true },
    },
    { name: 'label added', given: [pod(base), pod({ labels: { app: 'a', x: 'y' } })], want: { podChanged: false, labelsChanged: true } },
    {
      name: 'hostname change counts as a label change',
      given: [pod(base), pod({ ...base, hostname: 'h' })],
      want: { podChanged: false, labelsChanged: true },
    },
    {
      name: 'subdomain change counts as a label change',
      given: [pod(base), pod({ ...base, subdomain: 's' })],
      want: { podChanged: false, labelsChanged: true },
    },
    {
      name: 'label and readiness change',
      given: [pod(base), pod({ labels: { app: 'b' }, ready: false })],
      want: { podChanged: true, labelsChanged: true },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const [a, b] = deepFreeze(c.given);
      assert.deepEqual(podEndpointsChanged(a, b), c.want);
    });
  }
});

describe('podUpdateKey', () => {
  const cases: { name: string; given: [Pod | undefined, Pod | undefined]; want: PodProjectionKey | undefined }[] = [
    { name: 'add', given: [undefined, pod(base)], want: { namespace: 'ns', labels: { app: 'a' }, podChanged: false } },
    { name: 'delete', given: [pod(base), undefined], want: { namespace: 'ns', labels: { app: 'a' }, podChanged: false } },
    { name: 'add of an unlabelled pod', given: [undefined, pod({})], want: { namespace: 'ns', labels: {}, podChanged: false } },
    { name: 'resync (same resourceVersion) is dropped', given: [pod(base), pod({ ...base, ready: false })], want: undefined },
    { name: 'irrelevant update is dropped', given: [pod(base), pod({ ...base, rv: '2', nodeName: 'n' })], want: undefined },
    {
      name: 'pod change without label change: new labels only',
      given: [pod(base), pod({ ...base, rv: '2', ready: false })],
      want: { namespace: 'ns', labels: { app: 'a' }, podChanged: false },
    },
    {
      name: 'label change only',
      given: [pod(base), pod({ labels: { app: 'b' }, rv: '2' })],
      want: { namespace: 'ns', labels: { app: 'b' }, oldLabels: { app: 'a' }, podChanged: false },
    },
    {
      name: 'label and pod change',
      given: [pod(base), pod({ labels: { app: 'b' }, rv: '2', ips: ['10.0.0.7'] })],
      want: { namespace: 'ns', labels: { app: 'b' }, oldLabels: { app: 'a' }, podChanged: true },
    },
    { name: 'nothing at all', given: [undefined, undefined], want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const [a, b] = deepFreeze(c.given);
      assert.deepEqual(podUpdateKey(a, b), c.want);
    });
  }
});

function svc(name: string, selector: Record<string, string> | undefined, namespace = 'ns'): Service {
  return { metadata: { name, namespace }, spec: selector === undefined ? {} : { selector } };
}

describe('servicesToUpdate', () => {
  const services = deepFreeze([
    svc('a', { app: 'a' }),
    svc('b', { app: 'b' }),
    svc('ab', { tier: 'web' }),
    svc('all', {}),
    svc('none', undefined),
    svc('other-ns', { app: 'a' }, 'other'),
  ]);
  const cases: { name: string; given: PodProjectionKey; want: string[] }[] = [
    {
      name: 'add: matching services, empty selector matches all, nil matches none, other namespaces ignored',
      given: { namespace: 'ns', labels: { app: 'a' }, podChanged: false },
      want: ['ns/a', 'ns/all'],
    },
    {
      name: 'selector requires every key',
      given: { namespace: 'ns', labels: { app: 'b', tier: 'web' }, podChanged: false },
      want: ['ns/ab', 'ns/all', 'ns/b'],
    },
    {
      name: 'relabel only: symmetric difference',
      given: { namespace: 'ns', labels: { app: 'b' }, oldLabels: { app: 'a' }, podChanged: false },
      want: ['ns/a', 'ns/b'],
    },
    {
      name: 'relabel and pod change: union',
      given: { namespace: 'ns', labels: { app: 'b' }, oldLabels: { app: 'a' }, podChanged: true },
      want: ['ns/a', 'ns/all', 'ns/b'],
    },
    {
      name: 'relabel that changes no membership: nothing',
      given: { namespace: 'ns', labels: { app: 'a', x: '1' }, oldLabels: { app: 'a' }, podChanged: false },
      want: [],
    },
    {
      name: 'relabel that changes no membership but the pod changed: all matches',
      given: { namespace: 'ns', labels: { app: 'a', x: '1' }, oldLabels: { app: 'a' }, podChanged: true },
      want: ['ns/a', 'ns/all'],
    },
    {
      name: 'namespace without services',
      given: { namespace: 'empty', labels: { app: 'a' }, podChanged: false },
      want: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(servicesToUpdate(services, deepFreeze(c.given)), c.want);
    });
  }
});
