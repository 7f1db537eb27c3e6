import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServicePort } from '../../api/core/v1.ts';
import { mulberry32 } from './mulberry32.ts';
import type { ParityEnv } from './parity-env.ts';
import { describeStep, isBurst, ParityRun, type SettleOptions } from './run-scenario.ts';
import type { PodPort, Step } from './scenario.ts';

// Seeded random churn: sequences of scenario steps over a small universe of Services, Pods and two Nodes, generated
// from a 32-bit seed alone, so any sequence that exposes a difference can be replayed exactly. The generator keeps its
// own model of the universe so that every step is valid for the API server (no status change of a deleted Pod), and
// it gives every Pod IP it ever hands out a new number: equal IPs are ordered by Pod UID, which differs between the
// two clusters, and would make the comparison flaky rather than wrong.
//
// Only transitions a real cluster makes. A kubelet drives a Pod's status one way: Pending (no IP, not ready) ->
// Running (with an IP; ready or not, flipping) -> Succeeded or Failed. So:
//   - a Pod without an IP is Pending and not ready; it becomes Running when it gets its IP;
//   - a Pod in a terminal phase never runs again: no readiness flip, no new IP, no phase change (it may be relabelled
//     or deleted, as any object);
//   - a terminating Pod gets no new IP (its sandbox is being torn down), but its readiness may still flip (probes run
//     until its containers stop) and it may finish;
//   - a ready Pod always has an IP.
// Services, selectors, ports and labels change freely, as users change them. churn.test.ts checks these rules over
// thousands of generated rounds.

/** One round: steps applied back to back on each cluster, then both clusters must settle and agree. */
export type ChurnRound = readonly Step[];

/** A generated churn sequence and the seed that reproduces it. */
export interface ChurnSequence {
  readonly seed: number;
  readonly rounds: readonly ChurnRound[];
}

// ---- the universe ---------------------------------------------------------------------------------------------------

// Pods on a Node that does not exist are left out: every EndpointSlice sync of a Service selecting one fails (as
// upstream's does) and is retried with a backoff that doubles up to 1000 s, in both implementations. Any ordinary
// race (a sync that finds the slice cache one write behind, which the next retry fixes) then heals only at that
// retry, minutes later, and the comparison would measure timing luck. Their behaviour has its own scenario
// ("pod on a Node that does not exist"). Two churn failures of this kind were seen before this rule.
const NODES = ['node-a', 'node-b'] as const;
const APPS = ['web', 'db', 'api', 'other'] as const;
const TIERS = ['fe', 'be'] as const;
/** The most Pods alive (terminating included) at any time. */
const MAX_PODS = 16;

type App = (typeof APPS)[number];

const tcp = (name: string, port: number, targetPort: number | string): ServicePort => ({ name, port, targetPort, protocol: 'TCP' });

/** Port sets a Service's ports are switched between ("port renames"); the first is the initial one. */
const SERVICE_PORT_VARIANTS: Readonly<Record<string, readonly (readonly ServicePort[])[]>> = {
  web: [[tcp('http', 80, 'http')], [tcp('web', 80, 'http')], [tcp('http', 80, 8080)], [tcp('http', 80, 'metrics')]],
  multi: [
    [tcp('http', 80, 'http'), tcp('metrics', 9100, 'metrics'), { name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }],
    [tcp('http', 80, 'http'), tcp('metrics', 9100, 'metrics')],
    [tcp('web', 80, 'http'), tcp('mon', 9100, 9100)],
  ],
  db: [[], [tcp('pg', 5432, 5432)]],
  pub: [[tcp('pg', 5432, 5432)], [tcp('pg', 5432, 'pg'), tcp('http', 80, 'http')]],
  ds: [[tcp('http', 80, 'http')], [tcp('https', 443, 8443)]],
};

/** Selectors a Service is switched between ("selector changes"); the first is the initial one, null = selectorless. */
const SELECTOR_VARIANTS: Readonly<Record<string, readonly (Record<string, string> | null)[]>> = {
  web: [{ app: 'web' }, { app: 'api' }, { app: 'web', tier: 'be' }, null],
  multi: [
    { app: 'web', tier: 'fe' },
    { app: 'api', tier: 'fe' },
  ],
  db: [{ app: 'db' }, { app: 'other' }],
  pub: [{ app: 'db' }, { app: 'db', tier: 'be' }],
  ds: [{ app: 'api' }, { app: 'web' }],
};

