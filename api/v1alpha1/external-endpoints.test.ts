import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ExternalEndpointsSpecInput,
  externalEndpointsCrd,
  externalEndpointsSchema,
  externalEndpointsSpecSchema,
} from './external-endpoints.ts';
import { fieldErrors } from './field-errors.ts';
import { API_VERSION } from './group-version.ts';

const base: ExternalEndpointsSpecInput = { endpoints: [{ ip: '192.0.2.10' }], ports: [{ name: 'https', port: 8443 }] };
const spec = (patch: Partial<ExternalEndpointsSpecInput>): unknown => ({ ...base, ...patch });
const check = (given: unknown): string[] => {
  const r = externalEndpointsSpecSchema.safeParse(given);
  return r.success ? [] : fieldErrors(r.error, 'spec');
};

describe('ExternalEndpoints spec: valid objects', () => {
  const cases: { name: string; given: unknown }[] = [
    { name: 'one IPv4 backend and one port', given: base },
    { name: 'no backends at all (publishes nothing)', given: spec({ endpoints: [] }) },
    { name: 'an IPv6 backend in canonical form', given: spec({ endpoints: [{ ip: '2001:db8::10' }] }) },
    { name: 'a DNS backend', given: spec({ endpoints: [{ dnsName: 'db.example.com' }] }) },
    {
      name: 'every endpoint field',
      given: spec({
        endpoints: [
          { ip: '192.0.2.10', hostname: 'db-0', zone: 'us-east-1a', nodeName: 'node-1.example', maintenance: true, healthCheckPort: 9000 },
        ],
      }),
    },
    { name: 'one unnamed port', given: spec({ ports: [{ port: 5432 }] }) },
    {
      name: 'several named ports with protocols',
      given: spec({
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53 },
        ],
      }),
    },
    { name: 'a TCP check on a named port', given: spec({ healthCheck: { type: 'TCP', port: 'https' } }) },
    {
      name: 'an HTTPS check with every setting',
      given: spec({
        healthCheck: {
          type: 'HTTPS',
          port: 8081,
          http: { path: '/healthz?full=1', host: 'api.example.com:8443', expectedStatuses: ['200', '300-399'] },
          tls: { serverName: 'api.example.com', insecureSkipVerify: true },
          intervalSeconds: 30,
          timeoutSeconds: 30,
          healthyThreshold: 2,
          unhealthyThreshold: 5,
        },
      }),
    },
    {
      name: 'the fail-closed policy with minHealthy 0',
      given: spec({ failurePolicy: { minHealthy: 0, whenBelowMinHealthy: 'PublishNone' } }),
    },
    { name: 'equal DNS refresh bounds', given: spec({ dns: { minRefreshSeconds: 60, maxRefreshSeconds: 60 } }) },
  ];
  for (const c of cases) {
    it(`accepts ${c.name}`, () => {
      assert.deepEqual(check(c.given), []);
    });
  }
});

