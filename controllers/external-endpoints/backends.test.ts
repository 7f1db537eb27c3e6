import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ExternalEndpointsSpecInput, externalEndpointsSpecSchema } from '../../api/v1alpha1/external-endpoints.ts';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { newAddressPolicy } from './address-policy.ts';
import { resolveBackends } from './backends.ts';
import type { NameResolution } from './dns/resolver.ts';

const policy = newAddressPolicy({ allowedCIDRs: ['198.18.0.0/15', '2001:db8::/32'] });

function resolution(name: string, addresses: string[]): NameResolution {
  return {
    name,
    addresses: addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4, ttlSeconds: 30, expiresAt: 30_000 })),
    errors: [],
    consecutiveFailures: 0,
    attemptedAt: 0,
    resolvedAt: 0,
    nextRefreshAt: 30_000,
  };
}

const spec = (input: Omit<ExternalEndpointsSpecInput, 'ports'>) =>
  deepFreeze(externalEndpointsSpecSchema.parse({ ports: [{ name: 'http', port: 8080 }], ...input }));

describe('resolveBackends', () => {
  const cases: {
    name: string;
    given: { spec: ReturnType<typeof spec>; resolutions: NameResolution[] };
    want: { backends: string[]; refused: string[]; unresolved: string[]; order: string[] };
  }[] = [
    {
      name: 'IP backends keep their declaration, with the probe port and topology',
      given: {
        spec: spec({
          endpoints: [
            { ip: '198.18.0.2', zone: 'a', hostname: 'db-0', healthCheckPort: 9000 },
            { ip: '2001:db8::2', maintenance: true },
          ],
        }),
        resolutions: [],
      },
      want: {
        backends: ['198.18.0.2/4 port=9000 zone=a host=db-0', '2001:db8::2/6 port=8080 maintenance'],
        refused: [],
        unresolved: [],
        order: ['198.18.0.2', '2001:db8::2'],
      },
    },
    {
      name: 'a dnsName becomes one backend per resolved address, remembering the name',
      given: { spec: spec({ endpoints: [{ dnsName: 'db.test' }] }), resolutions: [resolution('db.test', ['198.18.0.6', '2001:db8::6'])] },
      want: {
        backends: ['198.18.0.6/4 port=8080 from=db.test', '2001:db8::6/6 port=8080 from=db.test'],
        refused: [],
        unresolved: [],
        order: ['198.18.0.6', '2001:db8::6'],
      },
    },
    {
      name: 'an address declared twice is published once, as first declared',
      given: {
        spec: spec({
          endpoints: [
            { ip: '198.18.0.6', zone: 'first' },
            { dnsName: 'db.test', zone: 'second' },
          ],
        }),
        resolutions: [resolution('db.test', ['198.18.0.6', '198.18.0.10'])],
      },
      want: {
        backends: ['198.18.0.6/4 port=8080 zone=first', '198.18.0.10/4 port=8080 zone=second from=db.test'],
        refused: [],
        unresolved: [],
        order: ['198.18.0.6', '198.18.0.10'],
      },
    },
    {
      name: 'addresses outside the allow-list, in the deny-list, or refused by endpoint validation are refused',
      given: {
        spec: spec({ endpoints: [{ ip: '192.0.2.10' }, { dnsName: 'evil.test' }] }),
        resolutions: [resolution('evil.test', ['169.254.169.254', '127.0.0.1'])],
      },
      want: {
        backends: [],
        refused: ['192.0.2.10 AddressNotAllowed', '169.254.169.254 LinkLocalAddress', '127.0.0.1 LoopbackAddress'],
        unresolved: [],
        order: ['192.0.2.10', '169.254.169.254', '127.0.0.1'],
      },
    },
    {
      name: 'a name not resolved yet (or resolved to nothing) is listed as unresolved',
      given: {
        spec: spec({ endpoints: [{ dnsName: 'new.test' }, { dnsName: 'empty.test' }] }),
        resolutions: [resolution('empty.test', [])],
      },
      want: { backends: [], refused: [], unresolved: ['new.test', 'empty.test'], order: [] },
    },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      const got = resolveBackends(given.spec, deepFreeze(new Map(given.resolutions.map((r) => [r.name, r]))), policy);
      assert.deepEqual(
        {
          backends: got.backends.map(
            (b) =>
              `${b.address}/${b.family} port=${b.probePort}${b.zone ? ` zone=${b.zone}` : ''}${b.hostname ? ` host=${b.hostname}` : ''}${
                b.resolvedFrom ? ` from=${b.resolvedFrom}` : ''
              }${b.maintenance ? ' maintenance' : ''}`,
          ),
          refused: got.refused.map((r) => `${r.address} ${r.verdict.reason}`),
          unresolved: got.unresolved,
          order: got.order,
        },
        want,
      );
    });
  }
});
