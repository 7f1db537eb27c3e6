import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSamples, sumSamples } from './prometheus-text.ts';

const TEXT = `# HELP apiserver_request_total Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",group="discovery.k8s.io",resource="endpointslices",scope="resource",subresource="",verb="POST",version="v1"} 7
apiserver_request_total{code="200",component="apiserver",group="",resource="endpoints",scope="resource",subresource="",verb="PUT",version="v1"} 3
apiserver_request_total{code="200",component="apiserver",group="",resource="endpoints",scope="namespace",subresource="",verb="LIST",version="v1"} 40
apiserver_request_total{code="200",component="apiserver",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"} 5
workqueue_depth{name="endpoint \\"x\\""} 2
garbage line
`;

describe('Prometheus text', () => {
  const samples = parseSamples(TEXT);
  it('sums the samples whose labels match', () => {
    const writes = { verb: ['POST', 'PUT', 'PATCH', 'DELETE'], resource: ['endpoints', 'endpointslices'] };
    assert.equal(sumSamples(samples, 'apiserver_request_total', writes), 10);
    assert.equal(sumSamples(samples, 'apiserver_request_total', { verb: ['PATCH'] }), 5);
    assert.equal(sumSamples(samples, 'apiserver_request_total'), 55);
    assert.equal(sumSamples(samples, 'no_such_metric'), 0);
  });
  it('unescapes label values and skips what is not a sample', () => {
    assert.deepEqual(samples.at(-1), { name: 'workqueue_depth', labels: { name: 'endpoint "x"' }, value: 2 });
    assert.equal(samples.length, 5);
  });
});
