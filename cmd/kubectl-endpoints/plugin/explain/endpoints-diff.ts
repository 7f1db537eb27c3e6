import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from '../../../../api/core/v1.ts';
import { ANNOTATION_LAST_CHANGE_TRIGGER_TIME, LABEL_ENDPOINTS_MANAGED_BY } from '../../../../api/labels.ts';
import { desiredSubsets, selectPods } from '../../../../controllers/endpoints/desired.ts';
import { planEndpoints } from '../../../../controllers/endpoints/plan.ts';
import { type FieldManagerEntry, fieldManagers, foreignFieldManagers } from './field-managers.ts';

// What the Endpoints controller would write for a Service now, next to what is stored: the controller's own
// desiredSubsets and planEndpoints run on the live objects, and the planned object is compared with the stored one
// address by address. The trigger-time annotation is left out of the comparison: it records when, not what.

/** An address as listed in an Endpoints object. */
export type AddressState = 'ready' | 'notReady' | 'absent';

/** One address whose listing differs between the stored and the desired object. */
export interface AddressChange {
  readonly ip: string;
  /** The targetRef's name (a Pod), when there is one. */
  readonly pod?: string;
  /** Its ports, formatted `name:port/protocol`, comma-separated. */
  readonly ports: string;
  readonly stored: AddressState;
  readonly desired: AddressState;
  /** When listed the same way on both sides: the address fields that differ (nodeName, hostname, targetRef). */
  readonly fields?: readonly string[];
}

/** A label or annotation that differs; an absent side means the key is not there. */
export interface KeyChange {
  readonly key: string;
  readonly stored?: string;
  readonly desired?: string;
}

/** Identity and authorship of a stored object. */
export interface StoredObjectInfo {
  readonly name: string;
  readonly resourceVersion?: string;
  /** The managed-by label's value, when set. */
  readonly managedBy?: string;
  readonly fieldManagers: readonly FieldManagerEntry[];
  /** Field managers other than the endpoint controllers': edits they may overwrite. */
  readonly foreignManagers: readonly FieldManagerEntry[];
}

/** The Endpoints object: stored versus what the controller would write. */
export interface EndpointsDiff {
  /** The write the controller would make; `none` when it is up to date or not the controller's to manage. */
  readonly action: 'none' | 'create' | 'update' | 'delete';
  /** False for Services the controller leaves alone (no selector, ExternalName): any Endpoints is someone else's. */
  readonly managedByController: boolean;
  readonly stored?: StoredObjectInfo;
  readonly addressChanges: readonly AddressChange[];
  readonly labelChanges: readonly KeyChange[];
  readonly annotationChanges: readonly KeyChange[];
  /** The desired object was cut to the address cap. */
  readonly truncated: boolean;
}

/** Inputs of {@link diffEndpoints}. */
export interface EndpointsDiffInput {
  readonly namespace: string;
  readonly name: string;
  readonly service: Readonly<Service> | undefined;
  readonly endpoints: Readonly<Endpoints> | undefined;
  /** Every Pod of the namespace (selection happens here, as in the controller). */
  readonly pods: readonly Readonly<Pod>[];
  readonly maxCapacity: number;
  readonly controllerFieldManagers: readonly string[];
}

function formatPorts(ports: readonly Readonly<EndpointPort>[] | undefined): string {
  return (ports ?? [])
    .map((p) => `${p.name ? `${p.name}:` : ''}${p.port}/${p.protocol ?? 'TCP'}`)
    .sort()
    .join(',');
}

interface Listing {
  readonly ip: string;
  readonly pod?: string;
  readonly ports: string;
  readonly state: AddressState;
  readonly address: Readonly<EndpointAddress>;
}

const ADDRESS_FIELDS = ['nodeName', 'hostname', 'targetRef'] as const;

function differingFields(a: Readonly<EndpointAddress>, b: Readonly<EndpointAddress>): string[] {
  // resourceVersion of the targetRef is ignored, as the controller's semantic comparison does.
  const ref = (x: Readonly<EndpointAddress>) =>
    JSON.stringify([x.targetRef?.kind, x.targetRef?.namespace, x.targetRef?.name, x.targetRef?.uid]);
  return ADDRESS_FIELDS.filter((f) => (f === 'targetRef' ? ref(a) !== ref(b) : (a[f] ?? '') !== (b[f] ?? '')));
}

function listings(subsets: readonly Readonly<EndpointSubset>[] | undefined): Map<string, Listing> {
  const out = new Map<string, Listing>();
  for (const s of subsets ?? []) {
    const ports = formatPorts(s.ports);
    const add = (state: AddressState) => (a: NonNullable<EndpointSubset['addresses']>[number]) => {
      const pod = a.targetRef?.name;
      out.set(`${a.ip} ${ports}`, { ip: a.ip, ...(pod ? { pod } : {}), ports, state, address: a });
    };
    (s.addresses ?? []).forEach(add('ready'));
    (s.notReadyAddresses ?? []).forEach(add('notReady'));
  }
  return out;
}

