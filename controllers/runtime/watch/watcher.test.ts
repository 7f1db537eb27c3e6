import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ScriptedApiClient } from '../../../test/fake-apiserver/scripted-api-client.ts';
import { apiErrorFrom, NetworkError } from '../api-errors.ts';
import { FakeClock, flushMicrotasks } from '../clock.ts';
import { PODS } from '../resource.ts';
import { Watcher, type WatcherEvent, type WatcherNotice, type WatcherOptions } from './watcher.ts';

type Raw = Readonly<Record<string, unknown>>;

const pod = (name: string, rv: string): Record<string, unknown> => ({ metadata: { name, namespace: 'default', resourceVersion: rv } });
const nameOf = (o: Raw) => (o.metadata as { name: string }).name;

function setup(options: Partial<WatcherOptions<Raw>> = {}) {
  const clock = new FakeClock();
  const client = new ScriptedApiClient();
  const notices: WatcherNotice[] = [];
  const watcher = new Watcher<Raw>(client, {
    resource: PODS,
    clock,
    random: () => 0,
    backoff: { initialMs: 100, maxMs: 400, resetAfterMs: 1000 },
    observe: (n) => notices.push(n),
    ...options,
  });
  const ac = new AbortController();
  const events: WatcherEvent<Raw>[] = [];
  let finished = false;
  const done = (async () => {
    for await (const e of watcher.run(ac.signal)) events.push(e);
    finished = true;
  })();
  const settle = () => flushMicrotasks(200);
  /** Answers the initial list with `objects` at `rv` and waits for the first watch. */
  const listed = async (rv = '10', objects: Record<string, unknown>[] = []) => {
    client.answerList({ items: objects, resourceVersion: rv, continue: undefined });
    await settle();
  };
  return { clock, client, watcher, notices, ac, events, done, settle, listed, isFinished: () => finished };
}

const retries = (notices: readonly WatcherNotice[]) =>
  notices.flatMap((n) => (n.kind === 'retrying' ? [{ phase: n.phase, delayMs: n.delayMs }] : []));

