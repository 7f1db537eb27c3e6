import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { parseConfig, type ControllerName } from '../../cmd/operator/config.ts';
import { CONTROLLER_REGISTRATIONS } from '../../cmd/operator/controller-registrations.ts';
import { EXTERNAL_ENDPOINTS_RESOURCE, SESSION_AFFINITY_POLICIES_RESOURCE } from '../../api/v1alpha1/group-version.ts';
import { newApiClient } from '../../controllers/runtime/api-client.ts';
import { isNotFound } from '../../controllers/runtime/api-errors.ts';
import { realClock } from '../../controllers/runtime/clock.ts';
import { Manager, type ManagerOutcome } from '../../controllers/runtime/manager.ts';
import { ENDPOINT_SLICES, ENDPOINTS, EVENTS, LEASES, PODS, type ResourceType, SERVICES } from '../../controllers/runtime/resource.ts';
import { startTestCluster } from '../envtest/test-cluster.ts';
import { waitFor } from '../envtest/wait-for.ts';
import {
  type ForbiddenRequest,
  ForbiddenRecordingClient,
  inClusterKubeConfig,
  kubectl,
  OPERATOR_NAMESPACE,
  REPO,
  SERVICE_ACCOUNT_USER,
  serviceAccountToken,
} from './shipped-config.ts';
import { waitForCrdsEstablished } from '../envtest/crds-established.ts';

// The shipped RBAC (config/rbac) against a real kube-apiserver, under the operator's own identity: a token minted for
// its ServiceAccount, read by a KubeConfig built as in a Pod. Each controller runs alone with ONLY its own ClusterRole
// (the other controllers' roles are emptied), through a scenario of named behaviours; then, for every verb of every
// rule, that verb is removed, the scenario runs again, and the test asserts that the behaviours before the named one
// still work, that the named one does not, and that the API server refused exactly the request the verb allows.
// The API server runs OwnerReferencesPermissionEnforcement (as hardened clusters and OpenShift do), which is what makes
// the `*/finalizers` rules necessary.

const STEP_TIMEOUT_MS = 15_000;
// How long a refused behaviour is given to happen anyway (by some other route) before the test calls it failed. A
// permitted step completes within a few hundred milliseconds.
const SETTLE_MS = 1_000;

const env = await startTestCluster({
  name: 'rbac-test',
  apiServerFlags: { 'enable-admission-plugins': 'OwnerReferencesPermissionEnforcement' },
});
const admin = env.client;
const applied = await kubectl(env.cluster.kubeconfigPath, 'apply', '-k', join(REPO, 'config/default'));
assert.equal(applied.code, 0, `kubectl apply -k config/default: ${applied.stderr}`);
await waitForCrdsEstablished(admin, ['sessionaffinitypolicies.kube-endpoints-operator.io', 'externalendpoints.kube-endpoints-operator.io']);

// The operator's identity, the way a Pod gets it: a bound token in a file, the CA beside it.
const podRoot = await mkdtemp(join(tmpdir(), 'rbac-test-pod-'));
after(() => rm(podRoot, { recursive: true, force: true }));
const operatorKubeConfig = await inClusterKubeConfig(podRoot, env.cluster.server, env.cluster.caPem, await serviceAccountToken(admin));
const operatorClient = newApiClient(operatorKubeConfig, { clock: realClock, qps: 1000, burst: 2000, userAgent: 'rbac-test' });

// ---- the shipped RBAC --------------------------------------------------------------------------------------------------

const policyRuleSchema = z.object({
  apiGroups: z.array(z.string()),
  resources: z.array(z.string()),
  verbs: z.array(z.string()),
});
type PolicyRule = z.infer<typeof policyRuleSchema>;
const roleSchema = z.looseObject({
  kind: z.enum(['ClusterRole', 'Role']),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().optional() }),
  rules: z.array(policyRuleSchema),
});
type Role = z.infer<typeof roleSchema>;

async function shippedRoles(): Promise<Role[]> {
  const dir = join(REPO, 'config/rbac');
  const roles: Role[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort()) {
    for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
      const obj = z.looseObject({ kind: z.string() }).parse(doc.toJS());
      if (obj.kind === 'ClusterRole' || obj.kind === 'Role') roles.push(roleSchema.parse(obj));
    }
  }
  return roles;
}

