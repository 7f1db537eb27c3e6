import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Endpoints, Service } from '../../api/core/v1.ts';
import type { EndpointSlice } from '../../api/discovery/v1.ts';
import {
  ANNOTATION_LEADER,
  LABEL_MANAGED_BY,
  LABEL_SERVICE_NAME,
  LABEL_SKIP_MIRROR,
  MANAGED_BY_MIRRORING_CONTROLLER,
} from '../../api/labels.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { endpointSliceEventHandler, endpointsEventHandler, type MirroringQueue, serviceEventHandler } from './handlers.ts';
import { EndpointSliceTracker } from '../shared/endpoint-slice-tracker.ts';

type Enqueued = ['now', string] | ['after', string, number];
class RecordingQueue implements MirroringQueue {
  readonly items: Enqueued[] = [];
  enqueue(key: string): void {
    this.items.push(['now', key]);
  }
  enqueueAfter(key: string, delayMs: number): void {
    this.items.push(['after', key, delayMs]);
  }
}

const endpoints = (labels?: Record<string, string>, annotations?: Record<string, string>): Endpoints =>
  deepFreeze({ metadata: { name: 'ep', namespace: 'ns', labels, annotations } });
const skip = endpoints({ [LABEL_SKIP_MIRROR]: 'true' });
const lock = endpoints(undefined, { [ANNOTATION_LEADER]: '' });
const plain = endpoints();

describe('endpointsEventHandler', () => {
  const cases: { name: string; given: (h: ReturnType<typeof endpointsEventHandler>) => void; want: Enqueued[] }[] = [
    { name: 'add of a mirrorable Endpoints enqueues at once', given: (h) => h.onAdd?.(plain), want: [['now', 'ns/ep']] },
    { name: 'add with skip-mirror does not', given: (h) => h.onAdd?.(skip), want: [] },
    { name: 'add of a leader-election lock does not', given: (h) => h.onAdd?.(lock), want: [] },
    { name: 'update where only the old one mirrors (label added)', given: (h) => h.onUpdate?.(plain, skip), want: [['now', 'ns/ep']] },
    { name: 'update where only the new one mirrors (label removed)', given: (h) => h.onUpdate?.(skip, plain), want: [['now', 'ns/ep']] },
    { name: 'update where neither mirrors', given: (h) => h.onUpdate?.(skip, lock), want: [] },
    { name: 'delete of a mirrorable Endpoints', given: (h) => h.onDelete?.(plain, true), want: [['now', 'ns/ep']] },
    { name: 'delete with skip-mirror', given: (h) => h.onDelete?.(skip, false), want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const q = new RecordingQueue();
      c.given(endpointsEventHandler(q));
      assert.deepEqual(q.items, c.want);
    });
  }
});

describe('serviceEventHandler', () => {
  const svc = (selector?: Record<string, string>): Service => deepFreeze({ metadata: { name: 'ep', namespace: 'ns' }, spec: { selector } });
  const cases: { name: string; given: (h: ReturnType<typeof serviceEventHandler>) => void; want: Enqueued[] }[] = [
    { name: 'add without selector', given: (h) => h.onAdd?.(svc()), want: [['now', 'ns/ep']] },
    { name: 'add with selector', given: (h) => h.onAdd?.(svc({ a: 'b' })), want: [] },
    { name: 'update: selector added', given: (h) => h.onUpdate?.(svc(), svc({ a: 'b' })), want: [['now', 'ns/ep']] },
    { name: 'update: selector removed', given: (h) => h.onUpdate?.(svc({ a: 'b' }), svc()), want: [['now', 'ns/ep']] },
    { name: 'update: selector changed but still set', given: (h) => h.onUpdate?.(svc({ a: 'b' }), svc({ a: 'c' })), want: [] },
    { name: 'update: no selector before or after (resync)', given: (h) => h.onUpdate?.(svc(), svc()), want: [] },
    { name: 'delete without selector', given: (h) => h.onDelete?.(svc(), false), want: [['now', 'ns/ep']] },
    { name: 'delete with selector', given: (h) => h.onDelete?.(svc({}), false), want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const q = new RecordingQueue();
      c.given(serviceEventHandler(q));
      assert.deepEqual(q.items, c.want);
    });
  }
});

