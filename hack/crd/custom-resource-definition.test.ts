import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import type { CustomResourceDescriptor } from '../../api/v1alpha1/custom-resource.ts';
import { externalEndpointsCrd } from '../../api/v1alpha1/external-endpoints.ts';
import { sessionAffinityPolicyCrd } from '../../api/v1alpha1/session-affinity-policy.ts';
import { customResourceDefinition, resolveJsonPath } from './custom-resource-definition.ts';
import type { JSONSchemaProps } from './json-schema-props.ts';
import { structuralViolations } from './structural-check.ts';

const widget: CustomResourceDescriptor = {
  group: 'example.com',
  version: 'v1beta1',
  kind: 'Widget',
  plural: 'widgets',
  singular: 'widget',
  shortNames: ['wdg'],
  categories: ['all-examples'],
  scope: 'Namespaced',
  description: 'A widget.',
  spec: z.object({ size: z.int32().min(1).describe('Size.') }).describe('Desired state.'),
  status: z.object({ ready: z.int32().optional().describe('Ready parts.') }).describe('Observed state.'),
  printerColumns: [
    { name: 'Ready', type: 'integer', jsonPath: '.status.ready', description: 'Ready parts.' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Age.' },
  ],
};

describe('customResourceDefinition', () => {
  it('builds the CRD: names, scope, one served storage version, status subresource, printer columns', () => {
    const crd = customResourceDefinition(widget);
    assert.equal(crd.metadata.name, 'widgets.example.com');
    assert.deepEqual(crd.spec.names, {
      kind: 'Widget',
      listKind: 'WidgetList',
      plural: 'widgets',
      singular: 'widget',
      shortNames: ['wdg'],
      categories: ['all-examples'],
    });
    assert.equal(crd.spec.scope, 'Namespaced');
    const [version, ...others] = crd.spec.versions;
    assert.equal(others.length, 0);
    assert.ok(version);
    assert.deepEqual([version.name, version.served, version.storage], ['v1beta1', true, true]);
    assert.deepEqual(version.subresources, { status: {} });
    assert.deepEqual(version.additionalPrinterColumns, [
      { name: 'Ready', type: 'integer', jsonPath: '.status.ready', description: 'Ready parts.' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Age.' },
    ]);
  });

  it('wraps spec and status in the root every custom resource needs', () => {
    const root = customResourceDefinition(widget).spec.versions[0]?.schema.openAPIV3Schema;
    assert.deepEqual(Object.keys(root?.properties ?? {}), ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    assert.deepEqual(root?.properties?.metadata, { type: 'object' });
    assert.deepEqual(root?.required, ['spec']);
    assert.equal(root?.description, 'A widget.');
    assert.deepEqual(root?.properties?.spec, {
      description: 'Desired state.',
      type: 'object',
      properties: { size: { description: 'Size.', type: 'integer', format: 'int32', minimum: 1 } },
      required: ['size'],
    });
  });

  const refusals: { name: string; given: CustomResourceDescriptor; want: RegExp }[] = [
    {
      name: 'a printer column on a field that does not exist',
      given: { ...widget, printerColumns: [{ name: 'Parts', type: 'integer', jsonPath: '.status.parts', description: 'x' }] },
      want: /printer column Parts: \.status\.parts does not exist in the schema/,
    },
    {
      name: 'a printer column whose type differs from the field',
      given: { ...widget, printerColumns: [{ name: 'Ready', type: 'string', jsonPath: '.status.ready', description: 'x' }] },
      want: /printer column Ready: \.status\.ready is integer, not string/,
    },
    {
      name: 'a printer column path with a filter',
      given: { ...widget, printerColumns: [{ name: 'R', type: 'string', jsonPath: '.status.conditions[0].status', description: 'x' }] },
      want: /must be a simple \.a\.b path/,
    },
    {
      name: 'a field without a description',
      given: { ...widget, spec: z.object({ size: z.int32() }).describe('Desired state.') },
      want: /spec\.size: has no description/,
    },
    {
      name: 'a schema that cannot be converted',
      given: { ...widget, status: z.object({ at: z.date().describe('x') }).describe('y') },
      want: /status: zod cannot express this schema: Date cannot be represented/,
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name}`, () => {
      assert.throws(() => customResourceDefinition(c.given), c.want);
    });
  }
});

describe('resolveJsonPath', () => {
  const schema: JSONSchemaProps = { type: 'object', properties: { status: { type: 'object', properties: { n: { type: 'integer' } } } } };
  it('follows properties, and treats metadata as the API server does', () => {
    assert.deepEqual(resolveJsonPath(schema, '.status.n'), { type: 'integer' });
    assert.equal(resolveJsonPath(schema, '.status.m'), undefined);
    assert.equal(resolveJsonPath(schema, '.metadata.creationTimestamp')?.type, 'string');
  });
});

describe('the CRDs of this operator', () => {
  for (const d of [externalEndpointsCrd, sessionAffinityPolicyCrd]) {
    const crd = customResourceDefinition(d);
    const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
    assert.ok(root);
    const spec = root.properties?.spec;

    it(`${d.kind}: is structural, described everywhere and free of $ref`, () => {
      assert.deepEqual(
        structuralViolations(root, { requireDescriptions: true }).filter((v) => !v.startsWith('metadata: ')),
        [],
      );
      assert.equal(JSON.stringify(root).includes('$ref'), false);
      assert.equal(JSON.stringify(root).includes('"additionalProperties":false'), false);
    });

    it(`${d.kind}: is namespaced in group kube-endpoints-operator.io/v1alpha1 with a short name and the category`, () => {
      assert.equal(crd.spec.group, 'kube-endpoints-operator.io');
      assert.equal(crd.spec.versions[0]?.name, 'v1alpha1');
      assert.equal(crd.spec.scope, 'Namespaced');
      assert.equal(crd.spec.names.shortNames.length, 1);
      assert.deepEqual(crd.spec.names.categories, ['kube-endpoints-operator']);
    });

    if (d.kind === 'ExternalEndpoints') {
      it('ExternalEndpoints: enforces "exactly one of ip or dnsName" with CEL', () => {
        const rules = spec?.properties?.endpoints?.items?.['x-kubernetes-validations']?.map((v) => v.rule);
        assert.deepEqual(rules, ['has(self.ip) != has(self.dnsName)']);
      });
      it('ExternalEndpoints: the probe port is int-or-string, ports are a list-map by name', () => {
        assert.equal(spec?.properties?.healthCheck?.properties?.port?.['x-kubernetes-int-or-string'], true);
        assert.deepEqual(spec?.properties?.ports?.['x-kubernetes-list-map-keys'], ['name']);
      });
      it('ExternalEndpoints: prints READY, TOTAL and AGE (the active tier with -o wide)', () => {
        assert.deepEqual(
          crd.spec.versions[0]?.additionalPrinterColumns.map((c) => `${c.name.toUpperCase()}${c.priority === 1 ? ' (wide)' : ''}`),
          ['READY', 'TOTAL', 'TIER (wide)', 'AGE'],
        );
      });
    } else {
      it('SessionAffinityPolicy: bounds the timeout 1..86400 with no OpenAPI default, and forbids it under None with CEL', () => {
        const timeout = spec?.properties?.timeoutSeconds;
        assert.deepEqual([timeout?.minimum, timeout?.maximum, timeout?.default], [1, 86400, undefined]);
        assert.deepEqual(
          spec?.['x-kubernetes-validations']?.map((v) => v.rule),
          ["self.sessionAffinity == 'ClientIP' || !has(self.timeoutSeconds)"],
        );
      });
      it('SessionAffinityPolicy: prints AFFINITY, TIMEOUT, MATCHED, APPLIED and AGE (mode and priority with -o wide)', () => {
        const columns = crd.spec.versions[0]?.additionalPrinterColumns ?? [];
        assert.deepEqual(
          columns.filter((c) => c.priority === undefined).map((c) => c.name.toUpperCase()),
          ['AFFINITY', 'TIMEOUT', 'MATCHED', 'APPLIED', 'AGE'],
        );
        assert.deepEqual(
          columns.filter((c) => c.priority === 1).map((c) => c.name.toUpperCase()),
          ['MODE', 'PRIORITY'],
        );
      });
    }
  }
});
