import { before, describe, it } from 'node:test';
import { generateChurn, replayCommand, runChurn } from './churn.ts';
import { runScenario } from './run-scenario.ts';
import { type ParityEnv, startParityEnv } from './parity-env.ts';
import { SCENARIOS } from './scenarios.ts';

// Parity with the real kube-controller-manager: every scenario runs on both control planes and the normalised
// Endpoints and EndpointSlices must agree after every step. Two short churn sequences with fixed seeds follow; the
// random ones run in `npm run parity` (parity-full.test.ts).

/** Fixed seeds and lengths of the churn sequences `npm test` runs (together well under a minute). */
const FAST_CHURN = [
  { seed: 1, rounds: 8 },
  { seed: 2, rounds: 8 },
] as const;

const env: ParityEnv = await startParityEnv();

describe('parity with kube-controller-manager', () => {
  before(async () => {
    for (const c of [env.upstream, env.ours]) {
      await c.createNode('node-a', 'zone-a');
      await c.createNode('node-b', 'zone-b');
    }
  });
  // PARITY_ONLY=<substring> runs the matching scenarios alone (to replay a failure).
  const only = process.env.PARITY_ONLY;
  for (const [i, scenario] of SCENARIOS.entries()) {
    if (only !== undefined && !scenario.name.includes(only)) continue;
    it(scenario.name, async () => {
      await runScenario(env, scenario, `parity-${i}`);
    });
  }
  for (const { seed, rounds } of FAST_CHURN) {
    const name = `churn sequence seed=${seed} (${rounds} rounds)`;
    if (only !== undefined && !name.includes(only)) continue;
    it(name, async (t) => {
      t.diagnostic(`replay: ${replayCommand(seed, rounds)}`);
      await runChurn(env, generateChurn(seed, rounds), `churn-${seed}`);
    });
  }
});