describe('endpointSliceEventHandler', () => {
  const mirrored = (over: { service?: string | undefined; generation?: number; managedBy?: string } = {}): EndpointSlice =>
    deepFreeze({
      metadata: {
        name: 'ep-abcde',
        namespace: 'ns',
        uid: 'u1',
        generation: over.generation ?? 1,
        labels: {
          [LABEL_MANAGED_BY]: over.managedBy ?? MANAGED_BY_MIRRORING_CONTROLLER,
          ...('service' in over && over.service === undefined ? {} : { [LABEL_SERVICE_NAME]: over.service ?? 'ep' }),
        },
      },
      addressType: 'IPv4',
    });
  const foreign = mirrored({ managedBy: 'endpointslice-controller.k8s.io' });
  const cases: {
    name: string;
    given: { tracked?: EndpointSlice; expectDeletion?: EndpointSlice; event: (h: ReturnType<typeof endpointSliceEventHandler>) => void };
    want: Enqueued[];
  }[] = [
    {
      name: 'add of an unknown mirrored slice is delayed by the batch period',
      given: { event: (h) => h.onAdd?.(mirrored()) },
      want: [['after', 'ns/ep', 250]],
    },
    { name: 'add of our own echo is ignored', given: { tracked: mirrored(), event: (h) => h.onAdd?.(mirrored()) }, want: [] },
    { name: 'add of a foreign slice is ignored', given: { event: (h) => h.onAdd?.(foreign) }, want: [] },
    {
      name: 'update to a newer generation than tracked',
      given: { tracked: mirrored(), event: (h) => h.onUpdate?.(mirrored(), mirrored({ generation: 2 })) },
      want: [['after', 'ns/ep', 250]],
    },
    { name: 'update echoing our write', given: { tracked: mirrored(), event: (h) => h.onUpdate?.(mirrored(), mirrored()) }, want: [] },
    {
      name: 'update moving the slice away from this controller',
      given: { tracked: mirrored(), event: (h) => h.onUpdate?.(mirrored(), foreign) },
      want: [['after', 'ns/ep', 250]],
    },
    { name: 'update of a foreign slice', given: { event: (h) => h.onUpdate?.(foreign, foreign) }, want: [] },
    {
      name: 'service-name relabel enqueues the new and the old Endpoints',
      given: { tracked: mirrored(), event: (h) => h.onUpdate?.(mirrored(), mirrored({ service: 'other' })) },
      want: [
        ['after', 'ns/other', 250],
        ['after', 'ns/ep', 250],
      ],
    },
    {
      name: 'a removed service-name label cannot be mapped: only the old key',
      given: { tracked: mirrored(), event: (h) => h.onUpdate?.(mirrored(), mirrored({ service: undefined })) },
      want: [['after', 'ns/ep', 250]],
    },
    {
      name: 'delete we did not make re-syncs',
      given: { tracked: mirrored(), event: (h) => h.onDelete?.(mirrored(), false) },
      want: [['after', 'ns/ep', 250]],
    },
    { name: 'delete we made is ignored', given: { expectDeletion: mirrored(), event: (h) => h.onDelete?.(mirrored(), false) }, want: [] },
    { name: 'delete of an untracked slice is ignored', given: { event: (h) => h.onDelete?.(mirrored(), true) }, want: [] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const q = new RecordingQueue();
      const tracker = new EndpointSliceTracker();
      if (c.given.tracked !== undefined) tracker.update(c.given.tracked);
      if (c.given.expectDeletion !== undefined) tracker.expectDeletion(c.given.expectDeletion);
      c.given.event(endpointSliceEventHandler(q, tracker, 250, pino({ level: 'silent' })));
      assert.deepEqual(q.items, c.want);
    });
  }
});
