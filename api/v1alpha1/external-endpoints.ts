import { z } from 'zod';
import { objectMetaSchema } from '../core/meta.ts';
import { conditionsSchema } from './condition.ts';
import type { CustomResourceDescriptor } from './custom-resource.ts';
import { API_VERSION, CATEGORY, EXTERNAL_ENDPOINTS_RESOURCE, GROUP, Kind, VERSION } from './group-version.ts';
import { isCanonicalIP, isIP, isSpecialEndpointIP } from './ip-address.ts';
import { dns1123LabelSchema, dns1123SubdomainSchema, labelValueSchema } from './name-formats.ts';
import { withValidationRules } from './validation-rule.ts';

// ExternalEndpoints: backends outside the cluster (by IP or DNS name), health-checked by the operator and published as
// EndpointSlices of the selectorless Service of the same name. Every rule the controller relies on is enforced at
// admission (schema + CEL) and mirrored in zod, so a bad object is refused by kubectl instead of being reported later.

/** Most backends one object may declare (the slices of one Service must stay reasonable for kube-proxy). */
export const MAX_EXTERNAL_ENDPOINTS = 1000;
/** Most ports one object may declare. */
export const MAX_EXTERNAL_ENDPOINTS_PORTS = 100;
/** Highest priority tier a backend may declare (tier 0 is the primary). */
export const MAX_TIER = 9;
/** Most per-backend entries kept in status. */
export const MAX_BACKEND_STATUSES = 1000;
/** Longest inline CA bundle of HTTPS checks (a few dozen certificates). */
export const MAX_CA_BUNDLE_LENGTH = 65536;

/**
 * Health check kinds. `None`: no probing, every backend not in maintenance is published ready. `PostgreSQL`, `Redis`
 * and `MySQL`: role-aware checks (healthCheck.postgresql, healthCheck.redis, healthCheck.mysql).
 */
export const HealthCheckType = {
  TCP: 'TCP',
  HTTP: 'HTTP',
  HTTPS: 'HTTPS',
  GRPC: 'GRPC',
  PostgreSQL: 'PostgreSQL',
  Redis: 'Redis',
  MySQL: 'MySQL',
  None: 'None',
} as const;
export type HealthCheckType = (typeof HealthCheckType)[keyof typeof HealthCheckType];

/**
 * What is published when fewer than `minHealthy` backends are healthy: every backend as ready (fail open), or no
 * backend as ready, the healthy ones included (fail closed: below the minimum the Service is considered down).
 */
export const BelowMinHealthyAction = { PublishAll: 'PublishAll', PublishNone: 'PublishNone' } as const;
export type BelowMinHealthyAction = (typeof BelowMinHealthyAction)[keyof typeof BelowMinHealthyAction];

/** Port protocols, as core/v1. */
export const Protocol = { TCP: 'TCP', UDP: 'UDP', SCTP: 'SCTP' } as const;
export type Protocol = (typeof Protocol)[keyof typeof Protocol];

const PORT_RANGE_MESSAGE = 'must be between 1 and 65535';
const portNumberSchema = z.int32().min(1, PORT_RANGE_MESSAGE).max(65535, PORT_RANGE_MESSAGE);

// ---- spec.endpoints ---------------------------------------------------------------------------------------------------

const ipSchema = withValidationRules(z.string().max(45).describe('IPv4 or IPv6 address of the backend, in canonical form.'), [
  {
    rule: 'isIP(self)',
    message: 'must be a valid IPv4 or IPv6 address (no zone, no IPv4-mapped IPv6, no leading zeros in IPv4)',
    check: isIP,
  },
  {
    rule: '!isIP(self) || ip.isCanonical(self)',
    message: 'must be in canonical form (for example 2001:db8::1, not 2001:DB8:0:0:0:0:0:1)',
    check: (s) => !isIP(s) || isCanonicalIP(s),
  },
  {
    rule: '!isIP(self) || !(ip(self).isUnspecified() || ip(self).isLoopback() || ip(self).isLinkLocalUnicast() || ip(self).isLinkLocalMulticast())',
    message: 'must not be an unspecified, loopback or link-local address (Kubernetes refuses them in endpoints)',
    check: (s) => !isSpecialEndpointIP(s),
  },
]);

