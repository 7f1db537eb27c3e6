import { z } from 'zod';
import { IMPLEMENTATIONS } from './bench-config.ts';
import type { BenchRun } from './bench-report.ts';

// The schema of a benchmark run's JSON (bench-results/<time>.json, docs/bench/<preset>.json), for reading a saved run
// back (hack/bench/publish-results.ts). It mirrors the interfaces of bench-report.ts; a figure of a phase that did not
// finish is absent from the JSON (JSON.stringify drops undefined), hence the optional numbers. Unknown keys are
// rejected, so a file from another version of the benchmark fails with the key's path rather than half-rendering.

const optionalNumber = z.number().optional();
/** A figure the interfaces declare as `number | undefined` (a required key): absent from the JSON when undefined. */
const maybeNumber = z
  .number()
  .optional()
  .transform((v): number | undefined => v);

const phaseWrites = z.strictObject({
  endpoints: z.number(),
  endpointSlices: z.number(),
  requestBytes: z.number(),
  watchEvents: z.number(),
  watchBytes: z.number(),
  apiServerSeconds: z.strictObject({ endpoints: z.number(), endpointSlices: z.number() }).optional(),
});

const latency = z.strictObject({ count: z.number(), p50Ms: maybeNumber, p99Ms: maybeNumber, maxMs: maybeNumber });

const stale = z.strictObject({ slices: z.number(), endpoints: z.number() });

const implementationResult = z.strictObject({
  implementation: z.enum(IMPLEMENTATIONS),
  initialSync: z.strictObject({
    firstWriteMs: maybeNumber,
    endpointsMs: maybeNumber,
    endpointSlicesMs: maybeNumber,
    writes: phaseWrites,
    cpuSeconds: z.number(),
  }),
  churn: z
    .strictObject({
      flips: z.number(),
      ratePerSecond: z.number(),
      endpointSlices: latency,
      endpoints: latency,
      timedOut: z.number(),
      writes: phaseWrites,
      cpuSeconds: z.number(),
      staleEndpointSeconds: stale.optional(),
    })
    .optional(),
  restart: z.strictObject({ windowMs: z.number(), writes: phaseWrites, syncProvenMs: optionalNumber }).optional(),
  resync: z.strictObject({ services: z.number(), windowMs: z.number(), writes: phaseWrites, syncProvenMs: optionalNumber }).optional(),
  rollingRestart: z
    .strictObject({
      pods: z.number(),
      batch: z.number(),
      rolloutMs: z.number(),
      convergeMs: maybeNumber,
      afterLastChangeMs: optionalNumber,
      writes: phaseWrites,
      cpuSeconds: z.number(),
      staleEndpointSeconds: stale.optional(),
      retries: z.strictObject({ endpoints: z.number(), endpointSlices: z.number() }).optional(),
    })
    .optional(),
  process: z.strictObject({ cpuSeconds: z.number(), peakRssBytes: z.number() }),
  errors: z.array(z.string()),
});

const shape = z.strictObject({
  name: z.string(),
  services: z.number().int().positive(),
  podsPerService: z.number().int().positive(),
  churnFlips: z.number().int().nonnegative(),
  restartAndResync: z.boolean(),
  rollingRestart: z.boolean(),
});

/** A whole run as the benchmark writes it. */
export const benchRunSchema = z.strictObject({
  startedAt: z.string(),
  preset: z.string().regex(/^[a-z][a-z0-9-]*$/, 'a preset name: lower case letters, digits and dashes'),
  machine: z.strictObject({ cpus: z.number(), cpuModel: z.string(), node: z.string(), kubernetes: z.string() }),
  tuning: z.strictObject({ qps: z.number(), burst: z.number(), churnRatePerSecond: z.number(), note: z.string() }),
  repeat: z.number().int().positive().optional(),
  shapes: z.array(
    z.strictObject({
      shape,
      populateMs: z.number(),
      results: z.array(implementationResult),
      runs: z.number().int().positive().optional(),
      spread: z.partialRecord(z.enum(IMPLEMENTATIONS), z.strictObject({ min: implementationResult, max: implementationResult })).optional(),
    }),
  ),
  informer: z.strictObject({ pods: z.number(), retainedBytesPerPod: z.number() }).optional(),
});

// The schema must produce exactly what the renderers take: this fails to compile if the two drift apart.
const _parsedIsABenchRun = (parsed: z.infer<typeof benchRunSchema>): BenchRun => parsed;
void _parsedIsABenchRun;
