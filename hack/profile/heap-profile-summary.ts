// Summarises a V8 sampling heap profile (from `node --heap-prof`): bytes allocated per function and per package or
// source file, each with its share. The profile samples allocations over the whole run (garbage included), so it
// shows where allocation pressure, and with it GC time and peak heap, comes from.
//
//   node hack/profile/heap-profile-summary.ts FILE.heapprofile [--top N]

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';

interface HeapNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly HeapNode[];
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
const file = positionals[0];
if (file === undefined) {
  process.stderr.write('usage: node hack/profile/heap-profile-summary.ts FILE.heapprofile [--top N]\n');
  process.exit(2);
}
const top = Number(values.top ?? 25);
const profile = JSON.parse(await readFile(file, 'utf8')) as { head: HeapNode };
const byFrame = new Map<string, number>();
const byBucket = new Map<string, number>();
let total = 0;
const bucketOf = (url: string) => {
  if (url === '') return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm?.[1] !== undefined) return nm[1];
  if (url.startsWith('node:')) return 'node:internal';
  return /\/((?:api|controllers|cmd|hack|test)\/.*)$/.exec(url)?.[1] ?? url;
};
const stack: HeapNode[] = [profile.head];
for (let n = stack.pop(); n !== undefined; n = stack.pop()) {
  stack.push(...n.children);
  if (n.selfSize === 0) continue;
  const cf = n.callFrame;
  const where = cf.url === '' ? '' : ` ${bucketOf(cf.url)}:${cf.lineNumber + 1}`;
  const frame = `${cf.functionName || '(anonymous)'}${where}`;
  byFrame.set(frame, (byFrame.get(frame) ?? 0) + n.selfSize);
  byBucket.set(bucketOf(cf.url), (byBucket.get(bucketOf(cf.url)) ?? 0) + n.selfSize);
  total += n.selfSize;
}
const rows = (m: Map<string, number>) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, b]) => `${((100 * b) / total).toFixed(1).padStart(5)} %  ${(b / 2 ** 20).toFixed(1).padStart(8)} MiB  ${k}`)
    .join('\n');
process.stdout.write(
  `sampled allocations ${(total / 2 ** 20).toFixed(1)} MiB\n\nby function:\n${rows(byFrame)}\n\nby package/file:\n${rows(byBucket)}\n`,
);
