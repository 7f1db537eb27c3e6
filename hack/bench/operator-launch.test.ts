import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseMemoryQuantity, parseShippedRuntime, SHIPPED_DEPLOYMENT } from './operator-launch.ts';

const deployment = (env: string, limits = 'memory: 512Mi') => `apiVersion: v1
kind: Namespace
metadata: {name: x}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: op}
spec:
  template:
    spec:
      containers:
        - name: sidecar
          env: [{name: NODE_OPTIONS, value: --wrong}]
        - name: manager
          env: ${env}
          resources:
            limits: {${limits}}
`;

describe('parseShippedRuntime', () => {
  it('takes the literal env of the manager container, skipping valueFrom entries', () => {
    const r = parseShippedRuntime(
      deployment(
        '[{name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}, {name: NODE_OPTIONS, value: --max-old-space-size=256}]',
      ),
    );
    assert.deepEqual(r.env, { NODE_OPTIONS: '--max-old-space-size=256' });
    assert.equal(r.memoryLimitBytes, 512 * 1024 * 1024);
  });

  it('throws when no Deployment has the container', () => {
    assert.throws(() => parseShippedRuntime('kind: Service\n'), /no Deployment with a container "manager"/);
  });

  it('reads the shipped manifest: the benchmark runs what config/manager runs', () => {
    const text = readFileSync(fileURLToPath(new URL(`../../${SHIPPED_DEPLOYMENT}`, import.meta.url)), 'utf8');
    const r = parseShippedRuntime(text);
    assert.match(r.env.NODE_OPTIONS ?? '', /--max-old-space-size=\d+/);
    assert.ok((r.memoryLimitBytes ?? 0) > 0);
  });
});

describe('parseMemoryQuantity', () => {
  for (const [q, want] of [
    ['512Mi', 512 * 1024 ** 2],
    ['1Gi', 1024 ** 3],
    ['1G', 1e9],
    ['1000', 1000],
  ] as const) {
    it(`${q} -> ${want}`, () => assert.equal(parseMemoryQuantity(q), want));
  }
  it('rejects what it does not know', () => assert.throws(() => parseMemoryQuantity('lots'), /unsupported/));
});
