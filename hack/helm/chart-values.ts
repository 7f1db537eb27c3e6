import { stringify } from 'yaml';
import { GENERATED_NOTE } from './chart-helpers.ts';
import type { DeploymentFacts } from './deployment-values.ts';

// values.yaml (documented defaults, all taken from config/) and values.schema.json (so `helm install` refuses a bad
// value with the path and the rule it broke).

export interface ValuesInput {
  readonly facts: DeploymentFacts;
  readonly controllers: readonly string[];
  /** The operator's built-in probe policy (controllers/external-endpoints/address-policy.ts). */
  readonly probeAllowedCIDRs: readonly string[];
  readonly probeDeniedCIDRs: readonly string[];
  readonly logLevels: readonly string[];
  /** The `--leader-elect=` value of the source Deployment. */
  readonly leaderElect: boolean;
}

const y = (value: unknown, indent: number): string =>
  stringify(value, { lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map((l) => `${' '.repeat(indent)}${l}`)
    .join('\n');
const comment = (text: string, indent: number): string =>
  text
    .split('\n')
    .map((l) => `${' '.repeat(indent)}#${l.startsWith(' ') || l === '' ? '' : ' '}${l}`)
    .join('\n');

/** charts/<chart>/values.yaml */
export function valuesYaml(v: ValuesInput): string {
  const f = v.facts;
  return `# ${GENERATED_NOTE}
# The defaults render the same objects as \`kubectl kustomize config/default\` (plus Helm's standard labels).

# Object names: <release>-<chart>, or the release name when it contains the chart name (install as
# "kube-endpoints-operator" to get config/default's names). nameOverride replaces the chart name; fullnameOverride
# the whole name.
nameOverride: ""
fullnameOverride: ""

namespace:
  # Render the release namespace as a Namespace with Pod Security \`restricted\` enforced, as config/default does.
  # Install with --create-namespace: Helm 4 creates it, then applies the chart server-side, which adopts it and adds
  # the labels. Set false to install into a namespace that exists already (or with a Helm that creates objects with
  # plain POSTs). Uninstalling deletes a namespace the chart rendered.
  create: true

image:
  repository: ${JSON.stringify(f.image.repository)}
  # Empty: the chart's appVersion.
  tag: ""
  pullPolicy: ${f.pullPolicy}

# Replicas elect one leader through a Lease; the others are ready standbys. More than 1 needs leaderElection.enabled.
replicaCount: ${f.replicas}

${comment(f.resourcesComment ?? ' Requests and limits of the operator container.', 0)}
# limits.memory is required, in Mi or Gi: the V8 heap cap (NODE_OPTIONS) is derived from it.
resources:
${y(f.resources, 2)}

# NODE_OPTIONS of the container: V8 sizes its heap from the node's memory, not the container's limit, so the chart
# caps the old space at this share of resources.limits.memory (the rest is code, buffers and TLS) and the young
# generation's semi-spaces at a fixed size.
nodeHeap:
  percentOfMemoryLimit: ${f.heapPercentOfMemoryLimit}
  maxSemiSpaceSizeMiB: ${f.maxSemiSpaceSizeMiB}

# Controllers to run (the operator's --controllers). All on renders no flag (the operator's default); turning one off
# passes the enabled ones and leaves out the disabled controller's ClusterRole and ClusterRoleBinding.
controllers:
${v.controllers.map((n) => `  ${n}: true`).join('\n')}

leaderElection:
  # --leader-elect. Off only with replicaCount 1 (the Lease Role is then not rendered).
  enabled: ${v.leaderElect}
  # --leader-elect-lease-duration, --leader-elect-renew-deadline, --leader-elect-retry-period as Go durations
  # ("15s", "1m30s"); null: the operator's defaults (15s, 10s, 2s).
  leaseDuration: null
  renewDeadline: null
  retryPeriod: null

# The ExternalEndpoints probe policy. null: the operator's built-in policy.
externalEndpoints:
  # --external-endpoints-probe-allowed-cidrs: only addresses in these CIDRs are probed and published. [] allows none.
  # Built in: ${v.probeAllowedCIDRs.join(', ')}
  probeAllowedCIDRs: null
  # --external-endpoints-probe-denied-cidrs: never probed, even inside an allowed CIDR. Replaces the built-in list,
  # so keep its entries when adding: ${v.probeDeniedCIDRs.join(', ')}
  probeDeniedCIDRs: null
  # --external-endpoints-probe-concurrency: probes in flight at once over all backends (1..1000); null: 10.
  probeConcurrency: null

# --log-level: one of ${v.logLevels.join(', ')}; null: info.
logLevel: null

# More operator flags, passed as given after the ones above (see \`kube-endpoints-operator --help\`).
extraArgs: []

metrics:
  # /metrics on every replica and the Service in front of them. false: --metrics-bind-address=0 and no Service.
  enabled: true
  serviceMonitor:
    # A Prometheus Operator ServiceMonitor for that Service (needs its CRD in the cluster).
    enabled: false
    # Extra labels, for a Prometheus whose serviceMonitorSelector wants them.
    labels: {}
    # Scrape interval and timeout ("30s"); empty: Prometheus's defaults.
    interval: ""
    scrapeTimeout: ""

podDisruptionBudget:
  # At most one replica down in a voluntary disruption (a node drain), so a standby can always take over.
  enabled: true
`;
}

const GO_DURATION = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';
const CIDR = '^[0-9a-fA-F:.]+/[0-9]{1,3}$';

/** charts/<chart>/values.schema.json */
export function valuesSchema(v: ValuesInput): string {
  const bool = { type: 'boolean' };
  const duration = (flag: string) => ({
    description: `--${flag}; null: the operator's default`,
    oneOf: [{ type: 'null' }, { type: 'string', pattern: GO_DURATION }],
  });
  const cidrs = (flag: string) => ({
    description: `--${flag}; null: the operator's built-in list`,
    oneOf: [{ type: 'null' }, { type: 'array', items: { type: 'string', pattern: CIDR } }],
  });
  const quantity = { type: ['string', 'number'] };
  const schema = {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $comment: GENERATED_NOTE,
    title: 'kube-endpoints-operator chart values',
    type: 'object',
    additionalProperties: false,
    required: ['image', 'replicaCount', 'resources', 'nodeHeap', 'controllers', 'leaderElection', 'externalEndpoints', 'metrics'],
    properties: {
      nameOverride: { type: 'string', maxLength: 63 },
      fullnameOverride: { type: 'string', maxLength: 63 },
      namespace: { type: 'object', additionalProperties: false, properties: { create: bool } },
      image: {
        type: 'object',
        additionalProperties: false,
        required: ['repository'],
        properties: {
          repository: { type: 'string', minLength: 1 },
          tag: { type: 'string' },
          pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
        },
      },
      replicaCount: { type: 'integer', minimum: 0 },
      resources: {
        type: 'object',
        additionalProperties: false,
        required: ['limits'],
        properties: {
          requests: { type: 'object', additionalProperties: false, properties: { cpu: quantity, memory: quantity } },
          limits: {
            type: 'object',
            additionalProperties: false,
            required: ['memory'],
            properties: {
              cpu: quantity,
              memory: {
                description: 'In Mi or Gi: the V8 heap cap is derived from it',
                type: 'string',
                pattern: '^[1-9][0-9]*(Mi|Gi)$',
              },
            },
          },
        },
      },
      nodeHeap: {
        type: 'object',
        additionalProperties: false,
        properties: {
          percentOfMemoryLimit: { type: 'integer', minimum: 10, maximum: 75 },
          maxSemiSpaceSizeMiB: { type: 'integer', minimum: 1, maximum: 256 },
        },
      },
      controllers: {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(v.controllers.map((n) => [n, bool])),
      },
      leaderElection: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: bool,
          leaseDuration: duration('leader-elect-lease-duration'),
          renewDeadline: duration('leader-elect-renew-deadline'),
          retryPeriod: duration('leader-elect-retry-period'),
        },
      },
      externalEndpoints: {
        type: 'object',
        additionalProperties: false,
        properties: {
          probeAllowedCIDRs: cidrs('external-endpoints-probe-allowed-cidrs'),
          probeDeniedCIDRs: cidrs('external-endpoints-probe-denied-cidrs'),
          probeConcurrency: { oneOf: [{ type: 'null' }, { type: 'integer', minimum: 1, maximum: 1000 }] },
        },
      },
      logLevel: { oneOf: [{ type: 'null' }, { enum: [...v.logLevels] }] },
      extraArgs: { type: 'array', items: { type: 'string', pattern: '^--' } },
      metrics: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: bool,
          serviceMonitor: {
            type: 'object',
            additionalProperties: false,
            properties: {
              enabled: bool,
              labels: { type: 'object', additionalProperties: { type: 'string' } },
              interval: { type: 'string', pattern: `^$|${GO_DURATION}` },
              scrapeTimeout: { type: 'string', pattern: `^$|${GO_DURATION}` },
            },
          },
        },
      },
      podDisruptionBudget: { type: 'object', additionalProperties: false, properties: { enabled: bool } },
    },
  };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