/** The Services of the universe: plain, multi-port, headless, publishNotReadyAddresses, dual-stack. */
function createServiceStep(name: string, portVariant = 0, selectorVariant = 0): Extract<Step, { do: 'createService' }> {
  const ports = SERVICE_PORT_VARIANTS[name]?.[portVariant] ?? [];
  const selector = SELECTOR_VARIANTS[name]?.[selectorVariant] ?? null;
  const base = { do: 'createService' as const, name, selector, ports, labels: { churn: name } };
  switch (name) {
    case 'db':
      return { ...base, headless: true };
    case 'pub':
      return { ...base, publishNotReadyAddresses: true };
    case 'ds':
      return { ...base, ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv4', 'IPv6'] };
    default:
      return base;
  }
}

/** Names of the Services every sequence starts with. */
export const CHURN_SERVICES: readonly string[] = Object.keys(SERVICE_PORT_VARIANTS);

/** Container port sets a Pod is created with: the named ports the Services target, missing ones, or a sidecar's. */
const POD_PORT_VARIANTS: readonly { ports: readonly PodPort[]; sidecarPorts?: readonly PodPort[] }[] = [
  { ports: [{ name: 'http', containerPort: 8080 }] },
  {
    ports: [
      { name: 'http', containerPort: 8080 },
      { name: 'metrics', containerPort: 9100 },
      { name: 'pg', containerPort: 5432 },
    ],
  },
  {
    ports: [
      { name: 'http', containerPort: 9090 },
      { name: 'https', containerPort: 8443 },
    ],
  },
  { ports: [] },
  { ports: [{ name: 'metrics', containerPort: 9101 }], sidecarPorts: [{ name: 'http', containerPort: 7070 }] },
  { ports: [{ name: 'http', containerPort: 8080, protocol: 'UDP' }] },
];

interface PodModel {
  readonly name: string;
  labels: Record<string, string>;
  ips: readonly string[];
  ready: boolean;
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  terminating: boolean;
}

interface ServiceModel {
  exists: boolean;
  portVariant: number;
  selectorVariant: number;
}

/** The generator's view of one namespace, advanced by every step it emits. */
class Universe {
  readonly pods = new Map<string, PodModel>();
  readonly services = new Map<string, ServiceModel>(CHURN_SERVICES.map((n) => [n, { exists: true, portVariant: 0, selectorVariant: 0 }]));
  #nextPod = 0;
  #nextIp = 0;

  newPodName(): string {
    return `p-${this.#nextPod++}`;
  }

  /** A fresh IPv4 (and, when asked, IPv6) address never handed out before in this sequence. */
  newIps(dual: boolean): string[] {
    const n = this.#nextIp++;
    const v4 = `10.245.${Math.floor(n / 250)}.${(n % 250) + 1}`;
    return dual ? [v4, `fd00:10:245::${(n + 1).toString(16)}`] : [v4];
  }
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => {
  const x = xs[Math.floor(rand() * xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
};

function randomLabels(rand: () => number): Record<string, string> {
  const app: App = pick(rand, APPS);
  return rand() < 0.7 ? { app, tier: pick(rand, TIERS) } : { app };
}

type Generator = (u: Universe, rand: () => number) => Step[] | undefined;

const livePods = (u: Universe, filter: (p: PodModel) => boolean = () => true) => [...u.pods.values()].filter(filter);

function createPod(u: Universe, rand: () => number): Step[] | undefined {
  if (u.pods.size >= MAX_PODS) return undefined;
  const name = u.newPodName();
  const labels = randomLabels(rand);
  const r = rand();
  const ips = r < 0.1 ? [] : u.newIps(r >= 0.35);
  // Drawn even when unused, so that the random stream does not depend on the IP draw.
  const readyDraw = rand() < 0.75;
  const ready = ips.length > 0 && readyDraw;
  const phase = ips.length > 0 ? 'Running' : 'Pending';
  const ports = pick(rand, POD_PORT_VARIANTS);
  const node = pick(rand, NODES);
  const statefulLike = labels.app === 'db' && rand() < 0.5;
  u.pods.set(name, { name, labels, ips, ready, phase, terminating: false });
  return [
    {
      do: 'createPod',
      name,
      labels,
      nodeName: node,
      ips,
      ready,
      phase,
      ports: ports.ports,
      ...(ports.sidecarPorts ? { sidecarPorts: ports.sidecarPorts } : {}),
      ...(statefulLike ? { hostname: name, subdomain: 'db' } : {}),
    },
  ];
}

/** A burst of creations, as a ReplicaSet scaling up. */
function scaleUp(u: Universe, rand: () => number): Step[] | undefined {
  const n = Math.min(2 + Math.floor(rand() * 4), MAX_PODS - u.pods.size);
  if (n < 2) return undefined;
  const app = pick(rand, APPS);
  const tier = pick(rand, TIERS);
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    const created = createPod(u, rand);
    const step = created?.[0];
    if (step?.do !== 'createPod') break;
    const pod = u.pods.get(step.name);
    if (pod) pod.labels = { app, tier };
    steps.push({ ...step, labels: { app, tier } });
  }
  return steps;
}

/** A burst of deletions, as a ReplicaSet scaling down (graceful, then gone). */
function scaleDown(u: Universe, rand: () => number): Step[] | undefined {
  const candidates = livePods(u);
  if (candidates.length < 3) return undefined;
  const n = 2 + Math.floor(rand() * Math.min(3, candidates.length - 1));
  const steps: Step[] = [];
  for (let i = 0; i < n; i++) {
    const pods = livePods(u);
    if (pods.length === 0) break;
    const p = pick(rand, pods);
    u.pods.delete(p.name);
    steps.push({ do: 'deletePod', name: p.name });
  }
  return steps;
}

function flipReadiness(u: Universe, rand: () => number): Step[] | undefined {
  const pods = livePods(u, (p) => p.phase === 'Running' && p.ips.length > 0);
  if (pods.length === 0) return undefined;
  const p = pick(rand, pods);
  p.ready = !p.ready;
  return [{ do: 'setPodStatus', name: p.name, ready: p.ready }];
}

/** Gives an address to a Pending Pod (which starts Running), or (as a sandbox recreated by the kubelet) a new one. */
function changeIp(u: Universe, rand: () => number): Step[] | undefined {
  const pods = livePods(u, (p) => (p.phase === 'Running' || p.phase === 'Pending') && !p.terminating);
  if (pods.length === 0) return undefined;
  const p = pick(rand, pods);
  p.ips = u.newIps(p.ips.length !== 1 && rand() < 0.7);
  if (p.phase === 'Pending') {
    p.phase = 'Running';
    return [{ do: 'setPodStatus', name: p.name, ips: p.ips, phase: 'Running' }];
  }
  return [{ do: 'setPodStatus', name: p.name, ips: p.ips }];
}

function finishPod(u: Universe, rand: () => number): Step[] | undefined {
  const pods = livePods(u, (p) => p.phase === 'Running');
  if (pods.length === 0) return undefined;
  const p = pick(rand, pods);
  p.phase = rand() < 0.5 ? 'Succeeded' : 'Failed';
  p.ready = false;
  return [{ do: 'setPodStatus', name: p.name, phase: p.phase, ready: false }];
}

function relabel(u: Universe, rand: () => number): Step[] | undefined {
  const pods = livePods(u);
  if (pods.length === 0) return undefined;
  const p = pick(rand, pods);
  p.labels = randomLabels(rand);
  return [{ do: 'relabelPod', name: p.name, labels: p.labels }];
}

/** Graceful deletion: with no kubelet the Pod stays terminating; a kubelet would soon mark it not ready. */
function terminate(u: Universe, rand: () => number): Step[] | undefined {
  const pods = livePods(u, (p) => !p.terminating);
  if (pods.length === 0) return undefined;
  const p = pick(rand, pods);
  // The API server deletes a Pod in a terminal phase at once, graceful or not: it is gone, not terminating. (A
  // Pending Pod is not: it has no kubelet-confirmed stop and stays terminating, like a Running one.)
  if (p.phase === 'Succeeded' || p.phase === 'Failed') u.pods.delete(p.name);
  p.terminating = true;
  const steps: Step[] = [{ do: 'terminatePod', name: p.name }];
  if (p.ready && p.phase === 'Running' && rand() < 0.5) {
    p.ready = false;
    steps.push({ do: 'setPodStatus', name: p.name, ready: false });
  }
  return steps;
}

function deletePod(u: Universe, rand: () => number): Step[] | undefined {
  const terminating = livePods(u, (p) => p.terminating);
  const pods = terminating.length > 0 && rand() < 0.6 ? terminating : livePods(u);
  if (pods.length === 0) return undefined;
  const p = pick(rand, pods);
  u.pods.delete(p.name);
  return [{ do: 'deletePod', name: p.name }];
}

function renamePorts(u: Universe, rand: () => number): Step[] | undefined {
  const names = [...u.services].filter(([, s]) => s.exists).map(([n]) => n);
  if (names.length === 0) return undefined;
  const name = pick(rand, names);
  const variants = SERVICE_PORT_VARIANTS[name] ?? [];
  const svc = u.services.get(name);
  if (svc === undefined || variants.length < 2) return undefined;
  svc.portVariant = (svc.portVariant + 1 + Math.floor(rand() * (variants.length - 1))) % variants.length;
  return [{ do: 'patchService', name, patch: { spec: { ports: variants[svc.portVariant] } } }];
}

function changeSelector(u: Universe, rand: () => number): Step[] | undefined {
  const names = [...u.services].filter(([, s]) => s.exists).map(([n]) => n);
  if (names.length === 0) return undefined;
  const name = pick(rand, names);
  const variants = SELECTOR_VARIANTS[name] ?? [];
  const svc = u.services.get(name);
  if (svc === undefined || variants.length < 2) return undefined;
  svc.selectorVariant = (svc.selectorVariant + 1 + Math.floor(rand() * (variants.length - 1))) % variants.length;
  // A merge patch merges maps: null out the old keys so the selector becomes exactly the new one.
  const selector = variants[svc.selectorVariant] ?? null;
  const previous = variants.flatMap((v) => Object.keys(v ?? {}));
  const patchSelector = selector === null ? null : { ...Object.fromEntries(previous.map((k) => [k, null])), ...selector };
  return [{ do: 'patchService', name, patch: { spec: { selector: patchSelector } } }];
}

function deleteOrRecreateService(u: Universe, rand: () => number): Step[] | undefined {
  const name = pick(rand, CHURN_SERVICES);
  const svc = u.services.get(name);
  if (svc === undefined) return undefined;
  if (svc.exists) {
    svc.exists = false;
    return [{ do: 'deleteService', name }];
  }
  svc.exists = true;
  return [createServiceStep(name, svc.portVariant, svc.selectorVariant)];
}

/** Step kinds with their relative weights. */
const GENERATORS: readonly { readonly weight: number; readonly generate: Generator }[] = [
  { weight: 4, generate: createPod },
  { weight: 1, generate: scaleUp },
  { weight: 1, generate: scaleDown },
  { weight: 5, generate: flipReadiness },
  { weight: 1.5, generate: changeIp },
  { weight: 0.5, generate: finishPod },
  { weight: 2, generate: relabel },
  { weight: 1.5, generate: terminate },
  { weight: 2, generate: deletePod },
  { weight: 1, generate: renamePorts },
  { weight: 1, generate: changeSelector },
  { weight: 0.5, generate: deleteOrRecreateService },
];
const TOTAL_WEIGHT = GENERATORS.reduce((s, g) => s + g.weight, 0);

function nextRound(u: Universe, rand: () => number): ChurnRound {
  // Rejection sampling: a kind that does not apply right now (no Pods to delete) is drawn again. Bounded, and the
  // first kind (createPod) applies whenever the universe is not full, and flipReadiness whenever it is.
  for (let attempt = 0; attempt < 100; attempt++) {
    let r = rand() * TOTAL_WEIGHT;
    const g = GENERATORS.find((x) => (r -= x.weight) < 0) ?? GENERATORS[0];
    const steps = g?.generate(u, rand);
    if (steps !== undefined && steps.length > 0) return steps;
  }
  throw new Error('churn generator found no applicable step in 100 draws');
}

/**
 * Generates `rounds` rounds of churn from `seed`, after an implicit setup round that creates {@link CHURN_SERVICES}
 * and a few Pods. Pure and deterministic: the same seed and length give the same sequence.
 */
export function generateChurn(seed: number, rounds: number): ChurnSequence {
  const rand = mulberry32(seed);
  const u = new Universe();
  const setup: Step[] = CHURN_SERVICES.map((n) => createServiceStep(n));
  for (let i = 0; i < 4; i++) setup.push(...(createPod(u, rand) ?? []));
  const out: ChurnRound[] = [setup];
  for (let i = 0; i < rounds; i++) out.push(nextRound(u, rand));
  return { seed: seed >>> 0, rounds: out };
}

/** The command that replays one sequence (`npm run parity` with its seed and length). */
export function replayCommand(seed: number, rounds: number): string {
  return `PARITY_SEED=${seed >>> 0} PARITY_SEQUENCES=1 PARITY_ROUNDS=${rounds} PARITY_ONLY=churn npm run parity`;
}

/** A fresh 32-bit seed, for runs that did not ask for one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}

/** Reads a positive integer from an environment variable, with a default; throws on garbage. */
export function envInt(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) throw new Error(`${name} must be an integer in [0, 2^32), got ${raw}`);
  return n;
}

/** Thrown when the clusters disagree during a churn sequence; names the seed, the round and the replay command. */
export class ChurnMismatchError extends Error {
  override readonly name = 'ChurnMismatchError';
}

/**
 * Runs one churn sequence in a fresh namespace on every cluster: each round's steps are applied in order on each
 * cluster (clusters concurrently), then all must settle and agree. Returns the run (writes report, racy steps);
 * throws {@link ChurnMismatchError} (with the settle diff as cause) naming the seed and the replay command.
 */
export async function runChurn(env: ParityEnv, seq: ChurnSequence, namespace: string, opts: SettleOptions = {}): Promise<ParityRun> {
  const run = await ParityRun.open(env, namespace);
  try {
    const length = seq.rounds.length - 1;
    for (const [i, round] of seq.rounds.entries()) {
      await run.apply(round);
      const label = `round ${i} [${round.map(describeStep).join(', ')}]`;
      const context = `churn seed ${seq.seed}, round ${i} of ${length} [${round.map(describeStep).join(', ')}]`;
      try {
        await run.settle(['endpoints', 'endpointslices'], context, label, { ...opts, burst: isBurst(round) });
      } catch (err) {
        const log = await saveOurLog(env, namespace, seq.seed);
        const steps = seq.rounds
          .slice(0, i + 1)
          .map((r, k) => `  round ${k}: ${r.map((s) => JSON.stringify(s)).join('\n           ')}`)
          .join('\n');
        throw new ChurnMismatchError(
          `${(err as Error).message}\nsteps so far:\n${steps}\n${log}\nreplay: ${replayCommand(seq.seed, length)}`,
          { cause: err },
        );
      }
    }
    return run;
  } finally {
    await run.close();
  }
}

/** Writes our manager's log lines about `namespace` to a file; returns a short report naming it, with the last lines. */
async function saveOurLog(env: ParityEnv, namespace: string, seed: number): Promise<string> {
  const lines = env.ourLog.filter((l) => l.includes(`${namespace}/`) || l.includes(`"namespace":"${namespace}"`));
  if (lines.length === 0) return 'our controller logged nothing about this namespace (PARITY_LOG_LEVEL=debug shows it live)';
  const path = join(tmpdir(), `parity-churn-${seed}-ours.log`);
  await writeFile(path, `${lines.join('\n')}\n`);
  const tail = lines.slice(-25).map((l) => `  ${l.length > 400 ? `${l.slice(0, 400)}…` : l}`);
  return `our controller's log for ${namespace}: ${path}; last lines:\n${tail.join('\n')}`;
}
