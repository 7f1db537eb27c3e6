import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { PLAYGROUND_INDEX } from '../../hack/data-plane/data-plane.ts';
import { IP } from '../../hack/data-plane/netns.ts';
import { parseExecArgs } from './exec-args.ts';

// `npm run playground -- exec <pod> -- <command>`: a way into the playground's data plane for a person. Reads the
// index the running playground keeps (Pod and Node -> network namespace) and runs the command there with
// `ip netns exec`, which also bind-mounts the namespace's resolv.conf (the cluster DNS).

const indexSchema = z.object({ pid: z.number(), nodes: z.record(z.string(), z.string()), pods: z.record(z.string(), z.string()) });

export function main(argv: readonly string[]): number {
  const parsed = parseExecArgs(argv);
  if (parsed.kind === 'error') {
    process.stderr.write(`${parsed.message}\n`);
    return 2;
  }
  let index: z.infer<typeof indexSchema>;
  try {
    index = indexSchema.parse(JSON.parse(readFileSync(PLAYGROUND_INDEX, 'utf8')));
    process.kill(index.pid, 0);
  } catch {
    process.stderr.write(
      `error: no playground data plane is running (${PLAYGROUND_INDEX} is missing or stale). Start one with \`npm start\` as root, with nftables or iptables installed.\n`,
    );
    return 1;
  }
  const { target } = parsed;
  const namespace = target.kind === 'node' ? index.nodes[target.name] : index.pods[`${target.namespace}/${target.name}`];
  if (namespace === undefined) {
    const known = target.kind === 'node' ? Object.keys(index.nodes) : Object.keys(index.pods);
    const what = target.kind === 'node' ? `Node ${target.name}` : `Pod ${target.namespace}/${target.name}`;
    process.stderr.write(`error: ${what} has no network in the playground (running: ${known.join(', ') || 'none'})\n`);
    return 1;
  }
  const result = spawnSync(IP, ['netns', 'exec', namespace, ...parsed.command], { stdio: 'inherit' });
  if (result.error !== undefined) {
    process.stderr.write(`error: ${result.error.message}\n`);
    return 1;
  }
  return result.status ?? 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exit(main(process.argv.slice(2)));
}
