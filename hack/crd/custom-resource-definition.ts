import type { CustomResourceDescriptor, PrinterColumn } from '../../api/v1alpha1/custom-resource.ts';
import type { JSONSchemaProps } from './json-schema-props.ts';
import { structuralViolations } from './structural-check.ts';
import { CrdSchemaError, toStructuralSchema } from './structural-schema.ts';

// A CustomResourceDescriptor (api/) -> the apiextensions.k8s.io/v1 CustomResourceDefinition object: the root wrapper
// every CRD schema needs (apiVersion, kind, metadata), the status subresource, names and printer columns. The result is
// checked offline before it is returned, so an invalid CRD never reaches a file.

/** The generated CRD manifest (the fields we set; a plain JSON object). */
export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced' | 'Cluster';
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JSONSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumnProps[];
    }[];
  };
}

interface PrinterColumnProps {
  name: string;
  type: PrinterColumn['type'];
  jsonPath: string;
  description: string;
  priority?: number;
  format?: string;
}

/**
 * The root schema of a custom resource: apiVersion, kind, metadata (left to the API server, which validates it
 * itself), and the given spec (required) and status.
 */
export function customResourceSchema(description: string, spec: JSONSchemaProps, status: JSONSchemaProps): JSONSchemaProps {
  return {
    description,
    type: 'object',
    properties: {
      apiVersion: {
        description: 'Versioned schema of this object; the API server converts objects to the version it stores.',
        type: 'string',
      },
      kind: { description: 'REST resource kind of this object, in CamelCase.', type: 'string' },
      metadata: { type: 'object' },
      spec,
      status,
    },
    required: ['spec'],
  };
}

/**
 * Resolves a simple printer-column path (`.status.readyCount`) in the schema; undefined when a segment is missing.
 * `metadata.*` resolves to a string (the API server owns that schema).
 */
export function resolveJsonPath(schema: JSONSchemaProps, jsonPath: string): JSONSchemaProps | undefined {
  const segments = jsonPath.split('.').slice(1);
  if (segments[0] === 'metadata') return { type: 'string', format: 'date-time' };
  let node: JSONSchemaProps | undefined = schema;
  for (const seg of segments) node = node?.properties?.[seg];
  return node;
}

const COLUMN_TYPES: Record<PrinterColumn['type'], readonly string[]> = {
  integer: ['integer'],
  number: ['number', 'integer'],
  string: ['string'],
  boolean: ['boolean'],
  date: ['string'],
};

/**
 * Builds the CRD of `d`. Throws CrdSchemaError when a schema cannot be converted, when the result is not structural
 * (every violation listed), or when a printer column names a field that does not exist or has another type.
 */
export function customResourceDefinition(d: CustomResourceDescriptor): CustomResourceDefinition {
  const spec = toStructuralSchema(d.spec, 'spec');
  const status = toStructuralSchema(d.status, 'status');
  const openAPIV3Schema = customResourceSchema(d.description, spec, status);

  // metadata stays a bare `type: object`: the API server refuses anything else there but name/generateName rules.
  const violations = structuralViolations(openAPIV3Schema, { requireDescriptions: true }).filter(
    (v) => !(v.startsWith('metadata: ') && v.includes('no description')),
  );
  for (const c of d.printerColumns) {
    if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(c.jsonPath)) {
      violations.push(`printer column ${c.name}: jsonPath ${c.jsonPath} must be a simple .a.b path`);
      continue;
    }
    const target = resolveJsonPath(openAPIV3Schema, c.jsonPath);
    if (target === undefined) violations.push(`printer column ${c.name}: ${c.jsonPath} does not exist in the schema`);
    else if (target.type === undefined || !COLUMN_TYPES[c.type].includes(target.type)) {
      violations.push(`printer column ${c.name}: ${c.jsonPath} is ${target.type ?? 'untyped'}, not ${c.type}`);
    }
  }
  if (violations.length > 0) throw new CrdSchemaError(d.kind, `invalid CRD schema:\n  ${violations.join('\n  ')}`);

  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.${d.group}` },
    spec: {
      group: d.group,
      names: {
        kind: d.kind,
        listKind: `${d.kind}List`,
        plural: d.plural,
        singular: d.singular,
        shortNames: [...d.shortNames],
        categories: [...d.categories],
      },
      scope: d.scope,
      versions: [
        {
          name: d.version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources: { status: {} },
          additionalPrinterColumns: d.printerColumns.map((c) => ({
            name: c.name,
            type: c.type,
            jsonPath: c.jsonPath,
            description: c.description,
            ...(c.priority === undefined ? {} : { priority: c.priority }),
            ...(c.format === undefined ? {} : { format: c.format }),
          })),
        },
      ],
    },
  };
}