describe('ExternalEndpoints spec: invalid objects are refused with readable messages', () => {
  const cases: { name: string; given: unknown; want: string[] }[] = [
    {
      name: 'both ip and dnsName',
      given: spec({ endpoints: [{ ip: '192.0.2.10', dnsName: 'db.example.com' }] }),
      want: ['spec.endpoints[0]: exactly one of ip or dnsName must be set'],
    },
    {
      name: 'neither ip nor dnsName',
      given: spec({ endpoints: [{ zone: 'a' }] }),
      want: ['spec.endpoints[0]: exactly one of ip or dnsName must be set'],
    },
    {
      name: 'an invalid IPv4 address',
      given: spec({ endpoints: [{ ip: '192.0.2.256' }] }),
      want: ['spec.endpoints[0].ip: must be a valid IPv4 or IPv6 address (no zone, no IPv4-mapped IPv6, no leading zeros in IPv4)'],
    },
    {
      name: 'an IPv4-mapped IPv6 address',
      given: spec({ endpoints: [{ ip: '::ffff:192.0.2.1' }] }),
      want: ['spec.endpoints[0].ip: must be a valid IPv4 or IPv6 address (no zone, no IPv4-mapped IPv6, no leading zeros in IPv4)'],
    },
    {
      name: 'a non-canonical IPv6 address',
      given: spec({ endpoints: [{ ip: '2001:db8:0:0:0:0:0:10' }] }),
      want: ['spec.endpoints[0].ip: must be in canonical form (for example 2001:db8::1, not 2001:DB8:0:0:0:0:0:1)'],
    },
    ...['127.0.0.1', '0.0.0.0', '169.254.169.254', 'fe80::1', '::1'].map((ip) => ({
      name: `the special address ${ip}`,
      given: spec({ endpoints: [{ ip }] }),
      want: ['spec.endpoints[0].ip: must not be an unspecified, loopback or link-local address (Kubernetes refuses them in endpoints)'],
    })),
    {
      name: 'an uppercase DNS name',
      given: spec({ endpoints: [{ dnsName: 'DB.example.com' }] }),
      want: [
        'spec.endpoints[0].dnsName: must be an RFC 1123 subdomain: lowercase alphanumerics, "-" or ".", each part starting and ending with an alphanumeric',
      ],
    },
    {
      name: 'a hostname with dots',
      given: spec({ endpoints: [{ ip: '192.0.2.10', hostname: 'db.0' }] }),
      want: [
        'spec.endpoints[0].hostname: must be an RFC 1123 label: lowercase alphanumerics or "-", starting and ending with an alphanumeric',
      ],
    },
    { name: 'no ports', given: spec({ ports: [] }), want: ['spec.ports: must declare at least one port'] },
    { name: 'port 0', given: spec({ ports: [{ name: 'a', port: 0 }] }), want: ['spec.ports[0].port: must be between 1 and 65535'] },
    { name: 'port 65536', given: spec({ ports: [{ name: 'a', port: 65536 }] }), want: ['spec.ports[0].port: must be between 1 and 65535'] },
    {
      name: 'two ports, one unnamed',
      given: spec({ ports: [{ port: 80 }, { name: 'b', port: 81 }] }),
      want: ['spec.ports: every port must have a name when there is more than one'],
    },
    {
      name: 'duplicate port names',
      given: spec({
        ports: [
          { name: 'a', port: 80 },
          { name: 'a', port: 81 },
        ],
      }),
      want: ['spec.ports[1].name: duplicate port name "a"'],
    },
    {
      name: 'an unknown protocol',
      given: spec({ ports: [{ name: 'a', port: 80, protocol: 'HTTP' as 'TCP' }] }),
      want: ['spec.ports[0].protocol: Invalid option: expected one of "TCP"|"UDP"|"SCTP"'],
    },
    {
      name: 'http settings on a TCP check',
      given: spec({ healthCheck: { type: 'TCP', http: { path: '/' } } }),
      want: ['spec.healthCheck.http: http may only be set when type is HTTP or HTTPS'],
    },
    {
      name: 'tls settings on an HTTP check',
      given: spec({ healthCheck: { type: 'HTTP', tls: { serverName: 'a.example' } } }),
      want: ['spec.healthCheck.tls: tls may only be set when type is HTTPS'],
    },
    {
      name: 'a probe timeout longer than the interval',
      given: spec({ healthCheck: { type: 'TCP', intervalSeconds: 5, timeoutSeconds: 6 } }),
      want: ['spec.healthCheck.timeoutSeconds: timeoutSeconds must not exceed intervalSeconds'],
    },
    {
      name: 'a reversed status range',
      given: spec({ healthCheck: { type: 'HTTP', http: { expectedStatuses: ['399-200'] } } }),
      want: ['spec.healthCheck.http.expectedStatuses[0]: a status range must be written low-high with low <= high'],
    },
    {
      name: 'a status that is not a code',
      given: spec({ healthCheck: { type: 'HTTP', http: { expectedStatuses: ['2xx'] } } }),
      want: ['spec.healthCheck.http.expectedStatuses[0]: must be an HTTP status code (200) or an inclusive range of them (200-399)'],
    },
    {
      name: 'a relative probe path',
      given: spec({ healthCheck: { type: 'HTTP', http: { path: 'healthz' } } }),
      want: ['spec.healthCheck.http.path: must start with "/" and contain no whitespace'],
    },
    {
      name: 'a probe port number out of range',
      given: spec({ healthCheck: { type: 'TCP', port: 70000 } }),
      want: ['spec.healthCheck.port: a port number must be between 1 and 65535'],
    },
    {
      name: 'a probe port name that is not in spec.ports',
      given: spec({ healthCheck: { type: 'TCP', port: 'admin' } }),
      want: ['spec.healthCheck.port: healthCheck.port must be a number or the name of an entry of spec.ports'],
    },
    {
      name: 'reversed DNS refresh bounds',
      given: spec({ dns: { minRefreshSeconds: 600, maxRefreshSeconds: 60 } }),
      want: ['spec.dns.minRefreshSeconds: minRefreshSeconds must not exceed maxRefreshSeconds'],
    },
    {
      name: 'a negative minHealthy',
      given: spec({ failurePolicy: { minHealthy: -1 } }),
      want: ['spec.failurePolicy.minHealthy: Too small: expected number to be >=0'],
    },
  ];
  for (const c of cases) {
    it(`rejects ${c.name}`, () => {
      assert.deepEqual(check(c.given), c.want);
    });
  }

  it('caps the number of backends', () => {
    const endpoints = Array.from({ length: 1001 }, (_, i) => ({ ip: `10.${i >> 8}.${i & 255}.1` }));
    assert.deepEqual(check(spec({ endpoints })), ['spec.endpoints: Too big: expected array to have <=1000 items']);
  });
});

