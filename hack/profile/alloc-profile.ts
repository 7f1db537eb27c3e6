// Preload (`node --import ./hack/profile/alloc-profile.ts ...`) that records an allocation profile of the whole run,
// garbage included: V8's sampling heap profiler with the objects later collected by minor and major GCs kept, which
// `--heap-prof` (live objects at exit only) does not show. Written on exit to
// $TMPDIR/kube-endpoints-operator-alloc-profiles/alloc-<pid>.heapprofile; summarise it with heap-profile-summary.ts.

import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = join(tmpdir(), 'kube-endpoints-operator-alloc-profiles');
const session = new Session();
session.connect();
session.post('HeapProfiler.startSampling', {
  samplingInterval: 64 * 1024,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
});
process.on('exit', () => {
  // An in-thread session answers synchronously, so this runs to completion inside the exit handler.
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err !== null) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `alloc-${process.pid}.heapprofile`), JSON.stringify(result.profile));
  });
});
