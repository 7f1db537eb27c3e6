import type { z } from 'zod';

// What a CustomResourceDefinition needs beyond the zod types: names, scope and how `kubectl get` prints the kind.
// Declared beside each kind in api/; hack/crd turns a descriptor into the CRD manifest.

/** An additionalPrinterColumn of the CRD. `jsonPath` is a simple path (`.status.readyCount`) into the object. */
export interface PrinterColumn {
  readonly name: string;
  readonly type: 'integer' | 'number' | 'string' | 'boolean' | 'date';
  readonly jsonPath: string;
  readonly description: string;
  /** 0 (default): always shown; 1 and more: only with `-o wide`. */
  readonly priority?: number;
  readonly format?: string;
}

/** Everything needed to generate the CRD of one kind with one served version. */
export interface CustomResourceDescriptor {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly categories: readonly string[];
  readonly scope: 'Namespaced' | 'Cluster';
  /** Description of the kind: the top of `kubectl explain <kind>`. */
  readonly description: string;
  readonly spec: z.ZodType;
  readonly status: z.ZodType;
  readonly printerColumns: readonly PrinterColumn[];
}
