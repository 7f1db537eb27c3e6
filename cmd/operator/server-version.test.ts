import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeApiClient } from '../../controllers/runtime/testing/fake-api-client.ts';
import { checkServerVersion, classifyServerVersion, type ServerVersionCheck } from './server-version.ts';

const info = (gitVersion: string, major: string, minor: string) => ({ gitVersion, major, minor, platform: 'linux/amd64' });

describe('classifyServerVersion', () => {
  const cases: { name: string; body: unknown; want: ServerVersionCheck }[] = [
    { name: 'the parity target', body: info('v1.37.2', '1', '37'), want: { kind: 'tested', gitVersion: 'v1.37.2' } },
    { name: 'the oldest tested minor', body: info('v1.36.4', '1', '36'), want: { kind: 'tested', gitVersion: 'v1.36.4' } },
    {
      name: 'a vendor suffix on the minor',
      body: info('v1.37.1-gke.1200', '1', '37+'),
      want: { kind: 'tested', gitVersion: 'v1.37.1-gke.1200' },
    },
    {
      name: 'an older minor',
      body: info('v1.35.4', '1', '35'),
      want: { kind: 'untested', gitVersion: 'v1.35.4', tested: 'v1.36-v1.37' },
    },
    {
      name: 'a newer minor (pre-release included)',
      body: info('v1.38.0-beta.0', '1', '38'),
      want: { kind: 'untested', gitVersion: 'v1.38.0-beta.0', tested: 'v1.36-v1.37' },
    },
    {
      name: 'a minor that is not a number',
      body: info('v1.x', '1', ''),
      want: { kind: 'untested', gitVersion: 'v1.x', tested: 'v1.36-v1.37' },
    },
    { name: 'another major', body: info('v2.0.0', '2', '0'), want: { kind: 'untested', gitVersion: 'v2.0.0', tested: 'v1.36-v1.37' } },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(classifyServerVersion(c.body), c.want));

  it('reports an unparsable answer as unknown, naming the problem', () => {
    const got = classifyServerVersion({ major: '1' });
    assert.equal(got.kind, 'unknown');
    assert.match(got.kind === 'unknown' ? got.reason : '', /unexpected \/version answer/);
  });
});

describe('checkServerVersion', () => {
  it('asks /version', async () => {
    const client = new FakeApiClient();
    client.seedPath('/version', info('v1.37.2', '1', '37'));
    const got = await checkServerVersion(client);
    assert.deepEqual(
      client.calls.map((c) => c.path),
      ['/version'],
    );
    assert.deepEqual(got, { kind: 'tested', gitVersion: 'v1.37.2' });
  });

  it('turns a failed request into unknown instead of throwing', async () => {
    const client = new FakeApiClient();
    client.seedPath('/version', info('v1.37.2', '1', '37'));
    client.failOn = () => new Error('forbidden');
    const got = await checkServerVersion(client);
    assert.deepEqual(got, { kind: 'unknown', reason: 'forbidden' });
  });
});