/** One declared backend: an IP address or a DNS name (resolved by the operator), plus topology and maintenance. */
export const externalEndpointSchema = withValidationRules(
  z
    .object({
      ip: ipSchema.optional(),
      dnsName: dns1123SubdomainSchema
        .optional()
        .describe(
          'DNS name of the backend. It is resolved to IPv4 and IPv6 addresses (kube-proxy ignores FQDN EndpointSlices), re-resolved as records expire within spec.dns bounds; the last good addresses are kept when resolution fails. Exactly one of ip and dnsName.',
        ),
      hostname: dns1123LabelSchema
        .optional()
        .describe(
          'Hostname published for this backend in its EndpointSlice entries (an RFC 1123 label), used by DNS for headless Services.',
        ),
      zone: labelValueSchema
        .min(1)
        .optional()
        .describe('Zone of the backend, published in its EndpointSlice entries for topology-aware routing.'),
      nodeName: dns1123SubdomainSchema.optional().describe('Node the backend runs on, if it is a Node of this cluster.'),
      maintenance: z
        .boolean()
        .default(false)
        .describe(
          'Drains the backend: it stays published as serving but not ready and terminating, so new connections avoid it while existing ones finish. Not probed.',
        ),
      healthCheckPort: portNumberSchema
        .optional()
        .describe('Probe port for this backend only, overriding spec.healthCheck.port (for example a sidecar health endpoint).'),
      tier: z
        .int32()
        .min(0)
        .max(MAX_TIER)
        .default(0)
        .describe(
          'Priority tier: 0 (default) is the primary set. Backends of tier N+1 are published ready only while tiers <= N have fewer than spec.failover.minHealthy healthy backends; until then they are probed and published with ready=false (standby).',
        ),
    })
    .describe('A backend, addressed by exactly one of ip and dnsName.'),
  [
    {
      rule: 'has(self.ip) != has(self.dnsName)',
      message: 'exactly one of ip or dnsName must be set',
      check: (e) => (e.ip === undefined) !== (e.dnsName === undefined),
    },
  ],
);
export type ExternalEndpoint = z.infer<typeof externalEndpointSchema>;

// ---- spec.ports -------------------------------------------------------------------------------------------------------

/** One served port, matched by name to a port of the Service (an unnamed port matches the Service's only port). */
export const externalEndpointsPortSchema = z
  .object({
    name: z
      .string()
      .max(63, 'must be no more than 63 characters')
      .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$/, 'must be empty or an RFC 1123 label')
      .default('')
      .describe('Name of the Service port this entry serves; empty only when there is a single port. Unique.'),
    port: portNumberSchema.describe('Port the backends listen on (the EndpointSlice port).'),
    protocol: z.enum(Protocol).default('TCP').describe('Protocol of the port: TCP (default), UDP or SCTP.'),
    appProtocol: z
      .string()
      .max(256)
      .optional()
      .describe('Application protocol of the port (for example kubernetes.io/h2c), published in the EndpointSlice.'),
  })
  .describe('A port served by every backend.');
export type ExternalEndpointsPort = z.infer<typeof externalEndpointsPortSchema>;

const portsSchema = withValidationRules(
  z
    .array(externalEndpointsPortSchema)
    .min(1, 'must declare at least one port')
    .max(MAX_EXTERNAL_ENDPOINTS_PORTS)
    .meta({
      description: "Ports served by the backends, matched to the Service's ports by name.",
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    }),
  [
    {
      rule: "self.size() <= 1 || self.all(p, p.name != '')",
      message: 'every port must have a name when there is more than one',
      check: (ports) => ports.length <= 1 || ports.every((p) => p.name !== ''),
    },
  ],
).superRefine((ports, ctx) => {
  // The API server enforces this through the list-map key; zod has no list-map, so it is checked here.
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    if (seen.has(p.name)) ctx.addIssue({ code: 'custom', message: `duplicate port name "${p.name}"`, path: [i, 'name'] });
    seen.add(p.name);
  });
});

