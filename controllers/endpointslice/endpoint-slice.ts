import type { OwnerReference } from '../../api/core/meta.ts';
import type { Service } from '../../api/core/v1.ts';
import type { EndpointSlice, SliceEndpoint, SlicePort } from '../../api/discovery/v1.ts';
import { LABEL_HEADLESS, LABEL_MANAGED_BY, LABEL_SERVICE_NAME } from '../../api/labels.ts';
import { type GoValue, goBool, goPointer, goSlice, goString, goStruct, semanticDeepEqual } from '../shared/go-value.ts';
import type { IPAddressType } from './endpoint.ts';
import { objectReferenceGo } from '../shared/object-reference-go.ts';
import { slicePortGo } from '../shared/port-map-key.ts';

// The metadata of the slices this controller owns: labels, owner reference, name prefix, and the placeholder test
// (upstream utils.go newEndpointSlice, setEndpointSliceLabels, ownedBy; reconciler.go placeholderSliceCompare).

const RESERVED_LABELS: ReadonlySet<string> = new Set([LABEL_SERVICE_NAME, LABEL_MANAGED_BY, LABEL_HEADLESS]);

/** Whether a label key is one the controller sets itself and never copies from the Service. */
export function isReservedLabel(key: string): boolean {
  return RESERVED_LABELS.has(key);
}

/** Upstream isServiceIPSet: a clusterIP other than "" and "None". An empty clusterIP counts as headless. */
export function isServiceIPSet(service: Readonly<Service>): boolean {
  const ip = service.spec.clusterIP ?? '';
  return ip !== '' && ip !== 'None';
}

/**
 * Upstream setEndpointSliceLabels: the labels a slice of `service` must carry, and whether its current labels differ
 * in a way that warrants a write. The result is the Service's labels minus the reserved keys, plus the headless label
 * (value "") for headless Services, plus service-name and managed-by. `changed` compares only the non-reserved labels:
 * a drift of a reserved label alone never causes an update (it is corrected whenever the slice is written anyway).
 */
export function sliceLabels(
  current: Readonly<Record<string, string>> | undefined,
  service: Readonly<Service>,
  managedBy: string,
): { labels: Record<string, string>; changed: boolean } {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.metadata.labels ?? {})) if (!isReservedLabel(k)) labels[k] = v;
  const currentKeys = Object.keys(current ?? {}).filter((k) => !isReservedLabel(k));
  const wantKeys = Object.keys(labels);
  const changed =
    currentKeys.length !== wantKeys.length || wantKeys.some((k) => !Object.hasOwn(current ?? {}, k) || current?.[k] !== labels[k]);
  if (!isServiceIPSet(service)) labels[LABEL_HEADLESS] = '';
  labels[LABEL_SERVICE_NAME] = service.metadata.name ?? '';
  labels[LABEL_MANAGED_BY] = managedBy;
  return { labels, changed };
}

/** The controller owner reference upstream puts on every slice it creates (metav1.NewControllerRef). */
export function serviceOwnerReference(service: Readonly<Service>): OwnerReference {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    name: service.metadata.name ?? '',
    uid: service.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/**
 * Upstream ownedBy: the slice has an owner reference to this very Service object (uid, kind Service, apiVersion v1).
 * A slice left over from an earlier Service of the same name is not owned, and is deleted rather than reused.
 */
export function ownedBy(slice: Readonly<EndpointSlice>, service: Readonly<Service>): boolean {
  return (slice.metadata.ownerReferences ?? []).some(
    (o) => o.uid === service.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1',
  );
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Upstream getEndpointSlicePrefix: `<name>-` when that is a valid generateName prefix (a DNS subdomain once its
 * trailing dash is masked, at most 253 characters), else the bare name. Service names always qualify in practice.
 * The API server truncates the prefix to 58 characters and appends 5 random characters.
 */
export function generateNamePrefix(serviceName: string): string {
  const prefix = `${serviceName}-`;
  const masked = prefix.length > 1 ? `${prefix.slice(0, -1)}a` : prefix;
  return masked.length <= 253 && DNS1123_SUBDOMAIN.test(masked) ? prefix : serviceName;
}

/**
 * Upstream newEndpointSlice: an unnamed slice (generateName) for `service`, owned by it, with the Service's labels,
 * the given address type and ports, and no endpoints yet. `ports` is used as given (callers pass hash order).
 */
export function newEndpointSlice(
  service: Readonly<Service>,
  ports: readonly Readonly<SlicePort>[],
  addressType: IPAddressType,
  managedBy: string,
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      generateName: generateNamePrefix(service.metadata.name ?? ''),
      namespace: service.metadata.namespace ?? '',
      labels: sliceLabels(undefined, service, managedBy).labels,
      ownerReferences: [serviceOwnerReference(service)],
    },
    addressType,
    endpoints: [],
    ports: ports.map((p) => ({ ...p })),
  };
}