describe('Watcher', () => {
  it('emits one replace for a paginated list and then watches from its resourceVersion with bookmarks', async () => {
    const t = setup();
    t.client.answerList({ items: [pod('a', '5')], resourceVersion: '10', continue: 'page-2' });
    await t.settle();
    assert.equal(t.events.length, 0, 'nothing is emitted before the last page');
    t.client.answerList({ items: [pod('b', '7')], resourceVersion: '10', continue: undefined });
    await t.settle();
    assert.deepEqual(t.client.lists, [
      { labelSelector: undefined, fieldSelector: undefined, limit: 500, continue: undefined },
      { labelSelector: undefined, fieldSelector: undefined, limit: 500, continue: 'page-2' },
    ]);
    assert.equal(t.events.length, 1);
    const [replace] = t.events;
    assert.equal(replace?.type, 'replace');
    assert.deepEqual(
      replace.type === 'replace' && { objects: replace.objects.map(nameOf), rv: replace.resourceVersion, relist: replace.relist },
      {
        objects: ['a', 'b'],
        rv: '10',
        relist: false,
      },
    );
    assert.deepEqual(t.client.lastWatch().options, {
      resourceVersion: '10',
      labelSelector: undefined,
      fieldSelector: undefined,
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
      idleTimeoutMs: 300_000,
    });
    t.ac.abort();
    await t.done;
  });

  it('asks for the next list page before it decodes the current one (docs/performance.md, "Start-up")', async () => {
    const listsWhenDecoded = new Map<string, number>();
    const t = setup({
      decode: (raw) => {
        listsWhenDecoded.set(nameOf(raw), t.client.lists.length);
        return raw;
      },
    });
    t.client.answerList({ items: [pod('a', '5')], resourceVersion: '10', continue: 'page-2' });
    await t.settle();
    t.client.answerList({ items: [pod('b', '7')], resourceVersion: '10', continue: undefined });
    await t.settle();
    assert.deepEqual(Object.fromEntries(listsWhenDecoded), { a: 2, b: 2 }, 'page 2 was requested before page 1 was decoded; no page 3');
    assert.equal(t.events.length, 1);
    t.ac.abort();
    await t.done;
  });

  it('restarts a list from its first page when a continue token expires', async () => {
    const t = setup();
    t.client.answerList({ items: [pod('a', '5')], resourceVersion: '10', continue: 'page-2' });
    await t.settle();
    t.client.answerList(apiErrorFrom(410, '{"reason":"Expired"}', 'list', '/api/v1/pods', null));
    await t.clock.advance(100);
    t.client.answerList({ items: [pod('b', '7')], resourceVersion: '12', continue: undefined });
    await t.settle();
    assert.deepEqual(
      t.client.lists.map((l) => l.continue),
      [undefined, 'page-2', undefined],
    );
    const [replace] = t.events;
    assert.deepEqual(replace?.type === 'replace' && replace.objects.map(nameOf), ['b'], 'no object of the abandoned pages is kept');
    t.ac.abort();
    await t.done;
  });

  it('draws the server-side watch timeout between the minimum and twice it', async () => {
    const t = setup({ random: () => 0.5, minWatchTimeoutSeconds: 300, idleTimeoutMs: 1234 });
    await t.listed();
    assert.equal(t.client.lastWatch().options.timeoutSeconds, 450);
    assert.equal(t.client.lastWatch().options.idleTimeoutMs, 1234);
    t.ac.abort();
    await t.done;
  });

  it('turns watch events into apply and delete and resumes from the last resourceVersion when the stream ends', async () => {
    const t = setup();
    await t.listed('10');
    const w = t.client.lastWatch();
    w.push('ADDED', pod('c', '11'));
    w.push('MODIFIED', pod('c', '12'));
    w.push('DELETED', pod('c', '13'));
    await t.settle();
    assert.deepEqual(
      t.events.slice(1).map((e) => [e.type, e.type === 'replace' ? '' : nameOf(e.obj), e.resourceVersion]),
      [
        ['apply', 'c', '11'],
        ['apply', 'c', '12'],
        ['delete', 'c', '13'],
      ],
    );
    w.end();
    await t.settle();
    assert.equal(t.client.watches.length, 2, 'a cleanly ended stream with events reconnects at once');
    assert.equal(t.client.lastWatch().options.resourceVersion, '13');
    assert.equal(t.client.lists.length, 1, 'resuming does not relist');
    t.ac.abort();
    await t.done;
  });

  it('advances the resourceVersion on a bookmark without emitting an event', async () => {
    const t = setup();
    await t.listed('10');
    t.client.lastWatch().push('BOOKMARK', { metadata: { resourceVersion: '20' } });
    await t.settle();
    assert.equal(t.events.length, 1);
    assert.equal(t.watcher.resourceVersion, '20');
    t.client.lastWatch().fail(new NetworkError('connection reset'));
    await t.clock.advance(100);
    assert.equal(t.client.lastWatch().options.resourceVersion, '20');
    t.ac.abort();
    await t.done;
  });

  it('retries a broken watch only after the backoff delay', async () => {
    const t = setup();
    await t.listed('10');
    t.client.lastWatch().fail(new NetworkError('connection reset'));
    await t.clock.advance(99);
    assert.equal(t.client.watches.length, 1);
    await t.clock.advance(1);
    assert.equal(t.client.watches.length, 2);
    assert.equal(t.client.lastWatch().options.resourceVersion, '10');
    t.ac.abort();
    await t.done;
  });

  it('doubles the delay on consecutive failures up to the cap, and any event resets it', async () => {
    const t = setup();
    await t.listed('10');
    const err = apiErrorFrom(500, '', 'watch', '/api/v1/pods', null);
    for (let i = 0; i < 4; i++) {
      t.client.lastWatch().fail(err);
      await t.clock.advance(400);
    }
    t.client.lastWatch().push('MODIFIED', pod('a', '11'));
    t.client.lastWatch().fail(err);
    await t.clock.advance(400);
    assert.deepEqual(
      retries(t.notices).map((r) => r.delayMs),
      [100, 200, 400, 400, 100],
    );
    t.ac.abort();
    await t.done;
  });

  it('forgives earlier failures after a watch stayed up for the healthy period', async () => {
    const t = setup();
    await t.listed('10');
    const err = new NetworkError('reset');
    t.client.lastWatch().fail(err);
    await t.clock.advance(100);
    t.client.lastWatch().fail(err);
    await t.clock.advance(200);
    await t.clock.advance(1000);
    t.client.lastWatch().fail(err);
    await t.settle();
    assert.deepEqual(
      retries(t.notices).map((r) => r.delayMs),
      [100, 200, 100],
    );
    t.ac.abort();
    await t.done;
  });

  const tooLargeStatus = {
    kind: 'Status',
    code: 504,
    reason: 'Timeout',
    message: 'Too large resource version: 900, current: 20',
    details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] },
  };
  const expiries: { name: string; event?: Record<string, unknown>; error?: unknown }[] = [
    { name: 'an in-stream ERROR event with code 410', event: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } },
    { name: 'an HTTP 410 answer', error: apiErrorFrom(410, '{"reason":"Gone"}', 'watch', '/api/v1/pods', null) },
    // client-go relists on it too: the server is behind our resourceVersion, and resuming from it may never succeed.
    { name: 'an in-stream 504 ResourceVersionTooLarge', event: tooLargeStatus },
    {
      name: 'an HTTP 504 ResourceVersionTooLarge',
      error: apiErrorFrom(504, JSON.stringify(tooLargeStatus), 'watch', '/api/v1/pods', null),
    },
  ];
  for (const { name, event, error } of expiries) {
    it(`relists at once after ${name} and backs off when it repeats`, async () => {
      const t = setup();
      await t.listed('10', [pod('a', '5')]);
      const expire = () => {
        if (event !== undefined) t.client.lastWatch().push('ERROR', event);
        else t.client.lastWatch().fail(error);
      };
      expire();
      await t.settle();
      assert.equal(t.client.lists.length, 2, 'the first 410 relists without waiting');
      t.client.answerList({ items: [pod('b', '15')], resourceVersion: '20', continue: undefined });
      await t.settle();
      const relisted = t.events.at(-1);
      assert.equal(relisted?.type === 'replace' && relisted.relist, true);
      assert.equal(t.client.lastWatch().options.resourceVersion, '20');
      expire();
      await t.clock.advance(199);
      assert.equal(t.client.lists.length, 2, 'a repeated 410 backs off');
      await t.clock.advance(1);
      assert.equal(t.client.lists.length, 3);
      assert.equal(t.notices.filter((n) => n.kind === 'expired').length, 2);
      t.ac.abort();
      await t.done;
    });
  }

  const failures: { name: string; error: () => unknown }[] = [
    { name: '429', error: () => apiErrorFrom(429, '', 'x', '/api/v1/pods', null) },
    { name: '500', error: () => apiErrorFrom(500, '', 'x', '/api/v1/pods', null) },
    { name: '503', error: () => apiErrorFrom(503, '', 'x', '/api/v1/pods', null) },
    { name: '403', error: () => apiErrorFrom(403, '', 'x', '/api/v1/pods', null) },
    { name: 'a network error', error: () => new NetworkError('ECONNREFUSED') },
    { name: 'a JSON parse error', error: () => new SyntaxError('Unexpected token') },
    { name: 'an unknown throw', error: () => 'not even an Error' },
  ];
  for (const { name, error } of failures) {
    it(`retries a list failing with ${name}`, async () => {
      const t = setup();
      t.client.answerList(error() instanceof Error ? (error() as Error) : new Error(String(error())));
      await t.settle();
      assert.deepEqual(retries(t.notices), [{ phase: 'list', delayMs: 100 }]);
      await t.clock.advance(100);
      assert.equal(t.client.lists.length, 2);
      await t.listed('10');
      assert.equal(t.events[0]?.type, 'replace');
      t.ac.abort();
      await t.done;
    });

    it(`resumes a watch failing with ${name}`, async () => {
      const t = setup();
      await t.listed('10');
      t.client.lastWatch().fail(error());
      await t.clock.advance(100);
      assert.deepEqual(retries(t.notices), [{ phase: 'watch', delayMs: 100 }]);
      assert.equal(t.client.watches.length, 2);
      assert.equal(t.client.lastWatch().options.resourceVersion, '10');
      assert.equal(t.client.lists.length, 1);
      t.ac.abort();
      await t.done;
    });
  }

  it('resumes without relisting after non-410 ERROR events', async () => {
    const t = setup();
    await t.listed('10');
    t.client.lastWatch().push('ERROR', { kind: 'Status', code: 500, message: 'etcd hiccup' });
    await t.clock.advance(100);
    t.client.lastWatch().push('ERROR', { kind: 'Status', code: 500, message: 'etcd hiccup' });
    await t.clock.advance(200);
    assert.equal(t.client.lists.length, 1);
    assert.equal(t.client.watches.length, 3);
    assert.deepEqual(
      retries(t.notices).map((r) => r.phase),
      ['watch', 'watch'],
    );
    t.ac.abort();
    await t.done;
  });

  it('retries after an event whose envelope is not a watch event', async () => {
    const t = setup();
    await t.listed('10');
    // Deliberately malformed input.
    t.client.lastWatch().push('WHATEVER' as unknown as 'ADDED', pod('a', '11'));
    await t.clock.advance(100);
    assert.equal(t.events.length, 1);
    assert.equal(t.client.watches.length, 2);
    t.ac.abort();
    await t.done;
  });

  it('honours Retry-After when it asks for longer than the backoff', async () => {
    const t = setup({ backoff: { initialMs: 100, maxMs: 5000 } });
    await t.listed('10');
    t.client.lastWatch().fail(apiErrorFrom(429, '', 'watch', '/api/v1/pods', '2'));
    await t.clock.advance(1999);
    assert.equal(t.client.watches.length, 1);
    await t.clock.advance(1);
    assert.equal(t.client.watches.length, 2);
    t.ac.abort();
    await t.done;
  });

  it('backs off when a watch closes at once without any event', async () => {
    const t = setup();
    await t.listed('10');
    t.client.lastWatch().end();
    await t.settle();
    assert.equal(t.client.watches.length, 1);
    await t.clock.advance(100);
    assert.equal(t.client.watches.length, 2);
    t.ac.abort();
    await t.done;
  });

  it('reconnects at once when a quiet watch ends after its timeout', async () => {
    const t = setup();
    await t.listed('10');
    await t.clock.advance(5000);
    t.client.lastWatch().end();
    await t.settle();
    assert.equal(t.client.watches.length, 2);
    assert.deepEqual(retries(t.notices), []);
    t.ac.abort();
    await t.done;
  });

  it('drops an object whose decode throws and keeps going', async () => {
    const t = setup({
      decode: (raw) => {
        if (nameOf(raw) === 'bad') throw new Error('bad object');
        return raw;
      },
    });
    await t.listed('10', [pod('bad', '1'), pod('good', '2')]);
    t.client.lastWatch().push('ADDED', pod('bad', '11'));
    t.client.lastWatch().push('ADDED', pod('fine', '12'));
    await t.settle();
    const [replace, ...rest] = t.events;
    assert.deepEqual(replace?.type === 'replace' && replace.objects.map(nameOf), ['good']);
    assert.deepEqual(
      rest.map((e) => (e.type === 'replace' ? '' : nameOf(e.obj))),
      ['fine'],
    );
    assert.equal(t.watcher.resourceVersion, '12');
    assert.equal(t.notices.filter((n) => n.kind === 'decode-failed').length, 2);
    t.ac.abort();
    await t.done;
  });

  it('retries a list answer without a resourceVersion', async () => {
    const t = setup();
    t.client.answerList({ items: [], resourceVersion: '', continue: undefined });
    await t.settle();
    assert.equal(t.events.length, 0);
    assert.deepEqual(retries(t.notices), [{ phase: 'list', delayMs: 100 }]);
    t.ac.abort();
    await t.done;
  });

  describe('stop', () => {
    it('ends quietly while listing', async () => {
      const t = setup();
      await t.settle();
      t.ac.abort();
      await t.done;
      assert.deepEqual(retries(t.notices), []);
      assert.equal(t.watcher.state.phase, 'Stopped');
    });

    it('ends quietly while watching and closes the stream', async () => {
      const t = setup();
      await t.listed('10');
      const w = t.client.lastWatch();
      t.ac.abort();
      await t.done;
      assert.equal(w.closed, true);
      assert.deepEqual(retries(t.notices), []);
    });

    it('ends quietly while backing off and makes no further request', async () => {
      const t = setup();
      await t.listed('10');
      t.client.lastWatch().fail(new NetworkError('reset'));
      await t.settle();
      t.ac.abort();
      await t.done;
      await t.clock.advance(10_000);
      assert.equal(t.client.watches.length, 1);
      assert.equal(t.client.lists.length, 1);
      assert.equal(t.clock.pendingTimers(), 0);
    });

    it('refuses to run twice', async () => {
      const t = setup();
      await assert.rejects(async () => {
        for await (const _ of t.watcher.run(new AbortController().signal)) break;
      }, /twice/);
      t.ac.abort();
      await t.done;
    });
  });
});