// ---- spec.healthCheck -------------------------------------------------------------------------------------------------

const STATUS_RANGE = /^[1-5][0-9]{2}(-[1-5][0-9]{2})?$/;

const statusRangeSchema = withValidationRules(
  z
    .string()
    .max(7)
    .regex(STATUS_RANGE, 'must be an HTTP status code (200) or an inclusive range of them (200-399)')
    .describe('An HTTP status code or an inclusive range low-high.'),
  [
    {
      rule: 'self.size() != 7 || self.substring(0, 3) <= self.substring(4, 7)',
      message: 'a status range must be written low-high with low <= high',
      check: (s) => s.length !== 7 || s.slice(0, 3) <= s.slice(4, 7),
    },
  ],
);

/** HTTP(S) probe settings. */
export const httpHealthCheckSchema = z
  .object({
    path: z
      .string()
      .max(2048)
      .regex(/^\/\S*$/, 'must start with "/" and contain no whitespace')
      .default('/')
      .describe('Request path (and query) of the probe. Default "/".'),
    host: z
      .string()
      .max(253)
      .regex(/^\S+$/, 'must contain no whitespace')
      .optional()
      .describe("Host header of the probe. Default: the backend's dnsName, or its IP address."),
    expectedStatuses: z
      .array(statusRangeSchema)
      .min(1)
      .max(16)
      .default(['200-399'])
      .describe('Status codes or ranges that count as healthy. Default ["200-399"], as the kubelet.'),
  })
  .describe('HTTP request settings for HTTP and HTTPS checks.');

/** TLS settings of HTTPS probes. */
export const tlsHealthCheckSchema = z
  .object({
    serverName: dns1123SubdomainSchema
      .optional()
      .describe(
        "Server name (SNI) sent and verified. Default: the backend's dnsName; for IP backends, no SNI and the certificate must name the IP.",
      ),
    insecureSkipVerify: z
      .boolean()
      .default(false)
      .describe('Accepts any server certificate. The handshake still has to succeed. Default false.'),
    caBundle: withValidationRules(
      z
        .string()
        .max(MAX_CA_BUNDLE_LENGTH)
        .describe(
          'PEM-encoded CA certificates trusted to verify the backends instead of the system roots (for a private CA). Inline, so probing needs no access to Secrets or ConfigMaps.',
        ),
      [
        {
          rule: "self.contains('-----BEGIN CERTIFICATE-----')",
          message: 'must contain at least one PEM certificate (-----BEGIN CERTIFICATE-----)',
          check: (s) => s.includes('-----BEGIN CERTIFICATE-----'),
        },
      ],
    ).optional(),
  })
  .describe('TLS settings for HTTPS checks.');

/** The label a Secret must carry to be usable as probe credentials (see README, "Credentials"). */
export const PROBE_CREDENTIALS_LABEL = 'kube-endpoints-operator.io/probe-credentials';

/** Where the credentials of a database check are: keys of a Secret in the object's namespace. */
export const credentialsSecretRefSchema = z
  .object({
    name: dns1123SubdomainSchema.describe(
      `Name of a Secret in the namespace of this object, labelled ${PROBE_CREDENTIALS_LABEL}: "true". Read on demand, never logged or shown in status.`,
    ),
    usernameKey: z.string().min(1).max(253).default('username').describe('Key of the user name in the Secret. Default "username".'),
    passwordKey: z.string().min(1).max(253).default('password').describe('Key of the password in the Secret. Default "password".'),
  })
  .describe('Credentials of the check, from a Secret.');

/** Roles a database check can require. */
export const DatabaseRole = { Primary: 'Primary', Replica: 'Replica', Any: 'Any' } as const;
export type DatabaseRole = (typeof DatabaseRole)[keyof typeof DatabaseRole];

