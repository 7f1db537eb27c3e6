// `npm test`: every unit test, then every integration test against a real etcd + kube-apiserver (+
// kube-controller-manager for parity), built from Go modules on first use. Integration tests are never skipped
// silently: when the control plane cannot be built, this fails with one line saying why.
import { spawn, spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';

const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`error: Node ${process.versions.node} is too old; run through npm (npm test), which uses the pinned Node 24`);
  process.exit(1);
}

const unit = globSync(['controllers/**/*.test.ts', 'api/**/*.test.ts', 'cmd/**/*.test.ts', 'hack/**/*.test.ts']);
const integration = globSync(['test/**/*.test.ts']);
const only = process.argv.slice(2);

const build = spawnSync('bash', ['hack/build-control-plane.sh'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
if (build.status !== 0) {
  console.error(
    'error: the local control plane (etcd, kube-apiserver, kube-controller-manager) could not be built; integration tests cannot run',
  );
  process.exit(1);
}
const binDir = build.stdout.trim().split('\n').pop() ?? '';

const files = only.length > 0 ? only : [...unit.sort(), ...integration.sort()];
const child = spawn(
  process.execPath,
  ['--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`, '--test-timeout=600000', ...files],
  { stdio: 'inherit', env: { ...process.env, KUBEBUILDER_ASSETS: binDir } },
);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
