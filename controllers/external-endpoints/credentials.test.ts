import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { type CredentialsRef, credentialsFromSecret, type SecretLike } from './credentials.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const ref: CredentialsRef = { name: 'pg-probe', usernameKey: 'username', passwordKey: 'password' };
const labelled = { labels: { 'kube-endpoints-operator.io/probe-credentials': 'true' } };

describe('credentialsFromSecret', () => {
  const cases: { name: string; secret: SecretLike | undefined; ref?: CredentialsRef; want: unknown }[] = [
    {
      name: 'decodes both keys of a labelled Secret',
      secret: { metadata: labelled, data: { username: b64('probe'), password: b64('s3cr3t ü') } },
      want: { value: { username: 'probe', password: 's3cr3t ü' } },
    },
    { name: 'a missing Secret', secret: undefined, want: { error: 'Secret db/pg-probe not found' } },
    {
      name: 'an unlabelled Secret is refused (no confused deputy)',
      secret: { data: { username: b64('u'), password: b64('p') } },
      want: {
        error: 'Secret db/pg-probe is not labelled kube-endpoints-operator.io/probe-credentials: "true", so it is not used for probing',
      },
    },
    {
      name: 'a label with another value is refused',
      secret: { metadata: { labels: { 'kube-endpoints-operator.io/probe-credentials': 'yes' } }, data: {} },
      want: {
        error: 'Secret db/pg-probe is not labelled kube-endpoints-operator.io/probe-credentials: "true", so it is not used for probing',
      },
    },
    {
      name: 'a missing key is named, the value of the other never shown',
      secret: { metadata: labelled, data: { username: b64('probe') } },
      want: { error: 'Secret db/pg-probe has no key "password"' },
    },
    {
      name: 'custom keys',
      secret: { metadata: labelled, data: { u: b64('x'), p: b64('y') } },
      ref: { name: 'pg-probe', usernameKey: 'u', passwordKey: 'p' },
      want: { value: { username: 'x', password: 'y' } },
    },
    {
      name: 'no data at all',
      secret: { metadata: labelled },
      want: { error: 'Secret db/pg-probe has no key "username" or "password"' },
    },
  ];
  for (const c of deepFreeze(cases)) it(c.name, () => assert.deepEqual(credentialsFromSecret('db', c.ref ?? ref, c.secret), c.want));
});