/** PostgreSQL check settings. */
export const postgresqlHealthCheckSchema = z
  .object({
    role: z
      .enum(DatabaseRole)
      .default('Primary')
      .describe(
        'Role the server must have: Primary (SELECT pg_is_in_recovery() is false), Replica (true) or Any (answers the query). Default Primary.',
      ),
    database: z.string().min(1).max(63).default('postgres').describe('Database connected to. Default "postgres".'),
    credentialsSecretRef: credentialsSecretRefSchema,
  })
  .describe('Role-aware PostgreSQL check: one connection, one query, within timeoutSeconds. No TLS.');

/** MySQL/MariaDB check settings. */
export const mysqlHealthCheckSchema = z
  .object({
    role: z
      .enum(DatabaseRole)
      .default('Primary')
      .describe(
        'Role the server must have: Primary (SELECT @@global.read_only is 0), Replica (1) or Any (answers the query). Default Primary.',
      ),
    credentialsSecretRef: credentialsSecretRefSchema,
  })
  .describe('Role-aware MySQL/MariaDB check: one connection, one query, within timeoutSeconds. No TLS.');

/** gRPC health check settings. */
export const grpcHealthCheckSchema = z
  .object({
    service: z
      .string()
      .max(253)
      .default('')
      .describe('Service name sent in grpc.health.v1.HealthCheckRequest. Default "" (the health of the whole server).'),
  })
  .describe('gRPC health check (grpc.health.v1.Health/Check), plaintext. Healthy when the answer is SERVING.');

/** Most bytes a TCP send/expect check reads while waiting for its answer. */
export const MAX_TCP_EXPECT_READ_BYTES = 65536;

/** `send`: text whose only escapes are \r \n \t \0 \\ and \xHH (so any byte can be written). */
export const TCP_SEND_ESCAPES = /^(?:[^\\]|\\[rnt0\\]|\\x[0-9a-fA-F]{2})*$/s;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** TCP send/expect settings: write bytes, then read until the answer matches a regular expression. */
export const tcpHealthCheckSchema = withValidationRules(
  z
    .object({
      send: withValidationRules(
        z
          .string()
          .max(4096)
          .describe(
            'Bytes written once connected, as text (UTF-8) with the escapes \\r \\n \\t \\0 \\\\ and \\xHH (one byte). At most one of send and sendBase64. Absent: nothing is written (for servers that speak first).',
          ),
        [
          {
            rule: String.raw`self.matches(r'^([^\\]|\\[rnt0\\]|\\x[0-9a-fA-F]{2})*$')`,
            message: 'the only escapes allowed are \\r \\n \\t \\0 \\\\ and \\xHH',
            check: (s) => TCP_SEND_ESCAPES.test(s),
          },
        ],
      ).optional(),
      sendBase64: withValidationRules(
        z.string().max(5464).describe('Bytes written once connected, base64-encoded (standard alphabet, padded).'),
        [
          {
            rule: String.raw`self.matches(r'^([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$')`,
            message: 'must be standard padded base64',
            check: (s) => BASE64.test(s),
          },
        ],
      ).optional(),
      expect: z
        .string()
        .min(1)
        .max(1024)
        .describe(
          'Regular expression (RE2 syntax: matched in linear time, no backreferences or lookaround) the answer must match, searched in the bytes received so far read as Latin-1 (one character per byte), within timeoutSeconds.',
        ),
      maxReadBytes: z
        .int32()
        .min(1)
        .max(MAX_TCP_EXPECT_READ_BYTES)
        .default(4096)
        .describe('Bytes read at most while waiting for a match; past them the check fails. Default 4096.'),
    })
    .describe('TCP send/expect check: connect, write send (if any), read until expect matches. Absent: connect only.'),
  [
    {
      rule: '!(has(self.send) && has(self.sendBase64))',
      message: 'at most one of send and sendBase64 may be set',
      check: (t) => t.send === undefined || t.sendBase64 === undefined,
    },
  ],
);

/** Redis check settings. */
export const redisHealthCheckSchema = z
  .object({
    role: z
      .enum(DatabaseRole)
      .default('Primary')
      .describe('Role the server must have according to ROLE: Primary (master), Replica (slave) or Any. Default Primary.'),
    credentialsSecretRef: credentialsSecretRefSchema.optional().describe('ACL user and password (AUTH), from a Secret. Absent: no AUTH.'),
  })
  .describe('Role-aware Redis check: one connection, optional AUTH, ROLE, within timeoutSeconds. No TLS.');