const CLUSTER_ROLES: ResourceType = {
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural: 'clusterroles',
  kind: 'ClusterRole',
  namespaced: false,
};
const ROLES: ResourceType = { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role', namespaced: true };
const SUBJECT_ACCESS_REVIEWS: ResourceType = {
  group: 'authorization.k8s.io',
  version: 'v1',
  plural: 'subjectaccessreviews',
  kind: 'SubjectAccessReview',
  namespaced: false,
};
const RESOURCE_QUOTAS: ResourceType = { group: '', version: 'v1', plural: 'resourcequotas', kind: 'ResourceQuota', namespaced: true };

/** One verb on one resource: what a test removes. `resource` may carry a subresource (`services/finalizers`). */
interface Permission {
  readonly role: string;
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
}
const permissionKey = (p: Pick<Permission, 'group' | 'resource' | 'verb'>) =>
  `${p.group === '' ? 'core' : p.group}/${p.resource}:${p.verb}`;

function permissionsOf(role: Role): Permission[] {
  return role.rules.flatMap((r) =>
    r.apiGroups.flatMap((group) =>
      r.resources.flatMap((resource) => r.verbs.map((verb) => ({ role: role.metadata.name, group, resource, verb }))),
    ),
  );
}

/** The rules without one verb (a rule left without verbs disappears). Pure. */
function withoutPermission(rules: readonly PolicyRule[], p: Permission): PolicyRule[] {
  return rules.flatMap((r): PolicyRule[] => {
    if (!r.apiGroups.includes(p.group) || !r.resources.includes(p.resource) || !r.verbs.includes(p.verb)) return [r];
    const out: PolicyRule[] = [];
    const otherResources = r.resources.filter((x) => x !== p.resource);
    if (otherResources.length > 0) out.push({ ...r, resources: otherResources });
    const verbs = r.verbs.filter((v) => v !== p.verb);
    if (verbs.length > 0) out.push({ ...r, resources: [p.resource], verbs });
    return out;
  });
}

async function setRules(role: Role, rules: readonly PolicyRule[]): Promise<void> {
  if (role.kind === 'ClusterRole') await admin.patch(CLUSTER_ROLES, '', role.metadata.name, { rules }, 'merge');
  else await admin.patch(ROLES, role.metadata.namespace ?? OPERATOR_NAMESPACE, role.metadata.name, { rules }, 'merge');
}

const accessReviewSchema = z.object({ status: z.object({ allowed: z.boolean() }) });

/** Asks the API server whether the operator's ServiceAccount may do `p` (in `namespace` for namespaced resources). */
async function allowed(p: Pick<Permission, 'group' | 'resource' | 'verb'>, namespace: string): Promise<boolean> {
  const [resource, subresource] = p.resource.split('/');
  const review = await admin.create(SUBJECT_ACCESS_REVIEWS, '', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: SERVICE_ACCOUNT_USER,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${OPERATOR_NAMESPACE}`, 'system:authenticated'],
      resourceAttributes: { group: p.group, resource, ...(subresource === undefined ? {} : { subresource }), verb: p.verb, namespace },
    },
  });
  return accessReviewSchema.parse(review).status.allowed;
}

/** Waits until the authorizer's view of `p` is `want` (RBAC changes reach it through a watch, not instantly). */
async function awaitAuthorization(p: Permission, namespace: string, want: boolean): Promise<void> {
  await waitFor(async () => (await allowed(p, namespace)) === want, {
    description: `${permissionKey(p)} to be ${want ? 'allowed' : 'denied'} for ${SERVICE_ACCOUNT_USER}`,
    timeoutMs: STEP_TIMEOUT_MS,
    intervalMs: 50,
  });
}

// ---- scenarios ---------------------------------------------------------------------------------------------------------

interface LogLine {
  readonly level?: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

/** The operator's last warnings and errors, for a failure message. */
function lastProblems(logs: readonly LogLine[], count = 8): string {
  const problems = logs.filter((l) => (l.level ?? 0) >= 40).slice(-count);
  return problems.length === 0 ? '(no warnings or errors logged)' : problems.map((l) => JSON.stringify(l).slice(0, 600)).join('\n');
}

/** What a step of a scenario can use. One namespace per run; `id` is unique per run (cluster-scoped names). */
interface Run {
  readonly ns: string;
  readonly id: string;
  readonly logs: readonly LogLine[];
  /** Stops the operator (gracefully) and resolves with how it ended. */
  stop(): Promise<ManagerOutcome>;
}

/** A named behaviour: `act` changes the cluster (as admin), `done` says whether the operator has done its part. */
interface Step {
  readonly name: string;
  readonly act?: (run: Run) => Promise<unknown>;
  readonly done: (run: Run) => Promise<boolean>;
}

/** Which behaviour breaks without a permission, and which refused request shows why. */
interface Denial {
  /** The name of the step that must not complete (every step before it must). */
  readonly step: string;
  /** The refused request: its verb and resource, and (default: RBAC's wording) its message. */
  readonly verb: string;
  readonly resource: string;
  readonly message?: RegExp;
}

interface Scenario {
  /** The controller, or the leader election of the manager itself. */
  readonly subject: ControllerName | 'leader-election';
  /** The shipped role that must be enough, and whose every verb is tested. */
  readonly role: string;
  /** Operator flags for this scenario. */
  readonly flags?: readonly string[];
  /** Changes made (as admin) before the operator starts, in the run's namespace. */
  readonly prepare?: (ns: string) => Promise<unknown>;
  readonly steps: readonly Step[];
  /** Keyed by {@link permissionKey}; must name exactly the verbs of `role`. */
  readonly denials: Readonly<Record<string, Denial>>;
}

const STARTED: Step = {
  name: 'informers sync and the controller starts',
  done: async (r) => r.logs.some((l) => l.msg === 'Started controllers'),
};

const objectSchema = z.looseObject({ metadata: z.looseObject({ name: z.string() }) });
const endpointsSchema = z.looseObject({
  subsets: z.array(z.looseObject({ addresses: z.array(z.object({ ip: z.string() }).loose()).optional() })).optional(),
});
const sliceSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), labels: z.record(z.string(), z.string()).optional() }),
  endpoints: z.array(z.looseObject({ addresses: z.array(z.string()), zone: z.string().optional() })).nullish(),
});
const eventSchema = z.looseObject({
  reason: z.string().optional(),
  count: z.number().optional(),
  involvedObject: z.looseObject({ name: z.string().optional() }),
});
const serviceAffinitySchema = z.looseObject({ spec: z.looseObject({ sessionAffinity: z.string().optional() }) });
const policyStatusSchema = z.looseObject({ status: z.looseObject({ appliedServices: z.number().optional() }).optional() });
const leaseSchema = z.looseObject({
  spec: z.looseObject({ holderIdentity: z.string().nullish(), renewTime: z.string().nullish() }).optional(),
});

const service = (name: string, spec: Record<string, unknown>, labels?: Record<string, string>, annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, ...(labels === undefined ? {} : { labels }), ...(annotations === undefined ? {} : { annotations }) },
  spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], ...spec },
});

// Every Pod is bound to a Node, as a ready Pod always is (an Endpoints address with an empty nodeName is invalid).
async function readyPod(ns: string, name: string, app: string, ip: string, nodeName = 'node-a'): Promise<void> {
  const created = await admin.create(PODS, ns, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app } },
    spec: {
      nodeName,
      containers: [{ name: 'app', image: 'app', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
  });
  await env.setPodStatus({ metadata: { namespace: ns, name: objectSchema.parse(created).metadata.name } }, { podIPs: [ip] });
}

async function endpointIPs(ns: string, name: string): Promise<string[] | undefined> {
  try {
    const e = endpointsSchema.parse(await admin.get(ENDPOINTS, ns, name));
    return (e.subsets ?? []).flatMap((s) => (s.addresses ?? []).map((a) => a.ip)).sort();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function slicesOf(ns: string, serviceName: string, managedBy: string): Promise<z.infer<typeof sliceSchema>[]> {
  const list = await admin.list(ENDPOINT_SLICES, ns, {
    labelSelector: `kubernetes.io/service-name=${serviceName},endpointslice.kubernetes.io/managed-by=${managedBy}`,
  });
  return list.items.map((i) => sliceSchema.parse(i));
}

/** Addresses of every slice, one sorted list per slice, slices sorted: a comparable picture of what is published. */
const published = (slices: readonly z.infer<typeof sliceSchema>[]) =>
  slices.map((s) => (s.endpoints ?? []).flatMap((e) => e.addresses).sort()).sort((a, b) => a.join().localeCompare(b.join()));

async function eventCount(ns: string, reason: string, objectName: string): Promise<number> {
  const list = await admin.list(EVENTS, ns);
  const events = list.items.map((i) => eventSchema.parse(i)).filter((e) => e.reason === reason && e.involvedObject.name === objectName);
  return events.reduce((n, e) => Math.max(n, e.count ?? 1), 0);
}

/** A quota that refuses every object of `resource` in `ns` (status written by hand: no quota controller runs here). */
async function refuseAll(ns: string, resource: string): Promise<void> {
  const hard = { [`count/${resource}`]: '0' };
  await admin.create(RESOURCE_QUOTAS, ns, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'refuse' }, spec: { hard } });
  await admin.patch(RESOURCE_QUOTAS, ns, 'refuse', { status: { hard, used: { [`count/${resource}`]: '0' } } }, 'merge', {
    subresource: 'status',
  });
}

const customEndpoints = (name: string, ips: readonly string[], annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name, ...(annotations === undefined ? {} : { annotations }) },
  subsets: [{ addresses: ips.map((ip) => ({ ip })), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }],
});

const rbacDenial = (step: string, verb: string, resource: string): Denial => ({ step, verb, resource });

const ENDPOINTS_STEPS = {
  appear: 'Endpoints appear for a new Service with a ready Pod',
  follow: 'Endpoints follow a second ready Pod',
  purge: 'Endpoints left without a Service are deleted at startup',
  event: 'a refused write is reported as a Warning Event',
  counted: 'the repeated Event is counted, not duplicated',
};

const endpointsScenario: Scenario = {
  subject: 'endpoints-controller',
  role: 'kube-endpoints-operator:endpoints-controller',
  // Deleting a Service deletes its Endpoints in the API server itself: the controller's delete matters for Endpoints
  // left behind (a Service deleted while the controller was down and the server's clean-up failed, or a write racing
  // the deletion), which it removes on startup.
  prepare: (ns) => admin.create(ENDPOINTS, ns, customEndpoints('orphan', ['10.1.9.9'])),
  steps: [
    STARTED,
    { name: ENDPOINTS_STEPS.purge, done: async (r) => (await endpointIPs(r.ns, 'orphan')) === undefined },
    {
      name: ENDPOINTS_STEPS.appear,
      // The Pod first: the Service's first sync then writes the final Endpoints in one create.
      act: async (r) => {
        await readyPod(r.ns, 'web-1', 'web', '10.1.0.1');
        await admin.create(SERVICES, r.ns, service('web', { selector: { app: 'web' } }));
      },
      done: async (r) => (await endpointIPs(r.ns, 'web'))?.join() === '10.1.0.1',
    },
    {
      name: ENDPOINTS_STEPS.follow,
      act: (r) => readyPod(r.ns, 'web-2', 'web', '10.1.0.2'),
      done: async (r) => (await endpointIPs(r.ns, 'web'))?.join() === '10.1.0.1,10.1.0.2',
    },
    {
      name: ENDPOINTS_STEPS.event,
      act: async (r) => {
        await refuseAll(r.ns, 'endpoints');
        await admin.create(SERVICES, r.ns, service('refused', { selector: { app: 'refused' } }));
      },
      done: async (r) => (await eventCount(r.ns, 'FailedToCreateEndpoint', 'refused')) >= 1,
    },
    { name: ENDPOINTS_STEPS.counted, done: async (r) => (await eventCount(r.ns, 'FailedToCreateEndpoint', 'refused')) >= 2 },
  ],
  denials: {
    'core/services:list': rbacDenial(STARTED.name, 'list', 'services'),
    'core/services:watch': rbacDenial(ENDPOINTS_STEPS.appear, 'watch', 'services'),
    'core/pods:list': rbacDenial(STARTED.name, 'list', 'pods'),
    'core/pods:watch': rbacDenial(ENDPOINTS_STEPS.appear, 'watch', 'pods'),
    'core/endpoints:list': rbacDenial(STARTED.name, 'list', 'endpoints'),
    'core/endpoints:watch': rbacDenial(ENDPOINTS_STEPS.follow, 'watch', 'endpoints'),
    'core/endpoints:create': rbacDenial(ENDPOINTS_STEPS.appear, 'create', 'endpoints'),
    'core/endpoints:update': rbacDenial(ENDPOINTS_STEPS.follow, 'update', 'endpoints'),
    'core/endpoints:delete': rbacDenial(ENDPOINTS_STEPS.purge, 'delete', 'endpoints'),
    'core/events:create': rbacDenial(ENDPOINTS_STEPS.event, 'create', 'events'),
    'core/events:patch': rbacDenial(ENDPOINTS_STEPS.counted, 'patch', 'events'),
  },
};

const SLICE_STEPS = {
  placeholder: 'an empty placeholder EndpointSlice appears for a new Service',
  fill: 'a ready Pod on a new Node fills the slice, with the Node zone',
  second: 'a second ready Pod gets a second slice (one endpoint per slice)',
  shrink: 'the slice emptied by a deleted Pod is deleted',
  event: 'topology hints that cannot work are reported as a Warning Event (Nodes without CPU capacity)',
  counted: 'the Warning of the next sync is counted, not duplicated',
};
const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';

const endpointSliceScenario: Scenario = {
  subject: 'endpointslice-controller',
  role: 'kube-endpoints-operator:endpointslice-controller',
  flags: ['--max-endpoints-per-slice=1'],
  steps: [
    STARTED,
    {
      name: SLICE_STEPS.placeholder,
      act: async (r) => {
        await admin.create(SERVICES, r.ns, service('web', { selector: { app: 'web' } }));
      },
      done: async (r) => JSON.stringify(published(await slicesOf(r.ns, 'web', SLICE_CONTROLLER))) === '[[]]',
    },
    {
      name: SLICE_STEPS.fill,
      act: async (r) => {
        await env.createNode(`node-${r.id}`, `zone-${r.id}`);
        await readyPod(r.ns, 'web-1', 'web', '10.2.0.1', `node-${r.id}`);
      },
      done: async (r) => {
        const slices = await slicesOf(r.ns, 'web', SLICE_CONTROLLER);
        return JSON.stringify(published(slices)) === '[["10.2.0.1"]]' && slices[0]?.endpoints?.[0]?.zone === `zone-${r.id}`;
      },
    },
    {
      name: SLICE_STEPS.second,
      act: (r) => readyPod(r.ns, 'web-2', 'web', '10.2.0.2', `node-${r.id}`),
      done: async (r) => JSON.stringify(published(await slicesOf(r.ns, 'web', SLICE_CONTROLLER))) === '[["10.2.0.1"],["10.2.0.2"]]',
    },
    {
      name: SLICE_STEPS.shrink,
      act: (r) => admin.delete(PODS, r.ns, 'web-2', { gracePeriodSeconds: 0 }),
      done: async (r) => JSON.stringify(published(await slicesOf(r.ns, 'web', SLICE_CONTROLLER))) === '[["10.2.0.1"]]',
    },
    {
      name: SLICE_STEPS.event,
      act: (r) =>
        admin.create(
          SERVICES,
          r.ns,
          service('hinted', { selector: { app: 'web' } }, undefined, { 'service.kubernetes.io/topology-mode': 'Auto' }),
        ),
      done: async (r) => (await eventCount(r.ns, 'TopologyAwareHintsDisabled', 'hinted')) >= 1,
    },
    {
      name: SLICE_STEPS.counted,
      act: (r) => admin.patch(SERVICES, r.ns, 'hinted', { metadata: { annotations: { touched: 'again' } } }, 'merge'),
      done: async (r) => (await eventCount(r.ns, 'TopologyAwareHintsDisabled', 'hinted')) >= 2,
    },
  ],
  denials: {
    'core/services:list': rbacDenial(STARTED.name, 'list', 'services'),
    'core/services:watch': rbacDenial(SLICE_STEPS.placeholder, 'watch', 'services'),
    'core/pods:list': rbacDenial(STARTED.name, 'list', 'pods'),
    'core/pods:watch': rbacDenial(SLICE_STEPS.fill, 'watch', 'pods'),
    'core/nodes:list': rbacDenial(STARTED.name, 'list', 'nodes'),
    'core/nodes:watch': rbacDenial(SLICE_STEPS.fill, 'watch', 'nodes'),
    'core/services/finalizers:update': {
      step: SLICE_STEPS.placeholder,
      verb: 'create',
      resource: 'endpointslices',
      message: /cannot set blockOwnerDeletion/,
    },
    'discovery.k8s.io/endpointslices:list': rbacDenial(STARTED.name, 'list', 'endpointslices'),
    'discovery.k8s.io/endpointslices:watch': rbacDenial(SLICE_STEPS.fill, 'watch', 'endpointslices'),
    'discovery.k8s.io/endpointslices:create': rbacDenial(SLICE_STEPS.placeholder, 'create', 'endpointslices'),
    'discovery.k8s.io/endpointslices:update': rbacDenial(SLICE_STEPS.fill, 'update', 'endpointslices'),
    'discovery.k8s.io/endpointslices:delete': rbacDenial(SLICE_STEPS.shrink, 'delete', 'endpointslices'),
    'core/events:create': rbacDenial(SLICE_STEPS.event, 'create', 'events'),
    'core/events:patch': rbacDenial(SLICE_STEPS.counted, 'patch', 'events'),
  },
};

const MIRROR_STEPS = {
  appear: 'a mirrored EndpointSlice appears for custom Endpoints of a selectorless Service',
  follow: 'the mirrored slice follows an Endpoints change',
  gone: 'the mirrored slice goes with its Endpoints',
  event: 'addresses over the per-subset cap are reported as a Warning Event',
  counted: 'the repeated Event is counted, not duplicated',
};
const MIRRORING_CONTROLLER = 'endpointslicemirroring-controller.k8s.io';

const mirroringScenario: Scenario = {
  subject: 'endpointslice-mirroring-controller',
  role: 'kube-endpoints-operator:endpointslice-mirroring-controller',
  flags: ['--mirroring-max-endpoints-per-subset=1'],
  steps: [
    STARTED,
    {
      name: MIRROR_STEPS.appear,
      act: async (r) => {
        await admin.create(SERVICES, r.ns, service('ext', {}));
        await admin.create(ENDPOINTS, r.ns, customEndpoints('ext', ['10.3.0.1']));
      },
      done: async (r) => JSON.stringify(published(await slicesOf(r.ns, 'ext', MIRRORING_CONTROLLER))) === '[["10.3.0.1"]]',
    },
    {
      name: MIRROR_STEPS.follow,
      act: (r) => admin.patch(ENDPOINTS, r.ns, 'ext', { subsets: customEndpoints('ext', ['10.3.0.2']).subsets }, 'merge'),
      done: async (r) => JSON.stringify(published(await slicesOf(r.ns, 'ext', MIRRORING_CONTROLLER))) === '[["10.3.0.2"]]',
    },
    {
      name: MIRROR_STEPS.gone,
      act: (r) => admin.delete(ENDPOINTS, r.ns, 'ext'),
      done: async (r) => (await slicesOf(r.ns, 'ext', MIRRORING_CONTROLLER)).length === 0,
    },
    {
      name: MIRROR_STEPS.event,
      act: async (r) => {
        await admin.create(SERVICES, r.ns, service('capped', {}));
        await admin.create(ENDPOINTS, r.ns, customEndpoints('capped', ['10.3.1.1', '10.3.1.2']));
      },
      done: async (r) => (await eventCount(r.ns, 'TooManyAddressesToMirror', 'capped')) >= 1,
    },
    {
      name: MIRROR_STEPS.counted,
      act: (r) => admin.patch(ENDPOINTS, r.ns, 'capped', { metadata: { annotations: { touched: 'again' } } }, 'merge'),
      done: async (r) => (await eventCount(r.ns, 'TooManyAddressesToMirror', 'capped')) >= 2,
    },
  ],
  denials: {
    'core/services:list': rbacDenial(STARTED.name, 'list', 'services'),
    'core/services:watch': rbacDenial(MIRROR_STEPS.appear, 'watch', 'services'),
    'core/endpoints:list': rbacDenial(STARTED.name, 'list', 'endpoints'),
    'core/endpoints:watch': rbacDenial(MIRROR_STEPS.appear, 'watch', 'endpoints'),
    'core/endpoints/finalizers:update': {
      step: MIRROR_STEPS.appear,
      verb: 'create',
      resource: 'endpointslices',
      message: /cannot set blockOwnerDeletion/,
    },
    'discovery.k8s.io/endpointslices:list': rbacDenial(STARTED.name, 'list', 'endpointslices'),
    'discovery.k8s.io/endpointslices:watch': rbacDenial(MIRROR_STEPS.follow, 'watch', 'endpointslices'),
    'discovery.k8s.io/endpointslices:create': rbacDenial(MIRROR_STEPS.appear, 'create', 'endpointslices'),
    'discovery.k8s.io/endpointslices:update': rbacDenial(MIRROR_STEPS.follow, 'update', 'endpointslices'),
    'discovery.k8s.io/endpointslices:delete': rbacDenial(MIRROR_STEPS.gone, 'delete', 'endpointslices'),
    'core/events:create': rbacDenial(MIRROR_STEPS.event, 'create', 'events'),
    'core/events:patch': rbacDenial(MIRROR_STEPS.counted, 'patch', 'events'),
  },
};

const AFFINITY_STEPS = {
  apply: "a selected Service takes the policy's affinity",
  event: 'the change is reported as an Event on the Service',
  status: 'the policy status counts the Service as applied',
  restore: 'the previous affinity returns when the policy is deleted',
  counted: 'the Event of a second application is counted, not duplicated',
};
const stickyPolicy = {
  apiVersion: 'kube-endpoints-operator.io/v1alpha1',
  kind: 'SessionAffinityPolicy',
  metadata: { name: 'sticky' },
  spec: { serviceSelector: { matchLabels: { tier: 'frontend' } }, sessionAffinity: 'ClientIP', timeoutSeconds: 3600, mode: 'Enforce' },
};
const affinityOf = async (ns: string) => serviceAffinitySchema.parse(await admin.get(SERVICES, ns, 'web')).spec.sessionAffinity;

const sessionAffinityScenario: Scenario = {
  subject: 'session-affinity-controller',
  role: 'kube-endpoints-operator:session-affinity-controller',
  steps: [
    STARTED,
    {
      name: AFFINITY_STEPS.apply,
      act: async (r) => {
        await admin.create(SERVICES, r.ns, service('web', { selector: { app: 'web' } }, { tier: 'frontend' }));
        await admin.create(SESSION_AFFINITY_POLICIES_RESOURCE, r.ns, stickyPolicy);
      },
      done: async (r) => (await affinityOf(r.ns)) === 'ClientIP',
    },
    { name: AFFINITY_STEPS.event, done: async (r) => (await eventCount(r.ns, 'SessionAffinityApplied', 'web')) >= 1 },
    {
      name: AFFINITY_STEPS.status,
      done: async (r) =>
        policyStatusSchema.parse(await admin.get(SESSION_AFFINITY_POLICIES_RESOURCE, r.ns, 'sticky')).status?.appliedServices === 1,
    },
    {
      name: AFFINITY_STEPS.restore,
      act: (r) => admin.delete(SESSION_AFFINITY_POLICIES_RESOURCE, r.ns, 'sticky'),
      done: async (r) => (await affinityOf(r.ns)) === 'None',
    },
    {
      name: AFFINITY_STEPS.counted,
      act: async (r) => {
        await admin.create(SESSION_AFFINITY_POLICIES_RESOURCE, r.ns, stickyPolicy);
      },
      done: async (r) => (await eventCount(r.ns, 'SessionAffinityApplied', 'web')) >= 2,
    },
  ],
  denials: {
    'core/services:get': rbacDenial(AFFINITY_STEPS.apply, 'get', 'services'),
    'core/services:list': rbacDenial(STARTED.name, 'list', 'services'),
    'core/services:watch': rbacDenial(AFFINITY_STEPS.apply, 'watch', 'services'),
    'core/services:patch': rbacDenial(AFFINITY_STEPS.apply, 'patch', 'services'),
    'kube-endpoints-operator.io/sessionaffinitypolicies:list': rbacDenial(STARTED.name, 'list', 'sessionaffinitypolicies'),
    'kube-endpoints-operator.io/sessionaffinitypolicies:watch': rbacDenial(AFFINITY_STEPS.apply, 'watch', 'sessionaffinitypolicies'),
    'kube-endpoints-operator.io/sessionaffinitypolicies/status:patch': rbacDenial(
      AFFINITY_STEPS.status,
      'patch',
      'sessionaffinitypolicies/status',
    ),
    'core/events:create': rbacDenial(AFFINITY_STEPS.event, 'create', 'events'),
    'core/events:patch': rbacDenial(AFFINITY_STEPS.counted, 'patch', 'events'),
  },
};

const EXTERNAL_STEPS = {
  status: 'the object status reports that its Service is missing',
  event: 'the missing Service is announced by a Warning Event',
  publish: 'an EndpointSlice publishes the backend once the Service exists',
  legacy: 'a legacy Endpoints object publishes it too (spec.publishEndpoints)',
  follow: 'slice and Endpoints follow a changed backend',
  split: 'a second backend gets its own slice (one endpoint per slice)',
  shrink: 'the slice emptied by a removed backend is deleted',
  unpublish: 'the legacy Endpoints goes when publishEndpoints is turned off',
  counted: 'the Warning of a Service missing again is counted, not duplicated',
};
const EXTERNAL_CONTROLLER = 'external-endpoints.kube-endpoints-operator.io';
const externalEndpoints = (ips: readonly string[], publishEndpoints: boolean) => ({
  apiVersion: 'kube-endpoints-operator.io/v1alpha1',
  kind: 'ExternalEndpoints',
  metadata: { name: 'db' },
  spec: { endpoints: ips.map((ip) => ({ ip })), ports: [{ name: 'http', port: 8080 }], healthCheck: { type: 'None' }, publishEndpoints },
});
const conditionsSchema = z.looseObject({
  status: z.looseObject({ conditions: z.array(z.looseObject({ type: z.string(), status: z.string() })).optional() }).optional(),
});
const setBackends = (r: Run, ips: readonly string[], publishEndpoints = true) =>
  admin.patch(EXTERNAL_ENDPOINTS_RESOURCE, r.ns, 'db', { spec: externalEndpoints(ips, publishEndpoints).spec }, 'merge');
const publishedBy = async (r: Run) => JSON.stringify(published(await slicesOf(r.ns, 'db', EXTERNAL_CONTROLLER)));

const externalEndpointsScenario: Scenario = {
  subject: 'external-endpoints-controller',
  role: 'kube-endpoints-operator:external-endpoints-controller',
  flags: ['--max-endpoints-per-slice=1'],
  steps: [
    STARTED,
    {
      name: EXTERNAL_STEPS.status,
      act: (r) => admin.create(EXTERNAL_ENDPOINTS_RESOURCE, r.ns, externalEndpoints(['192.0.2.10'], true)),
      done: async (r) => {
        const object = conditionsSchema.parse(await admin.get(EXTERNAL_ENDPOINTS_RESOURCE, r.ns, 'db'));
        return object.status?.conditions?.some((c) => c.type === 'ServiceFound' && c.status === 'False') === true;
      },
    },
    { name: EXTERNAL_STEPS.event, done: async (r) => (await eventCount(r.ns, 'ServiceNotFound', 'db')) >= 1 },
    {
      name: EXTERNAL_STEPS.publish,
      act: (r) => admin.create(SERVICES, r.ns, service('db', {})),
      done: async (r) => (await publishedBy(r)) === '[["192.0.2.10"]]',
    },
    { name: EXTERNAL_STEPS.legacy, done: async (r) => (await endpointIPs(r.ns, 'db'))?.join() === '192.0.2.10' },
    {
      name: EXTERNAL_STEPS.follow,
      act: (r) => setBackends(r, ['192.0.2.11']),
      done: async (r) => (await publishedBy(r)) === '[["192.0.2.11"]]' && (await endpointIPs(r.ns, 'db'))?.join() === '192.0.2.11',
    },
    {
      name: EXTERNAL_STEPS.split,
      act: (r) => setBackends(r, ['192.0.2.11', '192.0.2.12']),
      done: async (r) => (await publishedBy(r)) === '[["192.0.2.11"],["192.0.2.12"]]',
    },
    {
      name: EXTERNAL_STEPS.shrink,
      act: (r) => setBackends(r, ['192.0.2.11']),
      done: async (r) => (await publishedBy(r)) === '[["192.0.2.11"]]',
    },
    {
      name: EXTERNAL_STEPS.unpublish,
      act: (r) => setBackends(r, ['192.0.2.11'], false),
      done: async (r) => (await endpointIPs(r.ns, 'db')) === undefined,
    },
    {
      name: EXTERNAL_STEPS.counted,
      act: (r) => admin.delete(SERVICES, r.ns, 'db'),
      done: async (r) => (await eventCount(r.ns, 'ServiceNotFound', 'db')) >= 2,
    },
  ],
  denials: {
    'core/services:list': rbacDenial(STARTED.name, 'list', 'services'),
    'core/services:watch': rbacDenial(EXTERNAL_STEPS.publish, 'watch', 'services'),
    'kube-endpoints-operator.io/externalendpoints:list': rbacDenial(STARTED.name, 'list', 'externalendpoints'),
    'kube-endpoints-operator.io/externalendpoints:watch': rbacDenial(EXTERNAL_STEPS.status, 'watch', 'externalendpoints'),
    'kube-endpoints-operator.io/externalendpoints/status:patch': rbacDenial(EXTERNAL_STEPS.status, 'patch', 'externalendpoints/status'),
    'kube-endpoints-operator.io/externalendpoints/finalizers:update': {
      step: EXTERNAL_STEPS.publish,
      verb: 'create',
      resource: 'endpointslices',
      message: /cannot set blockOwnerDeletion/,
    },
    'discovery.k8s.io/endpointslices:list': rbacDenial(STARTED.name, 'list', 'endpointslices'),
    'discovery.k8s.io/endpointslices:watch': rbacDenial(EXTERNAL_STEPS.follow, 'watch', 'endpointslices'),
    'discovery.k8s.io/endpointslices:create': rbacDenial(EXTERNAL_STEPS.publish, 'create', 'endpointslices'),
    'discovery.k8s.io/endpointslices:update': rbacDenial(EXTERNAL_STEPS.follow, 'update', 'endpointslices'),
    'discovery.k8s.io/endpointslices:delete': rbacDenial(EXTERNAL_STEPS.shrink, 'delete', 'endpointslices'),
    'core/endpoints:list': rbacDenial(STARTED.name, 'list', 'endpoints'),
    'core/endpoints:watch': rbacDenial(EXTERNAL_STEPS.follow, 'watch', 'endpoints'),
    'core/endpoints:create': rbacDenial(EXTERNAL_STEPS.legacy, 'create', 'endpoints'),
    'core/endpoints:update': rbacDenial(EXTERNAL_STEPS.follow, 'update', 'endpoints'),
    'core/endpoints:delete': rbacDenial(EXTERNAL_STEPS.unpublish, 'delete', 'endpoints'),
    'core/events:create': rbacDenial(EXTERNAL_STEPS.event, 'create', 'events'),
    'core/events:patch': rbacDenial(EXTERNAL_STEPS.counted, 'patch', 'events'),
  },
};

const LEASE_STEPS = {
  acquire: 'a replica acquires the Lease in its namespace',
  renew: 'the leader renews the Lease',
};
const leaseOf = async (r: Run) => {
  try {
    return leaseSchema.parse(await admin.get(LEASES, OPERATOR_NAMESPACE, `rbac-test-${r.id}`)).spec;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
};

const leaderElectionScenario: Scenario = {
  subject: 'leader-election',
  role: 'kube-endpoints-operator:leader-election',
  steps: [
    { name: LEASE_STEPS.acquire, done: async (r) => r.logs.some((l) => l.msg === 'Acquired lease') },
    {
      name: LEASE_STEPS.renew,
      done: async (r) => {
        const first = (await leaseOf(r))?.renewTime;
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        const later = (await leaseOf(r))?.renewTime;
        return first !== undefined && later !== undefined && later !== first;
      },
    },
    {
      name: 'the leader releases the Lease when it stops',
      act: async (r) => {
        const outcome = await r.stop();
        assert.equal(outcome.kind, 'stopped');
      },
      done: async (r) => ((await leaseOf(r))?.holderIdentity ?? '') === '',
    },
  ],
  denials: {
    'coordination.k8s.io/leases:get': rbacDenial(LEASE_STEPS.acquire, 'get', 'leases'),
    'coordination.k8s.io/leases:create': rbacDenial(LEASE_STEPS.acquire, 'create', 'leases'),
    'coordination.k8s.io/leases:update': rbacDenial(LEASE_STEPS.renew, 'update', 'leases'),
  },
};

const SCENARIOS: readonly Scenario[] = [
  endpointsScenario,
  endpointSliceScenario,
  mirroringScenario,
  externalEndpointsScenario,
  sessionAffinityScenario,
  leaderElectionScenario,
];

// ---- running a scenario ------------------------------------------------------------------------------------------------

let runs = 0;

/** Starts an operator (one controller, or only leader election) as the ServiceAccount, in a fresh namespace. */
async function startRun(scenario: Scenario): Promise<Run & { forbidden: ForbiddenRequest[]; cleanup(): Promise<void> }> {
  runs++;
  const id = `${runs}`;
  const ns = await env.createNamespace(`rbac-${scenario.subject.replace('-controller', '')}`);
  const logs: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) });
  const forbidden: ForbiddenRequest[] = [];
  const manager = new Manager({
    logger,
    client: new ForbiddenRecordingClient(operatorClient, forbidden),
    registry: new Registry(),
    gracefulShutdownTimeoutMs: 2_000,
    ...(scenario.subject === 'leader-election'
      ? {
          leaderElection: {
            namespace: OPERATOR_NAMESPACE,
            name: `rbac-test-${id}`,
            leaseDurationMs: 3_000,
            renewDeadlineMs: 2_000,
            retryPeriodMs: 300,
          },
        }
      : {}),
  });
  if (scenario.subject !== 'leader-election') {
    const parsed = parseConfig([`--controllers=${scenario.subject}`, ...(scenario.flags ?? [])]);
    assert.equal(parsed.kind, 'run');
    const register = CONTROLLER_REGISTRATIONS[scenario.subject];
    assert.ok(register !== undefined, `${scenario.subject} is not registered`);
    register(manager, parsed.config);
  }
  await scenario.prepare?.(ns);
  const abort = new AbortController();
  const outcome = manager.start(abort.signal);
  let stopped: Promise<ManagerOutcome> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      abort.abort();
      return outcome;
    })();
    return stopped;
  };
  return {
    ns,
    id,
    logs,
    forbidden,
    stop,
    cleanup: async () => {
      await stop();
      // Leftovers would keep later runs busy (a refused Service retries forever): clear the namespace. Best effort:
      // a failure here must not hide the test's own.
      for (const r of [
        SERVICES,
        PODS,
        ENDPOINTS,
        ENDPOINT_SLICES,
        RESOURCE_QUOTAS,
        SESSION_AFFINITY_POLICIES_RESOURCE,
        EXTERNAL_ENDPOINTS_RESOURCE,
      ]) {
        try {
          const items = await waitFor(() => admin.list(r, ns), { description: `list ${r.plural}`, timeoutMs: 5_000 });
          for (const item of items.items) {
            await admin.delete(r, ns, objectSchema.parse(item).metadata.name, { gracePeriodSeconds: 0 }).catch((err: unknown) => {
              if (!isNotFound(err)) throw err;
            });
          }
        } catch (err) {
          process.stderr.write(`rbac test: cleanup of ${r.plural} in ${ns} failed: ${(err as Error).message}\n`);
        }
      }
    },
  };
}

async function completes(step: Step, run: Run): Promise<void> {
  await step.act?.(run);
  try {
    await waitFor(() => step.done(run), { description: `"${step.name}"`, timeoutMs: STEP_TIMEOUT_MS, intervalMs: 100 });
  } catch (err) {
    throw new Error(`${(err as Error).message}\noperator log:\n${lastProblems(run.logs)}`, { cause: err });
  }
}

/** Runs every step; each must complete. */
async function runScenario(scenario: Scenario): Promise<void> {
  const run = await startRun(scenario);
  try {
    for (const step of scenario.steps) await completes(step, run);
  } finally {
    await run.cleanup();
  }
}

/**
 * Runs the steps up to `denial.step`, which must complete; then that step, which must not: the refused request shows
 * up (a 403 for the denied verb on the denied resource, in this run's namespace or cluster-wide), and after a grace
 * period the behaviour still has not happened.
 */
async function runDenied(scenario: Scenario, denial: Denial): Promise<void> {
  const run = await startRun(scenario);
  const message = denial.message ?? new RegExp(`cannot ${denial.verb} resource "${denial.resource}"`);
  try {
    const index = scenario.steps.findIndex((s) => s.name === denial.step);
    assert.ok(index >= 0, `no step named "${denial.step}"`);
    for (const step of scenario.steps.slice(0, index)) await completes(step, run);
    const step = scenario.steps[index];
    assert.ok(step !== undefined);
    await step.act?.(run);
    await waitFor(
      () =>
        run.forbidden.some(
          (f) =>
            f.verb === denial.verb &&
            f.resource === denial.resource &&
            (f.namespace === run.ns || f.namespace === '' || f.namespace === OPERATOR_NAMESPACE) &&
            message.test(f.message),
        ),
      {
        description: `a refused ${denial.verb} on ${denial.resource}; refused so far: ${JSON.stringify(run.forbidden.map((f) => `${f.verb} ${f.path}`))}`,
        timeoutMs: STEP_TIMEOUT_MS,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    assert.equal(await step.done(run), false, `"${step.name}" happened although ${denial.verb} ${denial.resource} was refused`);
  } finally {
    await run.cleanup();
  }
}

// ---- the tests -----------------------------------------------------------------------------------------------------------

const roles = await shippedRoles();
const roleByName = new Map(roles.map((r) => [r.metadata.name, r]));
const controllerRoles = roles.filter((r) => r.kind === 'ClusterRole');

describe('the shipped RBAC', () => {
  it('has one ClusterRole per controller, and a scenario proving every verb of each role of a registered controller', () => {
    const names = Object.keys(CONTROLLER_REGISTRATIONS).map((c) => `kube-endpoints-operator:${c}`);
    assert.deepEqual(controllerRoles.map((r) => r.metadata.name).sort(), names.sort());
    for (const scenario of SCENARIOS) {
      const role = roleByName.get(scenario.role);
      assert.ok(role !== undefined, `no shipped role ${scenario.role}`);
      assert.deepEqual(Object.keys(scenario.denials).sort(), permissionsOf(role).map(permissionKey).sort(), `verbs of ${scenario.role}`);
    }
    const covered = new Set<string>(SCENARIOS.map((s) => s.subject));
    for (const [name, register] of Object.entries(CONTROLLER_REGISTRATIONS)) {
      if (register !== undefined) assert.ok(covered.has(name), `${name} is registered but has no RBAC scenario`);
    }
  });

  it('grants the ServiceAccount nothing beyond its roles (no write to Secrets, no Lease outside its namespace)', async () => {
    assert.equal(await allowed({ group: '', resource: 'secrets', verb: 'list' }, 'default'), false);
    assert.equal(await allowed({ group: 'coordination.k8s.io', resource: 'leases', verb: 'update' }, 'kube-system'), false);
    assert.equal(await allowed({ group: 'coordination.k8s.io', resource: 'leases', verb: 'update' }, OPERATOR_NAMESPACE), true);
  });

  for (const role of controllerRoles.filter((r) => !SCENARIOS.some((s) => s.role === r.metadata.name))) {
    const controller = role.metadata.name.replace('kube-endpoints-operator:', '');
    it(`${role.metadata.name}: each verb is needed`, {
      skip: `${controller} is not registered in this build: its role is provisional and untested until it is`,
    });
  }

  for (const scenario of SCENARIOS) {
    const registered = scenario.subject === 'leader-election' || CONTROLLER_REGISTRATIONS[scenario.subject] !== undefined;
    describe(
      `${scenario.subject} with only ${scenario.role}`,
      { skip: registered ? false : `${scenario.subject} is not registered in this build` },
      () => {
        const role = roleByName.get(scenario.role);
        before(async () => {
          assert.ok(role !== undefined);
          // Only this role grants anything: the other controllers' roles are emptied for the duration.
          for (const other of controllerRoles) await setRules(other, other === role ? other.rules : []);
          if (role.kind === 'ClusterRole') {
            const leaderElection = roleByName.get('kube-endpoints-operator:leader-election');
            assert.ok(leaderElection !== undefined);
            await setRules(leaderElection, leaderElection.rules);
          }
          for (const p of permissionsOf(role)) await awaitAuthorization(p, OPERATOR_NAMESPACE, true);
        });
        after(async () => {
          for (const r of roles) await setRules(r, r.rules);
        });

        it('works: every behaviour of the scenario happens', { timeout: 120_000 }, async () => {
          await runScenario(scenario);
        });

        for (const p of role === undefined ? [] : permissionsOf(role)) {
          const denial = scenario.denials[permissionKey(p)];
          it(`needs ${permissionKey(p)}: without it, "${denial?.step ?? '?'}" fails`, { timeout: 120_000 }, async () => {
            assert.ok(role !== undefined && denial !== undefined);
            await setRules(role, withoutPermission(role.rules, p));
            await awaitAuthorization(p, OPERATOR_NAMESPACE, false);
            try {
              await runDenied(scenario, denial);
            } finally {
              await setRules(role, role.rules);
              await awaitAuthorization(p, OPERATOR_NAMESPACE, true);
            }
          });
        }
      },
    );
  }
});