/**
 * Upstream ServiceControllerKey: the `namespace/name` key of the Service a slice belongs to, from its service-name
 * label; undefined when the label is missing or empty (upstream logs an error and enqueues nothing).
 */
export function serviceKeyForSlice(slice: Readonly<EndpointSlice>): string | undefined {
  const name = slice.metadata.labels?.[LABEL_SERVICE_NAME] ?? '';
  if (name === '') return undefined;
  return `${slice.metadata.namespace ?? ''}/${name}`;
}

// discovery/v1 Endpoint as a Go value, for the semantic comparison below. deprecatedTopology (a map) is left out: this
// controller never writes it and a slice carrying it is never equal to a placeholder anyway (it has endpoints).
const nameGo = (type: string) => (n: Readonly<{ name: string }>) => goStruct(type, [['Name', goString(n.name)]]);
const sliceEndpointGo = (e: Readonly<SliceEndpoint>): GoValue =>
  goStruct('v1.Endpoint', [
    ['Addresses', goSlice(e.addresses, 'string', (s) => goString(s))],
    [
      'Conditions',
      goStruct('v1.EndpointConditions', [
        ['Ready', goPointer(e.conditions?.ready, 'bool', goBool)],
        ['Serving', goPointer(e.conditions?.serving, 'bool', goBool)],
        ['Terminating', goPointer(e.conditions?.terminating, 'bool', goBool)],
      ]),
    ],
    ['Hostname', goPointer(e.hostname, 'string', (s) => goString(s))],
    ['TargetRef', goPointer(e.targetRef, 'v1.ObjectReference', objectReferenceGo)],
    ['NodeName', goPointer(e.nodeName, 'string', (s) => goString(s))],
    ['Zone', goPointer(e.zone, 'string', (s) => goString(s))],
    [
      'Hints',
      goPointer(e.hints, 'v1.EndpointHints', (h) =>
        goStruct('v1.EndpointHints', [
          ['ForZones', goSlice(h.forZones, 'v1.ForZone', nameGo('v1.ForZone'))],
          ['ForNodes', goSlice(h.forNodes, 'v1.ForNode', nameGo('v1.ForNode'))],
        ]),
      ),
    ],
  ]);

function labelsEqualMissingAsEmpty(
  a: Readonly<Record<string, string>> | undefined,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  for (const [k, v] of Object.entries(a ?? {})) if ((b?.[k] ?? '') !== v) return false;
  for (const [k, v] of Object.entries(b ?? {})) if ((a?.[k] ?? '') !== v) return false;
  return true;
}

/**
 * Upstream placeholderSliceCompare (reconciler.go, identical in v1.36.4 and v1.37.2): metadata is compared only on
 * namespace and labels, where a missing label equals one set to "" (Go map lookups), so name, annotations, timestamps
 * and owner references are ignored (its OwnerReference equality is never reached; docs/adr/0002). Address type, ports and endpoints are compared with
 * semantic equality (absent equals empty). apiVersion/kind are ignored: Go informer objects carry no TypeMeta.
 */
export function placeholderSliceEqual(a: Readonly<EndpointSlice>, b: Readonly<EndpointSlice>): boolean {
  return (
    (a.metadata.namespace ?? '') === (b.metadata.namespace ?? '') &&
    labelsEqualMissingAsEmpty(a.metadata.labels, b.metadata.labels) &&
    a.addressType === b.addressType &&
    semanticDeepEqual(
      goSlice(a.ports ?? undefined, 'v1.EndpointPort', slicePortGo),
      goSlice(b.ports ?? undefined, 'v1.EndpointPort', slicePortGo),
    ) &&
    semanticDeepEqual(
      goSlice(a.endpoints ?? undefined, 'v1.Endpoint', sliceEndpointGo),
      goSlice(b.endpoints ?? undefined, 'v1.Endpoint', sliceEndpointGo),
    )
  );
}
