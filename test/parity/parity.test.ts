import { before, describe, it } from 'node:test';
import { generateChurn, replayCommand, runChurn } from './churn.ts';
import { runScenario } from './run-scenario.ts';
import { createBaseNodes, type ParityEnv, reportRun, selected, startParityEnv } from './parity-env.ts';
import { SCENARIOS } from './scenarios.ts';

// Parity with the real kube-controller-manager: every scenario runs on both control planes and the normalised
// Endpoints and EndpointSlices must agree after every step. Two short churn sequences with fixed seeds follow; the
// random ones, and the scenarios marked fullOnly (too slow for CI), run in `npm run parity` (parity-full.test.ts).
// Each test prints its writes per step on both sides (a report, not an assertion).

/** Fixed seeds and lengths of the churn sequences `npm test` runs (together well under a minute). */
const FAST_CHURN = [
  { seed: 1, rounds: 8 },
  { seed: 2, rounds: 8 },
] as const;

const env: ParityEnv = await startParityEnv();

describe('parity with kube-controller-manager', () => {
  before(() => createBaseNodes(env));
  // PARITY_ONLY=<substring>[|<substring>…] runs the matching scenarios alone (to replay a failure).
  const only = process.env.PARITY_ONLY;
  for (const [i, scenario] of SCENARIOS.entries()) {
    if (scenario.fullOnly === true || !selected(scenario.name, only)) continue;
    it(scenario.name, async (t) => {
      reportRun(t, await runScenario(env, scenario, `parity-${i}`));
    });
  }
  for (const { seed, rounds } of FAST_CHURN) {
    const name = `churn sequence seed=${seed} (${rounds} rounds)`;
    if (!selected(name, only)) continue;
    it(name, async (t) => {
      t.diagnostic(`replay: ${replayCommand(seed, rounds)}`);
      reportRun(t, await runChurn(env, generateChurn(seed, rounds), `churn-${seed}`));
    });
  }
});