const probePortSchema = withValidationRules(
  z.union([z.int32(), z.string()]).meta({
    description:
      'Port to probe: a number, or the name of an entry of spec.ports. Default: the first entry of spec.ports. May differ from the served port.',
    'x-kubernetes-int-or-string': true,
  }),
  [
    {
      rule: 'type(self) == string || (self >= 1 && self <= 65535)',
      message: 'a port number must be between 1 and 65535',
      check: (p) => typeof p === 'string' || (p >= 1 && p <= 65535),
    },
  ],
);

/** How the backends are probed. Thresholds and timing default as the kubelet's probes do. */
export const healthCheckSchema = withValidationRules(
  z
    .object({
      type: z
        .enum(HealthCheckType)
        .describe(
          'TCP (connect, or send/expect with tcp), HTTP, HTTPS (request and expected status), GRPC (grpc.health.v1 Check), PostgreSQL, Redis or MySQL (role-aware: primary or replica) or None (no probing: every backend counts as healthy).',
        ),
      port: probePortSchema.optional(),
      http: httpHealthCheckSchema.optional(),
      tls: tlsHealthCheckSchema.optional(),
      postgresql: postgresqlHealthCheckSchema.optional(),
      redis: redisHealthCheckSchema.optional(),
      mysql: mysqlHealthCheckSchema.optional(),
      tcp: tcpHealthCheckSchema.optional(),
      grpc: grpcHealthCheckSchema.optional(),
      intervalSeconds: z.int32().min(1).max(3600).default(10).describe('Seconds between probes of one backend. Default 10.'),
      timeoutSeconds: z
        .int32()
        .min(1)
        .max(60)
        .default(1)
        .describe('Seconds after which a probe counts as failed. At most intervalSeconds. Default 1.'),
      healthyThreshold: z
        .int32()
        .min(1)
        .max(100)
        .default(1)
        .describe('Consecutive successes after which an unhealthy backend becomes healthy. Default 1.'),
      unhealthyThreshold: z
        .int32()
        .min(1)
        .max(100)
        .default(3)
        .describe('Consecutive failures after which a healthy backend becomes unhealthy. Default 3.'),
      minDwellSeconds: z
        .int32()
        .min(0)
        .max(3600)
        .default(0)
        .describe(
          'Flap damping: after a backend changes between healthy and unhealthy, the next change waits at least this long (probes keep counting meanwhile). Default 0 (no damping).',
        ),
    })
    .describe('Active health checking of every backend. Absent: no probing, as type None.'),
  [
    {
      rule: "!has(self.http) || self.type == 'HTTP' || self.type == 'HTTPS'",
      message: 'http may only be set when type is HTTP or HTTPS',
      fieldPath: '.http',
      reason: 'FieldValueForbidden',
      check: (h) => h.http === undefined || h.type === 'HTTP' || h.type === 'HTTPS',
    },
    {
      rule: "!has(self.tls) || self.type == 'HTTPS'",
      message: 'tls may only be set when type is HTTPS',
      fieldPath: '.tls',
      reason: 'FieldValueForbidden',
      check: (h) => h.tls === undefined || h.type === 'HTTPS',
    },
    {
      rule: "has(self.postgresql) == (self.type == 'PostgreSQL')",
      message: 'postgresql must be set exactly when type is PostgreSQL',
      fieldPath: '.postgresql',
      check: (h) => (h.postgresql !== undefined) === (h.type === 'PostgreSQL'),
    },
    {
      rule: "has(self.mysql) == (self.type == 'MySQL')",
      message: 'mysql must be set exactly when type is MySQL',
      fieldPath: '.mysql',
      check: (h) => (h.mysql !== undefined) === (h.type === 'MySQL'),
    },
    {
      rule: "!has(self.grpc) || self.type == 'GRPC'",
      message: 'grpc may only be set when type is GRPC',
      fieldPath: '.grpc',
      reason: 'FieldValueForbidden',
      check: (h) => h.grpc === undefined || h.type === 'GRPC',
    },
    {
      rule: "!has(self.redis) || self.type == 'Redis'",
      message: 'redis may only be set when type is Redis',
      fieldPath: '.redis',
      reason: 'FieldValueForbidden',
      check: (h) => h.redis === undefined || h.type === 'Redis',
    },
    {
      rule: "!has(self.tcp) || self.type == 'TCP'",
      message: 'tcp may only be set when type is TCP',
      fieldPath: '.tcp',
      reason: 'FieldValueForbidden',
      check: (h) => h.tcp === undefined || h.type === 'TCP',
    },
    {
      rule: 'self.timeoutSeconds <= self.intervalSeconds',
      message: 'timeoutSeconds must not exceed intervalSeconds',
      fieldPath: '.timeoutSeconds',
      check: (h) => h.timeoutSeconds <= h.intervalSeconds,
    },
  ],
);
export type HealthCheck = z.infer<typeof healthCheckSchema>;

