import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { externalEndpointsSchema } from './external-endpoints.ts';
import { fieldErrors } from './field-errors.ts';
import { sessionAffinityPolicySchema } from './session-affinity-policy.ts';

// The shipped samples against the zod types: every valid sample parses, and every sample under invalid/ is refused
// with the message its expect-error annotation names. test/integration/crds.test.ts holds the API server to the same
// files, so zod and the CRD are checked against one set of examples.

const SAMPLES = join(import.meta.dirname, '../../config/samples');
const EXPECT_ERROR = 'test.kube-endpoints-operator.io/expect-error';

const objectSchema = z.looseObject({
  kind: z.string(),
  metadata: z.looseObject({ name: z.string(), annotations: z.record(z.string(), z.string()).optional() }),
});

function objectsIn(dir: string): { file: string; object: z.infer<typeof objectSchema> }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(dir, file), 'utf8')).map((doc) => ({ file, object: objectSchema.parse(doc.toJS()) })),
    );
}

function zodErrors(object: unknown, kind: string): string[] {
  const schema =
    kind === 'ExternalEndpoints' ? externalEndpointsSchema : kind === 'SessionAffinityPolicy' ? sessionAffinityPolicySchema : undefined;
  assert.ok(schema, `unexpected kind ${kind}`);
  const r = schema.safeParse(object);
  return r.success ? [] : fieldErrors(r.error);
}

describe('config/samples', () => {
  const valid = objectsIn(SAMPLES).filter((s) => s.object.kind !== 'Service');
  it('has a sample of each kind', () => {
    assert.deepEqual([...new Set(valid.map((s) => s.object.kind))].sort(), ['ExternalEndpoints', 'SessionAffinityPolicy']);
  });
  for (const { file, object } of valid) {
    it(`${file}: ${object.kind} ${object.metadata.name} is valid`, () => {
      assert.deepEqual(zodErrors(object, object.kind), []);
    });
  }

  it('feeds each ExternalEndpoints sample to a selectorless Service of the same name', () => {
    const all = objectsIn(SAMPLES);
    const xeps = all.filter((s) => s.object.kind === 'ExternalEndpoints');
    assert.ok(xeps.length > 0);
    for (const xep of xeps) {
      const svc = all.find((s) => s.object.kind === 'Service' && s.object.metadata.name === xep.object.metadata.name);
      assert.ok(svc, `no Service named like the ExternalEndpoints sample ${xep.object.metadata.name}`);
      assert.equal((svc.object.spec as { selector?: unknown }).selector, undefined);
    }
  });
});

describe('config/samples/invalid', () => {
  const invalid = objectsIn(join(SAMPLES, 'invalid'));
  it('has invalid samples of both kinds', () => {
    assert.deepEqual([...new Set(invalid.map((s) => s.object.kind))].sort(), ['ExternalEndpoints', 'SessionAffinityPolicy']);
  });
  for (const { file, object } of invalid) {
    const expected = object.metadata.annotations?.[EXPECT_ERROR];
    it(`${file}: refused with "${expected}"`, () => {
      assert.ok(expected, `${file} has no ${EXPECT_ERROR} annotation`);
      const errors = zodErrors(object, object.kind);
      assert.equal(errors.length, 1, `expected exactly one error, got:\n${errors.join('\n')}`);
      assert.ok(errors[0]?.includes(expected), `"${errors[0]}" does not contain "${expected}"`);
    });
  }
});
