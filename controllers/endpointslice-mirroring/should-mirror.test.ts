import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Endpoints, Service } from '../../api/core/v1.ts';
import { ANNOTATION_LEADER, LABEL_SKIP_MIRROR } from '../../api/labels.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { type MirroringDecision, mirroringDecision, shouldMirror } from './should-mirror.ts';

const endpoints = (labels?: Record<string, string>, annotations?: Record<string, string>): Endpoints =>
  deepFreeze({ metadata: { name: 'test-endpoints', namespace: 'ns', labels, annotations } });
const plain = endpoints();
const service = (selector?: Record<string, string>, type?: string): Service =>
  deepFreeze({ metadata: { name: 'test-endpoints', namespace: 'ns' }, spec: { selector, type } });

describe('shouldMirror (upstream TestShouldMirror)', () => {
  const cases: { name: string; given: Endpoints; want: boolean }[] = [
    { name: 'Standard Endpoints', given: endpoints(), want: true },
    { name: 'Endpoints with skip-mirror=true', given: endpoints({ [LABEL_SKIP_MIRROR]: 'true' }), want: false },
    { name: 'Endpoints with skip-mirror=invalid', given: endpoints({ [LABEL_SKIP_MIRROR]: 'invalid' }), want: true },
    { name: 'Endpoints with skip-mirror=false', given: endpoints({ [LABEL_SKIP_MIRROR]: 'false' }), want: true },
    { name: 'Endpoints with skip-mirror=True is not "true"', given: endpoints({ [LABEL_SKIP_MIRROR]: 'True' }), want: true },
    {
      name: 'Endpoints with leader election annotation (empty value)',
      given: endpoints(undefined, { [ANNOTATION_LEADER]: '' }),
      want: false,
    },
  ];
  for (const c of cases) it(c.name, () => assert.equal(shouldMirror(c.given), c.want));
});

describe('mirroringDecision', () => {
  const cases: { name: string; given: { endpoints?: Endpoints; service?: Service }; want: MirroringDecision }[] = [
    { name: 'selector-less Service mirrors', given: { endpoints: plain, service: service() }, want: { mirror: true, endpoints: plain } },
    {
      name: 'Service type is not checked (ExternalName still mirrors)',
      given: { endpoints: plain, service: service(undefined, 'ExternalName') },
      want: { mirror: true, endpoints: plain },
    },
    { name: 'missing Endpoints', given: { service: service() }, want: { mirror: false, reason: 'EndpointsNotFound' } },
    {
      name: 'skip-mirror label',
      given: { endpoints: endpoints({ [LABEL_SKIP_MIRROR]: 'true' }), service: service() },
      want: { mirror: false, reason: 'SkipMirrorLabel' },
    },
    {
      name: 'leader-election lock',
      given: { endpoints: endpoints(undefined, { [ANNOTATION_LEADER]: '{}' }), service: service() },
      want: { mirror: false, reason: 'LeaderElectionLock' },
    },
    { name: 'missing Service', given: { endpoints: endpoints() }, want: { mirror: false, reason: 'ServiceNotFound' } },
    {
      name: 'Service with a selector',
      given: { endpoints: endpoints(), service: service({ foo: 'bar' }) },
      want: { mirror: false, reason: 'ServiceHasSelector' },
    },
    {
      name: 'an empty selector is a selector',
      given: { endpoints: endpoints(), service: service({}) },
      want: { mirror: false, reason: 'ServiceHasSelector' },
    },
    {
      name: 'the Endpoints checks come before the Service checks',
      given: { endpoints: endpoints({ [LABEL_SKIP_MIRROR]: 'true' }) },
      want: { mirror: false, reason: 'SkipMirrorLabel' },
    },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(mirroringDecision(c.given.endpoints, c.given.service), c.want));
});