// ---- spec.failurePolicy, spec.dns -------------------------------------------------------------------------------------

/** The safety rail for mass failure: what to publish when too few backends are healthy. */
export const failurePolicySchema = z
  .object({
    minHealthy: z
      .int32()
      .min(0)
      .max(MAX_EXTERNAL_ENDPOINTS)
      .default(1)
      .describe('Fewest healthy backends for normal publishing. Below it whenBelowMinHealthy applies. 0 disables the rail. Default 1.'),
    whenBelowMinHealthy: z
      .enum(BelowMinHealthyAction)
      .default('PublishAll')
      .describe(
        'PublishAll (default, fail open): publish every backend not in maintenance as ready, so a probe outage never empties the Service. PublishNone (fail closed): publish no backend as ready, healthy ones included, so clients fail fast instead of overloading the few healthy backends (for example below a quorum).',
      ),
  })
  .describe('What is published when fewer than minHealthy backends are healthy. Reported by the BelowMinHealthy condition.');

/** Failover between priority tiers of backends (spec.endpoints[].tier). */
export const failoverSchema = z
  .object({
    minHealthy: z
      .int32()
      .min(1)
      .max(MAX_EXTERNAL_ENDPOINTS)
      .default(1)
      .describe(
        'Healthy backends the active tiers must have. The active tier is the lowest tier N such that tiers <= N have at least this many healthy backends (the highest tier when none has). Default 1.',
      ),
    failbackHoldDownSeconds: z
      .int32()
      .min(0)
      .max(3600)
      .default(30)
      .describe(
        'Failback hold-down: after a failover, a lower tier becomes active again only once it has had enough healthy backends for this long without interruption, so a flapping primary does not bounce traffic. Failover itself is immediate. Default 30.',
      ),
  })
  .describe('Failover between priority tiers (spec.endpoints[].tier). Without tiers (every backend in tier 0) it has no effect.');

/** Slow start of new and recovered backends. */
export const slowStartSchema = z
  .object({
    minReadySeconds: z
      .int32()
      .min(0)
      .max(3600)
      .default(0)
      .describe(
        'A backend not published ready yet (new, or recovered) becomes ready only after it has been healthy this long. Default 0 (at once).',
      ),
    maxNewReadyPerInterval: z
      .int32()
      .min(0)
      .max(MAX_EXTERNAL_ENDPOINTS)
      .default(0)
      .describe(
        'Most backends that become ready (new or recovered) within any intervalSeconds window; the rest wait, longest healthy first. Default 0 (no limit).',
      ),
    intervalSeconds: z.int32().min(1).max(3600).default(10).describe('The window of maxNewReadyPerInterval, in seconds. Default 10.'),
  })
  .describe(
    'Slow start of new and recovered backends. Never withdraws a backend already ready, and never applied when it would leave the Service with no ready backend.',
  );