/** Address-level differences between two subset lists, sorted by IP then ports. */
export function addressChanges(
  stored: readonly Readonly<EndpointSubset>[] | undefined,
  desired: readonly Readonly<EndpointSubset>[] | undefined,
): AddressChange[] {
  const before = listings(stored);
  const after = listings(desired);
  const changes: AddressChange[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const b = before.get(key);
    const a = after.get(key);
    const was = b?.state ?? 'absent';
    const will = a?.state ?? 'absent';
    const fields = a !== undefined && b !== undefined ? differingFields(b.address, a.address) : [];
    if (was === will && fields.length === 0) continue;
    const ref = a ?? b;
    if (ref === undefined) continue;
    changes.push({
      ip: ref.ip,
      ...(ref.pod ? { pod: ref.pod } : {}),
      ports: ref.ports,
      stored: was,
      desired: will,
      ...(fields.length > 0 ? { fields } : {}),
    });
  }
  return changes.sort((x, y) => (x.ip === y.ip ? (x.ports < y.ports ? -1 : 1) : x.ip < y.ip ? -1 : 1));
}

/** Keys whose values differ between two maps, sorted; `ignore` keys are skipped. */
export function keyChanges(
  stored: Readonly<Record<string, string>> | undefined,
  desired: Readonly<Record<string, string>> | undefined,
  ignore: readonly string[] = [],
): KeyChange[] {
  const s = stored ?? {};
  const d = desired ?? {};
  const keys = [...new Set([...Object.keys(s), ...Object.keys(d)])].filter((k) => !ignore.includes(k)).sort();
  const out: KeyChange[] = [];
  for (const key of keys) {
    const a = Object.hasOwn(s, key) ? s[key] : undefined;
    const b = Object.hasOwn(d, key) ? d[key] : undefined;
    if (a === b) continue;
    out.push({ key, ...(a !== undefined ? { stored: a } : {}), ...(b !== undefined ? { desired: b } : {}) });
  }
  return out;
}

/** Identity and authorship of a stored object's metadata. */
export function storedObjectInfo(
  metadata: Readonly<Endpoints['metadata']>,
  managedByLabel: string,
  controllerFieldManagers: readonly string[],
): StoredObjectInfo {
  const managers = fieldManagers(metadata);
  const managedBy = metadata.labels?.[managedByLabel];
  return {
    name: metadata.name ?? '',
    ...(metadata.resourceVersion ? { resourceVersion: metadata.resourceVersion } : {}),
    ...(managedBy !== undefined ? { managedBy } : {}),
    fieldManagers: managers,
    foreignManagers: foreignFieldManagers(managers, controllerFieldManagers),
  };
}

/** Compares the stored Endpoints with the controller's plan. Pure. */
export function diffEndpoints(input: EndpointsDiffInput): EndpointsDiff {
  const { service, endpoints } = input;
  const stored = endpoints ? storedObjectInfo(endpoints.metadata, LABEL_ENDPOINTS_MANAGED_BY, input.controllerFieldManagers) : undefined;
  const base = { ...(stored ? { stored } : {}), addressChanges: [], labelChanges: [], annotationChanges: [], truncated: false };
  const desired = service === undefined ? [] : desiredSubsets(service, selectPods(service, input.pods)).subsets;
  const plan = planEndpoints({
    namespace: input.namespace,
    name: input.name,
    service,
    existing: endpoints,
    desiredSubsets: desired,
    triggerTime: undefined,
    maxCapacity: input.maxCapacity,
  });
  switch (plan.kind) {
    case 'none':
      return { ...base, action: 'none', managedByController: plan.reason !== 'NotManaged' };
    case 'delete':
      // The controller deletes whatever Endpoints carries the name of a gone Service; with none stored there is no write.
      if (endpoints === undefined) return { ...base, action: 'none', managedByController: false };
      return { ...base, action: 'delete', managedByController: true, addressChanges: addressChanges(endpoints.subsets, []) };
    case 'create':
    case 'update': {
      const ignore = [ANNOTATION_LAST_CHANGE_TRIGGER_TIME];
      const changes = {
        addressChanges: addressChanges(endpoints?.subsets, plan.object.subsets),
        labelChanges: keyChanges(endpoints?.metadata.labels, plan.object.metadata.labels),
        annotationChanges: keyChanges(endpoints?.metadata.annotations, plan.object.metadata.annotations, ignore),
      };
      // Over the address cap the controller rewrites the same truncated object on every sync (its no-op check compares
      // with the untruncated subsets); the API server keeps such a write as a no-op, so it is not a difference.
      const noop =
        plan.kind === 'update' &&
        changes.addressChanges.length === 0 &&
        changes.labelChanges.length === 0 &&
        changes.annotationChanges.length === 0;
      return { ...base, ...changes, action: noop ? 'none' : plan.kind, managedByController: true, truncated: plan.truncated };
    }
    default: {
      const exhaustive: never = plan;
      throw new Error(`unexpected plan ${JSON.stringify(exhaustive)}`);
    }
  }
}
