#!/usr/bin/env node
// `kubectl-endpoints`, the kubectl plugin (kubectl finds it on the PATH and runs it as `kubectl endpoints`).
//
// This launcher is deliberately plain JavaScript in a CommonJS scope (see package.json beside it): Node versions
// without TypeScript support then still run it and can say clearly what is wrong, instead of failing on the `.ts`
// extension before any code runs. The plugin itself (plugin/) is TypeScript, run by Node 24's type stripping.

const REQUIRED_MAJOR = 24;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write(
    `error: kubectl-endpoints needs Node.js ${REQUIRED_MAJOR} or later (it runs TypeScript directly), but ${process.execPath} is ${process.version}\n`,
  );
  process.exit(2);
}
import('./plugin/cli.ts').then(
  (cli) => cli.run(),
  (err) => {
    process.stderr.write(`error: cannot load kubectl-endpoints: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
