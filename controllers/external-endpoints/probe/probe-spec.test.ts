import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ExternalEndpointsSpecInput, externalEndpointsSpecSchema } from '../../../api/v1alpha1/external-endpoints.ts';
import { deepFreeze } from '../../runtime/testing/deep-freeze.ts';
import { AnswerPattern } from './answer-pattern.ts';
import { InvalidHealthCheckError, type ProbePlan, probePlanFor, probePortFor } from './probe-spec.ts';

const ports = [
  { name: 'http', port: 8080 },
  { name: 'admin', port: 9090 },
];

function spec(input: Omit<ExternalEndpointsSpecInput, 'ports'> & { ports?: ExternalEndpointsSpecInput['ports'] }) {
  return deepFreeze(externalEndpointsSpecSchema.parse({ ports, ...input }));
}

describe('probePlanFor', () => {
  const cases: { name: string; given: ReturnType<typeof spec>; want: ProbePlan | undefined }[] = [
    { name: 'no health check: not probed', given: spec({ endpoints: [] }), want: undefined },
    { name: 'type None: not probed', given: spec({ endpoints: [], healthCheck: { type: 'None' } }), want: undefined },
    {
      name: 'TCP with the kubelet defaults',
      given: spec({ endpoints: [], healthCheck: { type: 'TCP' } }),
      want: { spec: { type: 'TCP', timeoutMs: 1000 }, intervalMs: 10_000 },
    },
    {
      name: 'HTTP with defaults',
      given: spec({ endpoints: [], healthCheck: { type: 'HTTP', intervalSeconds: 5, timeoutSeconds: 2 } }),
      want: {
        spec: { type: 'HTTP', timeoutMs: 2000, path: '/', host: undefined, expectedStatuses: [{ min: 200, max: 399 }], tls: undefined },
        intervalMs: 5000,
      },
    },
    {
      name: 'HTTPS with path, Host, statuses and TLS settings',
      given: spec({
        endpoints: [],
        healthCheck: {
          type: 'HTTPS',
          http: { path: '/healthz?full=1', host: 'api.example.com', expectedStatuses: ['200', '300-302'] },
          tls: { serverName: 'api.example.com', insecureSkipVerify: true },
        },
      }),
      want: {
        spec: {
          type: 'HTTPS',
          timeoutMs: 1000,
          path: '/healthz?full=1',
          host: 'api.example.com',
          expectedStatuses: [
            { min: 200, max: 200 },
            { min: 300, max: 302 },
          ],
          tls: { serverName: 'api.example.com', insecureSkipVerify: true, ca: undefined },
        },
        intervalMs: 10_000,
      },
    },
  ];
  for (const { name, given, want } of cases) it(name, () => assert.deepEqual(probePlanFor(given), want));

  it('PostgreSQL: role, database and the credentials read from the Secret', () => {
    const given = spec({
      endpoints: [],
      healthCheck: { type: 'PostgreSQL', postgresql: { role: 'Replica', credentialsSecretRef: { name: 'pg' } } },
    });
    assert.deepEqual(probePlanFor(given, undefined, { value: { username: 'u', password: 'p' } }), {
      spec: {
        type: 'PostgreSQL',
        timeoutMs: 1000,
        role: 'Replica',
        database: 'postgres',
        credentials: { username: 'u', password: 'p' },
        credentialsError: undefined,
      },
      intervalMs: 10_000,
    });
    assert.deepEqual(probePlanFor(given, undefined, { error: 'Secret db/pg not found' })?.spec, {
      type: 'PostgreSQL',
      timeoutMs: 1000,
      role: 'Replica',
      database: 'postgres',
      credentials: undefined,
      credentialsError: 'Secret db/pg not found',
    });
  });

  it('GRPC: the service name, "" by default', () => {
    assert.deepEqual(probePlanFor(spec({ endpoints: [], healthCheck: { type: 'GRPC' } }))?.spec, {
      type: 'GRPC',
      timeoutMs: 1000,
      service: '',
    });
    assert.deepEqual(probePlanFor(spec({ endpoints: [], healthCheck: { type: 'GRPC', grpc: { service: 'a.B' } } }))?.spec, {
      type: 'GRPC',
      timeoutMs: 1000,
      service: 'a.B',
    });
  });

  it('Redis: role, and credentials only when a Secret is named', () => {
    const plain = spec({ endpoints: [], healthCheck: { type: 'Redis' } });
    assert.deepEqual(probePlanFor(plain)?.spec, {
      type: 'Redis',
      timeoutMs: 1000,
      role: 'Primary',
      credentials: undefined,
      credentialsError: undefined,
    });
    const named = spec({ endpoints: [], healthCheck: { type: 'Redis', redis: { role: 'Any', credentialsSecretRef: { name: 'r' } } } });
    assert.deepEqual(probePlanFor(named, undefined, { error: 'Secret db/r not found' })?.spec, {
      type: 'Redis',
      timeoutMs: 1000,
      role: 'Any',
      credentials: undefined,
      credentialsError: 'Secret db/r not found',
    });
  });

  it('TCP send/expect: send text with escapes or base64, the regex compiled, maxReadBytes defaulted', () => {
    const text = probePlanFor(spec({ endpoints: [], healthCheck: { type: 'TCP', tcp: { send: 'PING\\r\\n', expect: '^\\+PONG' } } }));
    assert.deepEqual(text?.spec, {
      type: 'TCP',
      timeoutMs: 1000,
      exchange: { send: Uint8Array.from(Buffer.from('PING\r\n')), expect: AnswerPattern.compile('^\\+PONG'), maxReadBytes: 4096 },
    });
    const b64 = probePlanFor(
      spec({ endpoints: [], healthCheck: { type: 'TCP', tcp: { sendBase64: 'AP8=', expect: 'x', maxReadBytes: 8 } } }),
    );
    assert.deepEqual(b64?.spec.type === 'TCP' ? [...(b64.spec.exchange?.send ?? [])] : [], [0x00, 0xff]);
    const banner = probePlanFor(spec({ endpoints: [], healthCheck: { type: 'TCP', tcp: { expect: '^SSH-2\\.0-' } } }));
    assert.equal(banner?.spec.type === 'TCP' ? banner.spec.exchange?.send.byteLength : -1, 0, 'nothing is sent');
    assert.throws(
      () => probePlanFor(spec({ endpoints: [], healthCheck: { type: 'TCP', tcp: { expect: '(unclosed' } } })),
      (err: unknown) => err instanceof InvalidHealthCheckError && /tcp\.expect is not a valid RE2 regular expression/.test(err.message),
    );
    // Backreferences and lookaround need a backtracking engine: refused with RE2's reason, never run.
    assert.throws(
      () => probePlanFor(spec({ endpoints: [], healthCheck: { type: 'TCP', tcp: { expect: '^(?=PONG)' } } })),
      (err: unknown) =>
        err instanceof InvalidHealthCheckError && /not a valid RE2 regular expression.*unsupported Perl syntax/.test(err.message),
    );
  });

  it('MySQL: role, credentials or why they are missing', () => {
    const my = spec({ endpoints: [], healthCheck: { type: 'MySQL', mysql: { role: 'Replica', credentialsSecretRef: { name: 'm' } } } });
    assert.deepEqual(probePlanFor(my, undefined, { value: { username: 'u', password: 'p' } })?.spec, {
      type: 'MySQL',
      timeoutMs: 1000,
      role: 'Replica',
      credentials: { username: 'u', password: 'p' },
      credentialsError: undefined,
    });
    assert.deepEqual(probePlanFor(my)?.spec, {
      type: 'MySQL',
      timeoutMs: 1000,
      role: 'Replica',
      credentials: undefined,
      credentialsError: 'credentials not read yet',
    });
  });

  it('passes the CA bundle to HTTPS probes', () => {
    const plan = probePlanFor(spec({ endpoints: [], healthCheck: { type: 'HTTPS' } }), 'PEM');
    assert.equal(plan?.spec.type === 'HTTPS' ? plan.spec.tls?.ca : 'none', 'PEM');
  });

  it('trusts healthCheck.tls.caBundle when no bundle is passed', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const plan = probePlanFor(spec({ endpoints: [], healthCheck: { type: 'HTTPS', tls: { caBundle: pem } } }));
    assert.equal(plan?.spec.type === 'HTTPS' ? plan.spec.tls?.ca : 'none', pem);
  });
});