/** Bounds of DNS re-resolution. */
export const dnsPolicySchema = withValidationRules(
  z
    .object({
      minRefreshSeconds: z
        .int32()
        .min(1)
        .max(86400)
        .default(5)
        .describe('Shortest time between resolutions of one name, even when record TTLs are shorter. Default 5.'),
      maxRefreshSeconds: z
        .int32()
        .min(1)
        .max(86400)
        .default(300)
        .describe('Longest time between resolutions of one name, even when record TTLs are longer. Default 300.'),
    })
    .describe('Re-resolution of dnsName backends: at the record TTL, clamped to [minRefreshSeconds, maxRefreshSeconds].'),
  [
    {
      rule: 'self.minRefreshSeconds <= self.maxRefreshSeconds',
      message: 'minRefreshSeconds must not exceed maxRefreshSeconds',
      fieldPath: '.minRefreshSeconds',
      check: (d) => d.minRefreshSeconds <= d.maxRefreshSeconds,
    },
  ],
);

// ---- spec -------------------------------------------------------------------------------------------------------------

/** Desired state of ExternalEndpoints. */
export const externalEndpointsSpecSchema = withValidationRules(
  z
    .object({
      endpoints: z
        .array(externalEndpointSchema)
        .max(MAX_EXTERNAL_ENDPOINTS)
        .describe('Backends of the Service. An address listed twice (directly or through DNS) is published once.'),
      ports: portsSchema,
      healthCheck: healthCheckSchema.optional(),
      failurePolicy: failurePolicySchema.prefault({}),
      failover: failoverSchema.prefault({}),
      slowStart: slowStartSchema.prefault({}),
      dns: dnsPolicySchema.prefault({}),
      publishEndpoints: z
        .boolean()
        .default(false)
        .describe('Also writes a legacy v1 Endpoints object (labelled so that EndpointSlice mirroring skips it). Default false.'),
    })
    .describe('Desired backends of the same-named selectorless Service, and how they are health-checked.'),
  [
    {
      rule: '!has(self.healthCheck) || !has(self.healthCheck.port) || type(self.healthCheck.port) == int || self.ports.exists(p, p.name == self.healthCheck.port)',
      message: 'healthCheck.port must be a number or the name of an entry of spec.ports',
      fieldPath: '.healthCheck.port',
      check: (s) => {
        const port = s.healthCheck?.port;
        return typeof port !== 'string' || s.ports.some((p) => p.name === port);
      },
    },
  ],
);
export type ExternalEndpointsSpec = z.infer<typeof externalEndpointsSpecSchema>;
/** The spec as written by users (defaults not yet applied). */
export type ExternalEndpointsSpecInput = z.input<typeof externalEndpointsSpecSchema>;

// ---- status -----------------------------------------------------------------------------------------------------------

const timestampSchema = z.iso.datetime({ offset: true });

/**
 * Health of one backend after thresholds. `Unknown`: not (yet) established: never probed since this operator started
 * leading without an earlier verdict, in maintenance, or refused.
 */
export const BackendHealthState = { Healthy: 'Healthy', Unhealthy: 'Unhealthy', Unknown: 'Unknown' } as const;
export type BackendHealthState = (typeof BackendHealthState)[keyof typeof BackendHealthState];

/**
 * Observed health of one backend address. Status is written when something significant changes (health, reason,
 * publication, the address set), never for a probe result alone, so `lastProbeTime`, `latencyMs` and the counters
 * are as of the last status write; the Prometheus metrics carry live values.
 */
