import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffWriteCounters, parsePrometheusText, totalBodyBytes, totalWrites, writeCounters } from './apiserver-metrics.ts';

// Lines as kube-apiserver v1.36 exposes them.
const TEXT = `# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="discovery.k8s.io",resource="endpointslices",scope="resource",subresource="",verb="POST",version="v1"} 4
apiserver_request_total{code="200",component="apiserver",dry_run="",group="discovery.k8s.io",resource="endpointslices",scope="resource",subresource="",verb="PUT",version="v1"} 6
apiserver_request_total{code="409",component="apiserver",dry_run="",group="discovery.k8s.io",resource="endpointslices",scope="resource",subresource="",verb="PUT",version="v1"} 1
apiserver_request_total{code="200",component="apiserver",dry_run="All",group="discovery.k8s.io",resource="endpointslices",scope="resource",subresource="",verb="PUT",version="v1"} 100
apiserver_request_total{code="200",component="apiserver",dry_run="",group="discovery.k8s.io",resource="endpointslices",scope="namespace",subresource="",verb="LIST",version="v1"} 50
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="endpoints",scope="resource",subresource="",verb="DELETE",version="v1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"} 900
apiserver_request_body_size_bytes_sum{group="discovery.k8s.io",resource="endpointslices",verb="create"} 1450
apiserver_request_body_size_bytes_sum{group="discovery.k8s.io",resource="endpointslices",verb="update"} 50
apiserver_request_body_size_bytes_sum{group="",resource="pods",verb="patch"} 99999
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="endpoints",scope="resource",subresource="",verb="PUT",version="v1"} 1.5
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="",resource="endpoints",scope="resource",subresource="",verb="GET",version="v1"} 40
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="All",group="",resource="endpoints",scope="resource",subresource="",verb="PUT",version="v1"} 7
apiserver_request_duration_seconds_sum{component="apiserver",dry_run="",group="discovery.k8s.io",resource="endpointslices",scope="resource",subresource="",verb="POST",version="v1"} 0.25
`;

describe('parsePrometheusText', () => {
  it('parses names, labels and values, skipping comments', () => {
    const samples = parsePrometheusText(TEXT);
    assert.equal(samples.length, 14);
    assert.deepEqual(samples[0]?.labels.verb, 'POST');
    assert.equal(samples[0]?.value, 4);
  });
  it('keeps only the asked names', () => {
    assert.equal(parsePrometheusText(TEXT, new Set(['apiserver_request_body_size_bytes_sum'])).length, 3);
  });
  it('unescapes label values', () => {
    assert.equal(parsePrometheusText('m{a="x\\"y"} 1')[0]?.labels.a, 'x"y');
  });
});

describe('writeCounters', () => {
  const c = writeCounters(parsePrometheusText(TEXT), ['endpoints', 'endpointslices']);
  it('counts writes of the asked resources, failed ones included, dry runs, reads and other resources excluded', () => {
    assert.deepEqual(c.requests, { endpoints: { DELETE: 2 }, endpointslices: { POST: 4, PUT: 7 } });
    assert.equal(totalWrites(c), 13);
    assert.equal(totalWrites(c, 'endpoints'), 2);
  });
  it('sums request body bytes per resource', () => {
    assert.deepEqual(c.bodyBytes, { endpoints: 0, endpointslices: 1500 });
    assert.equal(totalBodyBytes(c), 1500);
  });
  it('sums the seconds the API server spent on writes, reads and dry runs excluded', () => {
    assert.deepEqual(c.seconds, { endpoints: 1.5, endpointslices: 0.25 });
  });
  it('diffs two readings', () => {
    const later = writeCounters(parsePrometheusText(TEXT.replace('verb="POST",version="v1"} 4', 'verb="POST",version="v1"} 9')), [
      'endpoints',
      'endpointslices',
    ]);
    const d = diffWriteCounters(c, later);
    assert.equal(totalWrites(d), 5);
    assert.deepEqual(d.requests.endpointslices, { POST: 5 });
    assert.deepEqual(d.seconds, { endpoints: 0, endpointslices: 0 });
  });
});
