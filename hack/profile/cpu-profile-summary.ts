// Summarises a V8 .cpuprofile (from `node --cpu-prof`): the top functions by self time, and self time by package or
// source file, each with its share of the sampled time. Used to write docs/performance.md.
//
//   node hack/profile/cpu-profile-summary.ts FILE.cpuprofile [--top N] [--since-ms N]
//
// --since-ms drops samples taken earlier than N ms after the profile started (to skip start-up when profiling a
// steady-state phase).

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}
interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Which package or repository directory a script URL belongs to. */
export function bucketOf(url: string): string {
  if (url === '') return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1] !== undefined) return nm[1];
  if (url.startsWith('node:')) return 'node:internal';
  const repo = /\/(api|controllers|cmd|hack|test)\/(.*)$/.exec(url);
  if (repo?.[1] !== undefined && repo[2] !== undefined) return `${repo[1]}/${repo[2]}`;
  return url;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string' }, 'since-ms': { type: 'string' } },
});
const file = positionals[0];
if (file === undefined) {
  process.stderr.write('usage: node hack/profile/cpu-profile-summary.ts FILE.cpuprofile [--top N] [--since-ms N]\n');
  process.exit(2);
}
const top = Number(values.top ?? 25);
const sinceUs = Number(values['since-ms'] ?? 0) * 1000;
const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
let t = 0;
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  if (t < sinceUs) continue;
  const id = profile.samples[i] ?? 0;
  self.set(id, (self.get(id) ?? 0) + dt);
  total += dt;
}
const byFrame = new Map<string, number>();
const byBucket = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id);
  if (n === undefined) continue;
  const cf = n.callFrame;
  const where = cf.url === '' ? '' : ` ${cf.url.replace(/^.*\/(node_modules|api|controllers|cmd|hack)\//, '$1/')}:${cf.lineNumber + 1}`;
  const frame = `${cf.functionName || '(anonymous)'}${where}`;
  byFrame.set(frame, (byFrame.get(frame) ?? 0) + us);
  byBucket.set(bucketOf(cf.url), (byBucket.get(bucketOf(cf.url)) ?? 0) + us);
}
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;
const rows = (m: Map<string, number>) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => `${pct(us)}  ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}`)
    .join('\n');
process.stdout.write(
  `sampled ${(total / 1e6).toFixed(2)} s\n\nself time by function:\n${rows(byFrame)}\n\nself time by package/file:\n${rows(byBucket)}\n`,
);
