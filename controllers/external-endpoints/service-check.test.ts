import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Service } from '../../api/core/v1.ts';
import { externalEndpointsPortSchema } from '../../api/v1alpha1/external-endpoints.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { checkService } from './service-check.ts';
import { makeService } from './test-fixtures.ts';

const port = (p: { name?: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP'; appProtocol?: string }) =>
  externalEndpointsPortSchema.parse(p);

describe('checkService', () => {
  const cases: { name: string; given: { service: Service | undefined; ports: ReturnType<typeof port>[] }; want: unknown }[] = [
    {
      name: 'a missing Service is refused with ServiceNotFound',
      given: { service: undefined, ports: [port({ name: 'pg', port: 5432 })] },
      want: { usable: false, reason: 'ServiceNotFound' },
    },
    {
      name: 'a Service with a selector is refused (the EndpointSlice controller owns its endpoints)',
      given: { service: makeService({ selector: { app: 'db' } }), ports: [port({ name: 'pg', port: 5432 })] },
      want: { usable: false, reason: 'ServiceHasSelector' },
    },
    {
      name: 'an empty selector counts as none',
      given: { service: makeService({ selector: {} }), ports: [port({ name: 'pg', port: 6432 })] },
      want: { usable: true, ports: [{ name: 'pg', port: 6432, protocol: 'TCP' }], portWarnings: [], headless: false },
    },
    {
      name: 'an ExternalName Service is refused',
      given: { service: makeService({ type: 'ExternalName', externalName: 'db.example.com' }), ports: [port({ name: 'pg', port: 5432 })] },
      want: { usable: false, reason: 'ServiceIsExternalName' },
    },
    {
      name: 'an unnamed spec port takes the name of the only Service port (kube-proxy matches by name)',
      given: { service: makeService(), ports: [port({ port: 6432 })] },
      want: { usable: true, ports: [{ name: 'pg', port: 6432, protocol: 'TCP' }], portWarnings: [], headless: false },
    },
    {
      name: 'ports match by name; appProtocol is published; unmatched ports on either side are warned about',
      given: {
        service: makeService({
          clusterIP: 'None',
          ports: [
            { name: 'https', port: 443, protocol: 'TCP' },
            { name: 'metrics', port: 9090 },
          ],
        }),
        ports: [port({ name: 'https', port: 8443, appProtocol: 'https' }), port({ name: 'admin', port: 9000 })],
      },
      want: {
        usable: true,
        ports: [{ name: 'https', port: 8443, protocol: 'TCP', appProtocol: 'https' }],
        portWarnings: [
          'port "admin" 9000/TCP matches no port of the Service',
          'Service port "metrics" 9090/TCP has no entry in spec.ports, so its traffic is not served',
        ],
        headless: true,
      },
    },
    {
      name: 'a protocol mismatch is no match; with nothing matched the Service is refused with PortNotFound',
      given: { service: makeService(), ports: [port({ name: 'pg', port: 5432, protocol: 'UDP' })] },
      want: { usable: false, reason: 'PortNotFound' },
    },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      const got = checkService('prod/db', deepFreeze(given.service), deepFreeze(given.ports));
      if (got.usable) assert.deepEqual(got, want);
      else assert.deepEqual({ usable: got.usable, reason: got.reason }, want);
    });
  }

  it('says what to do in the refusal message', () => {
    const got = checkService('prod/db', makeService({ selector: { app: 'db' } }), [port({ name: 'pg', port: 5432 })]);
    assert.equal(
      got.usable ? '' : got.message,
      'Service prod/db has a selector, so the EndpointSlice controller publishes its Pods; remove the selector to publish these backends',
    );
  });
});