describe('probePortFor', () => {
  const cases: { name: string; given: { spec: ReturnType<typeof spec>; index: number }; want: number }[] = [
    { name: 'first served port by default', given: { spec: spec({ endpoints: [{ ip: '198.18.0.2' }] }), index: 0 }, want: 8080 },
    {
      name: 'a numeric probe port that differs from the served ports',
      given: { spec: spec({ endpoints: [{ ip: '198.18.0.2' }], healthCheck: { type: 'TCP', port: 8443 } }), index: 0 },
      want: 8443,
    },
    {
      name: 'a probe port named after a served port',
      given: { spec: spec({ endpoints: [{ ip: '198.18.0.2' }], healthCheck: { type: 'TCP', port: 'admin' } }), index: 0 },
      want: 9090,
    },
    {
      name: "a backend's own healthCheckPort wins",
      given: {
        spec: spec({
          endpoints: [{ ip: '198.18.0.2' }, { ip: '198.18.0.6', healthCheckPort: 15021 }],
          healthCheck: { type: 'TCP', port: 'admin' },
        }),
        index: 1,
      },
      want: 15021,
    },
  ];
  for (const { name, given, want } of cases) {
    it(name, () => {
      const endpoint = given.spec.endpoints[given.index];
      assert.ok(endpoint);
      assert.equal(probePortFor(given.spec, endpoint), want);
    });
  }

  it('throws for a port name that is not served (admission normally refuses it)', () => {
    const s = spec({ endpoints: [{ ip: '198.18.0.2' }] });
    const broken = {
      ...s,
      healthCheck: {
        type: 'TCP' as const,
        port: 'nope',
        intervalSeconds: 10,
        timeoutSeconds: 1,
        healthyThreshold: 1,
        unhealthyThreshold: 3,
        minDwellSeconds: 0,
      },
    };
    const endpoint = s.endpoints[0];
    assert.ok(endpoint);
    assert.throws(() => probePortFor(broken, endpoint), InvalidHealthCheckError);
  });
});
