import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deepFreeze } from '../runtime/testing/deep-freeze.ts';
import { type AffinityRecord, formatRecord, type RecordState, readRecord, recordedPolicy } from './record.ts';
import { CLIENT_IP, NONE, service } from './test-fixtures.ts';

describe('the Service record annotation', () => {
  const records: { name: string; given: AffinityRecord; want: string }[] = [
    {
      name: 'held, with a previous manager',
      given: {
        kind: 'held',
        policy: 'p',
        applied: CLIENT_IP(60),
        previous: NONE,
        previousManager: 'helm',
        previousOwnerSet: false,
      },
      want: '{"policy":"p","applied":{"sessionAffinity":"ClientIP","timeoutSeconds":60},"previous":{"sessionAffinity":"None"},"previousManager":"helm","previousOwnerSet":false}',
    },
    {
      name: 'held, without a previous manager',
      given: {
        kind: 'held',
        policy: 'p',
        applied: NONE,
        previous: CLIENT_IP(5),
        previousOwnerSet: true,
      },
      want: '{"policy":"p","applied":{"sessionAffinity":"None"},"previous":{"sessionAffinity":"ClientIP","timeoutSeconds":5},"previousOwnerSet":true}',
    },
    {
      name: 'ownerSet',
      given: { kind: 'ownerSet' },
      want: '{"ownerSet":true}',
    },
    {
      name: 'handback',
      given: {
        kind: 'handback',
        target: CLIENT_IP(700),
        manager: 'kubectl-edit',
      },
      want: '{"handback":{"sessionAffinity":"ClientIP","timeoutSeconds":700},"manager":"kubectl-edit"}',
    },
  ];
  for (const c of records) {
    it(`formats and reads back ${c.name}`, () => {
      const formatted = formatRecord(deepFreeze(c.given));
      assert.equal(formatted, c.want);
      assert.deepEqual(readRecord(deepFreeze(service('web', { record: formatted }))), c.given);
    });
  }

  const unreadable: { name: string; given: string; want: RecordState }[] = [
    {
      name: 'not JSON',
      given: '{"policy":',
      want: { kind: 'invalid', raw: '{"policy":' },
    },
    {
      name: 'an unknown shape',
      given: '{"foo":1}',
      want: { kind: 'invalid', raw: '{"foo":1}' },
    },
    {
      name: 'an extra key (hand-edited)',
      given: '{"ownerSet":true,"note":"x"}',
      want: { kind: 'invalid', raw: '{"ownerSet":true,"note":"x"}' },
    },
    {
      name: 'a timeout out of range',
      given: '{"handback":{"sessionAffinity":"ClientIP","timeoutSeconds":0}}',
      want: {
        kind: 'invalid',
        raw: '{"handback":{"sessionAffinity":"ClientIP","timeoutSeconds":0}}',
      },
    },
  ];
  for (const c of unreadable) {
    it(`reads ${c.name} as invalid`, () => assert.deepEqual(readRecord(deepFreeze(service('web', { record: c.given }))), c.want));
  }

  it('reads no annotation as none', () => assert.deepEqual(readRecord(deepFreeze(service('web'))), { kind: 'none' }));

  it('names the holding policy only for held records', () => {
    const held: AffinityRecord = {
      kind: 'held',
      policy: 'p',
      applied: NONE,
      previous: NONE,
      previousOwnerSet: false,
    };
    assert.equal(recordedPolicy(deepFreeze(service('a', { record: held }))), 'p');
    assert.equal(recordedPolicy(deepFreeze(service('b', { record: { kind: 'ownerSet' } }))), undefined);
  });
});
