import type { Service } from '../../api/core/v1.ts';
import type { SlicePort } from '../../api/discovery/v1.ts';
import type { ExternalEndpointsPort } from '../../api/v1alpha1/external-endpoints.ts';

// Whether the same-named Service can take our endpoints, and which of spec.ports it serves. kube-proxy pairs a
// Service port with an EndpointSlice port by name alone, so a published port must carry the Service port's exact name
// (an unnamed spec port takes the name of the Service's only port, which may be non-empty).

/** Why nothing is published for a Service. Values are ServiceFound condition reasons. */
export type ServiceRefusalReason = 'ServiceNotFound' | 'ServiceHasSelector' | 'ServiceIsExternalName' | 'PortNotFound';

/** The verdict on the Service. */
export type ServiceVerdict =
  | {
      readonly usable: true;
      /** Slice ports: the matched entries of spec.ports, in spec order, named as the Service names them. */
      readonly ports: readonly SlicePort[];
      /** Sentences about ports that do not line up (spec ports without a Service port and the reverse); may be empty. */
      readonly portWarnings: readonly string[];
      /** The Service is headless (clusterIP None): slices carry the headless label, as upstream's. */
      readonly headless: boolean;
    }
  | { readonly usable: false; readonly reason: ServiceRefusalReason; readonly message: string };

function describePort(p: { name?: string | undefined; port?: number | undefined; protocol?: string | undefined }): string {
  return `${p.name === undefined || p.name === '' ? '(unnamed)' : `"${p.name}"`} ${p.port ?? '?'}/${p.protocol ?? 'TCP'}`;
}

/**
 * Checks `service` (undefined: not in the cache) against the ExternalEndpoints `key` and its ports. Pure. Usable when
 * it exists, is not ExternalName, has no selector (a selector means the EndpointSlice controller owns its endpoints),
 * and at least one spec port matches a Service port by name and protocol.
 */
export function checkService(key: string, service: Readonly<Service> | undefined, ports: readonly ExternalEndpointsPort[]): ServiceVerdict {
  if (service === undefined) {
    return {
      usable: false,
      reason: 'ServiceNotFound',
      message: `Service ${key} does not exist; create a selectorless Service of this name`,
    };
  }
  if (service.spec.type === 'ExternalName') {
    return {
      usable: false,
      reason: 'ServiceIsExternalName',
      message: `Service ${key} is of type ExternalName, which has no endpoints; make it a selectorless ClusterIP Service`,
    };
  }
  const selector = service.spec.selector ?? {};
  if (Object.keys(selector).length > 0) {
    return {
      usable: false,
      reason: 'ServiceHasSelector',
      message: `Service ${key} has a selector, so the EndpointSlice controller publishes its Pods; remove the selector to publish these backends`,
    };
  }
  const servicePorts = service.spec.ports ?? [];
  const matched: SlicePort[] = [];
  const warnings: string[] = [];
  const served = new Set<number>();
  for (const p of ports) {
    const i = p.name === '' && servicePorts.length === 1 ? 0 : servicePorts.findIndex((sp) => (sp.name ?? '') === p.name);
    const sp = servicePorts[i];
    if (sp === undefined) {
      warnings.push(`port ${describePort(p)} matches no port of the Service`);
      continue;
    }
    if ((sp.protocol ?? 'TCP') !== p.protocol) {
      warnings.push(`port ${describePort(p)} differs in protocol from Service port ${describePort(sp)}`);
      continue;
    }
    served.add(i);
    matched.push({
      name: sp.name ?? '',
      port: p.port,
      protocol: p.protocol,
      ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }),
    });
  }
  servicePorts.forEach((sp, i) => {
    if (!served.has(i)) warnings.push(`Service port ${describePort(sp)} has no entry in spec.ports, so its traffic is not served`);
  });
  if (matched.length === 0) {
    return {
      usable: false,
      reason: 'PortNotFound',
      message: `no port of spec.ports matches a port of Service ${key}: ${warnings.join('; ')}`,
    };
  }
  return { usable: true, ports: matched, portWarnings: warnings, headless: service.spec.clusterIP === 'None' };
}