describe('ExternalEndpoints spec: defaults (the same values the CRD declares)', () => {
  it('fills every default of a minimal spec', () => {
    assert.deepEqual(externalEndpointsSpecSchema.parse({ endpoints: [{ ip: '192.0.2.10' }], ports: [{ port: 80 }] }), {
      endpoints: [{ ip: '192.0.2.10', maintenance: false, tier: 0 }],
      ports: [{ name: '', port: 80, protocol: 'TCP' }],
      failurePolicy: { minHealthy: 1, whenBelowMinHealthy: 'PublishAll' },
      failover: { minHealthy: 1, failbackHoldDownSeconds: 30 },
      slowStart: { minReadySeconds: 0, maxNewReadyPerInterval: 0, intervalSeconds: 10 },
      dns: { minRefreshSeconds: 5, maxRefreshSeconds: 300 },
      publishEndpoints: false,
    });
  });

  it('fills kubelet-like probe defaults, and HTTP defaults only when http is given', () => {
    const parsed = externalEndpointsSpecSchema.parse(spec({ healthCheck: { type: 'HTTP', http: {} } }));
    assert.deepEqual(parsed.healthCheck, {
      type: 'HTTP',
      http: { path: '/', expectedStatuses: ['200-399'] },
      intervalSeconds: 10,
      timeoutSeconds: 1,
      healthyThreshold: 1,
      unhealthyThreshold: 3,
      minDwellSeconds: 0,
    });
  });
});

describe('ExternalEndpoints object', () => {
  it('parses a wire-format object and keeps unknown metadata fields', () => {
    const obj = externalEndpointsSchema.parse({
      apiVersion: API_VERSION,
      kind: 'ExternalEndpoints',
      metadata: { name: 'db', namespace: 'prod', uid: 'u1', resourceVersion: '7', generation: 2, selfLink: 'kept' },
      spec: base,
      status: {
        observedGeneration: 2,
        readyCount: 1,
        totalCount: 1,
        endpoints: [{ address: '192.0.2.10', healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 4 }],
      },
    });
    assert.equal(obj.metadata.selfLink, 'kept');
    assert.equal(obj.status?.endpoints?.[0]?.healthy, true);
  });

  it('refuses another kind', () => {
    assert.equal(externalEndpointsSchema.safeParse({ kind: 'Endpoints', metadata: {}, spec: base }).success, false);
  });

  it('describes the CRD names kubectl uses', () => {
    assert.deepEqual(
      [externalEndpointsCrd.plural, externalEndpointsCrd.shortNames, externalEndpointsCrd.categories],
      ['externalendpoints', ['xep'], ['kube-endpoints-operator']],
    );
  });
});
