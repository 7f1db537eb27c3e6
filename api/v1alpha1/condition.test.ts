import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiTime, type Condition, conditionSchema, findCondition, isConditionTrue, removeCondition, setCondition } from './condition.ts';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const T0 = Date.parse('2026-03-01T10:00:00Z');
const T1 = Date.parse('2026-03-01T10:05:00.750Z');

const ready = (status: Condition['status'], at: string, extra: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status,
  lastTransitionTime: at,
  reason: status === 'True' ? 'BackendsReady' : 'NoReadyBackends',
  message: '',
  ...extra,
});

describe('apiTime', () => {
  it('formats a clock reading as RFC 3339 UTC with second precision, as metav1.Time', () => {
    assert.equal(apiTime(T1), '2026-03-01T10:05:00Z');
    assert.equal(apiTime(T0), '2026-03-01T10:00:00Z');
  });
});

describe('setCondition', () => {
  const cases: {
    name: string;
    given: readonly Condition[] | undefined;
    set: Parameters<typeof setCondition>[1];
    want: readonly Condition[];
  }[] = [
    {
      name: 'appends a new type with lastTransitionTime now',
      given: undefined,
      set: { type: 'Ready', status: 'True', reason: 'BackendsReady', message: '' },
      want: [ready('True', '2026-03-01T10:05:00Z')],
    },
    {
      name: 'keeps lastTransitionTime when the status did not change, but takes the new reason, message and generation',
      given: [ready('False', '2026-03-01T10:00:00Z')],
      set: { type: 'Ready', status: 'False', reason: 'ServiceNotFound', message: 'no Service web', observedGeneration: 4 },
      want: [ready('False', '2026-03-01T10:00:00Z', { reason: 'ServiceNotFound', message: 'no Service web', observedGeneration: 4 })],
    },
    {
      name: 'moves lastTransitionTime to now when the status changed',
      given: [ready('False', '2026-03-01T10:00:00Z')],
      set: { type: 'Ready', status: 'True', reason: 'BackendsReady', message: '' },
      want: [ready('True', '2026-03-01T10:05:00Z')],
    },
    {
      name: 'replaces in place and leaves other types untouched, order kept',
      given: [
        { type: 'ServiceFound', status: 'True', lastTransitionTime: '2026-02-01T00:00:00Z', reason: 'ServiceFound', message: '' },
        ready('True', '2026-03-01T10:00:00Z'),
        { type: 'Degraded', status: 'False', lastTransitionTime: '2026-02-01T00:00:00Z', reason: 'AllBackendsHealthy', message: '' },
      ],
      set: { type: 'Ready', status: 'Unknown', reason: 'NotPublished', message: 'probing' },
      want: [
        { type: 'ServiceFound', status: 'True', lastTransitionTime: '2026-02-01T00:00:00Z', reason: 'ServiceFound', message: '' },
        ready('Unknown', '2026-03-01T10:05:00Z', { reason: 'NotPublished', message: 'probing' }),
        { type: 'Degraded', status: 'False', lastTransitionTime: '2026-02-01T00:00:00Z', reason: 'AllBackendsHealthy', message: '' },
      ],
    },
    {
      name: 'drops observedGeneration when the new condition has none',
      given: [ready('True', '2026-03-01T10:00:00Z', { observedGeneration: 2 })],
      set: { type: 'Ready', status: 'True', reason: 'BackendsReady', message: '' },
      want: [ready('True', '2026-03-01T10:00:00Z')],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const given = deepFreeze(c.given);
      assert.deepEqual(setCondition(given, c.set, T1), c.want);
    });
  }

  it('returns the same array when nothing changed, so callers can skip the status write', () => {
    const given = deepFreeze([ready('True', '2026-03-01T10:00:00Z', { observedGeneration: 3 })]);
    const got = setCondition(given, { type: 'Ready', status: 'True', reason: 'BackendsReady', message: '', observedGeneration: 3 }, T1);
    assert.equal(got, given);
  });

  it('produces conditions that the schema accepts', () => {
    const got = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'BackendsReady', message: 'all 3 ready' }, T1);
    for (const c of got) assert.ok(conditionSchema.safeParse(c).success);
  });
});

describe('findCondition, isConditionTrue, removeCondition', () => {
  const given = deepFreeze([ready('True', '2026-03-01T10:00:00Z'), ready('False', '2026-03-01T10:00:00Z', { type: 'Degraded' })]);

  it('finds by type', () => {
    assert.equal(findCondition(given, 'Degraded')?.status, 'False');
    assert.equal(findCondition(given, 'Missing'), undefined);
    assert.equal(findCondition(undefined, 'Ready'), undefined);
  });

  it('is true only for an existing condition with status True', () => {
    assert.equal(isConditionTrue(given, 'Ready'), true);
    assert.equal(isConditionTrue(given, 'Degraded'), false);
    assert.equal(isConditionTrue(given, 'Missing'), false);
  });

  it('removes by type, and returns the same array when the type is absent', () => {
    assert.deepEqual(
      removeCondition(given, 'Ready').map((c) => c.type),
      ['Degraded'],
    );
    assert.equal(removeCondition(given, 'Missing'), given);
  });
});

describe('conditionSchema', () => {
  const valid = ready('True', '2026-03-01T10:00:00Z');
  const cases: { name: string; given: unknown; want: boolean }[] = [
    { name: 'a metav1.Condition', given: valid, want: true },
    { name: 'a prefixed type', given: { ...valid, type: 'example.com/Probed' }, want: true },
    { name: 'a time with an offset', given: { ...valid, lastTransitionTime: '2026-03-01T12:00:00+02:00' }, want: true },
    { name: 'status outside True/False/Unknown', given: { ...valid, status: 'Yes' }, want: false },
    { name: 'an empty reason', given: { ...valid, reason: '' }, want: false },
    { name: 'a reason with spaces', given: { ...valid, reason: 'Not Ready' }, want: false },
    { name: 'a missing message', given: { ...valid, message: undefined }, want: false },
    { name: 'a time that is not RFC 3339', given: { ...valid, lastTransitionTime: 'yesterday' }, want: false },
  ];
  for (const c of cases) {
    it(`${c.want ? 'accepts' : 'rejects'} ${c.name}`, () => {
      assert.equal(conditionSchema.safeParse(c.given).success, c.want);
    });
  }
});