export const backendStatusSchema = z
  .object({
    address: z.string().max(45).describe('IP address probed and published.'),
    resolvedFrom: z.string().max(253).optional().describe('The dnsName this address was resolved from; absent for ip backends.'),
    healthy: z.boolean().describe('Result of health checking after thresholds (true when not probed).'),
    health: z
      .enum(BackendHealthState)
      .optional()
      .describe(
        'Healthy, Unhealthy, or Unknown (not probed yet, in maintenance, or refused). healthy is true only when Healthy, or when health checking is off.',
      ),
    ready: z.boolean().optional().describe('Whether the address is published as ready (the failure policy may override health).'),
    reason: z
      .string()
      .max(64)
      .optional()
      .describe(
        'Why the backend is not healthy or not published, in CamelCase: a probe failure (Refused, Timeout, TLSError, HTTPStatus, ...), Maintenance, or an address refusal (DeniedAddress, AddressNotAllowed, LoopbackAddress, ...).',
      ),
    lastProbeTime: timestampSchema.optional().describe('When the last probe finished (as of the last status write).'),
    lastTransitionTime: timestampSchema.optional().describe('When health last changed.'),
    lastError: z.string().max(1024).optional().describe('Why the last failed probe failed, or why the address was refused, as a sentence.'),
    latencyMs: z.int32().min(0).optional().describe('Duration of the last probe in milliseconds (as of the last status write).'),
    consecutiveFailures: z.int32().min(0).describe('Failed probes in a row.'),
    consecutiveSuccesses: z.int32().min(0).describe('Successful probes in a row.'),
  })
  .describe('Health of one backend address.');
export type BackendStatus = z.infer<typeof backendStatusSchema>;

/** Observed state of ExternalEndpoints. */
export const externalEndpointsStatusSchema = z
  .object({
    observedGeneration: z.int().min(0).optional().describe('metadata.generation this status was computed from.'),
    conditions: conditionsSchema.optional(),
    endpoints: z
      .array(backendStatusSchema)
      .max(MAX_BACKEND_STATUSES)
      .optional()
      .describe(`Health of each backend address (at most ${MAX_BACKEND_STATUSES}; unhealthy ones first when there are more).`),
    readyCount: z.int32().min(0).optional().describe('Addresses published as ready.'),
    healthyCount: z.int32().min(0).optional().describe('Addresses whose health is Healthy (or not probed).'),
    totalCount: z.int32().min(0).optional().describe('Addresses known (declared IPs plus resolved ones).'),
    activeTier: z
      .int32()
      .min(0)
      .max(MAX_TIER)
      .optional()
      .describe('Highest priority tier published ready (0: the primary tier). Set only when some backend declares a tier above 0.'),
  })
  .describe('Observed state of the backends and of publishing.');
export type ExternalEndpointsStatus = z.infer<typeof externalEndpointsStatusSchema>;

// ---- object -----------------------------------------------------------------------------------------------------------

/**
 * A whole ExternalEndpoints object in wire format. Metadata is loose (unknown fields kept); spec and status are parsed
 * strictly by their schemas, which keep only the fields they know, so never write a parsed object back as a whole.
 */
export const externalEndpointsSchema = z.looseObject({
  apiVersion: z.literal(API_VERSION).optional(),
  kind: z.literal(Kind.ExternalEndpoints).optional(),
  metadata: objectMetaSchema,
  spec: externalEndpointsSpecSchema,
  status: externalEndpointsStatusSchema.optional(),
});
export type ExternalEndpoints = z.infer<typeof externalEndpointsSchema>;

/** The CRD of ExternalEndpoints. */
export const externalEndpointsCrd: CustomResourceDescriptor = {
  group: GROUP,
  version: VERSION,
  kind: Kind.ExternalEndpoints,
  plural: EXTERNAL_ENDPOINTS_RESOURCE.plural,
  singular: 'externalendpoints',
  shortNames: ['xep'],
  categories: [CATEGORY],
  scope: 'Namespaced',
  description:
    'ExternalEndpoints declares backends outside the cluster (IP addresses or DNS names) for the selectorless Service of the same name. The operator health-checks them and publishes them as EndpointSlices, so kube-proxy and DNS use them like Pods.',
  spec: externalEndpointsSpecSchema,
  status: externalEndpointsStatusSchema,
  printerColumns: [
    { name: 'Ready', type: 'integer', jsonPath: '.status.readyCount', description: 'Addresses published as ready.' },
    { name: 'Total', type: 'integer', jsonPath: '.status.totalCount', description: 'Addresses known.' },
    { name: 'Tier', type: 'integer', jsonPath: '.status.activeTier', description: 'Highest priority tier published ready.', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' },
  ],
};
