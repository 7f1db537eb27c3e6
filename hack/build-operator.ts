// Builds the operator as the image runs it (`npm run build:operator`): cmd/operator/main.ts and everything it imports
// statically, production dependencies included, bundled by esbuild into one ES module, dist/operator/main.mjs. One
// module instead of about 1,500 TypeScript and package modules halves the CPU of a start and lowers the memory floor
// (docs/adr/0008-bundled-entry-point.md, docs/performance.md).
//
// The embedded playground (cmd/operator/playground/, which main.ts imports lazily: the local control plane, the pod
// simulator, the data plane) is not bundled: it starts processes from a source checkout and never runs in a Pod. In
// the bundle that import fails as the import of a missing module does, which main.ts reports in one line (the image
// leaves the playground's files out too: .dockerignore).
// The bundle sits at the same depth as cmd/operator/main.ts, so paths it derives from import.meta.url are unchanged.
//
//   node hack/build-operator.ts [--out DIR]     (DIR default dist/operator)

import { mkdirSync, rmSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';

const root = join(import.meta.dirname, '..');
export const OPERATOR_ENTRY = 'cmd/operator/main.ts';
export const OPERATOR_BUNDLE = 'main.mjs';

/** Dynamic imports made by the entry point's own modules (cmd/operator/) become a module that fails to load. */
const playgroundLeftOut: Plugin = {
  name: 'playground-left-out',
  setup(b) {
    const cmdDir = join(root, 'cmd/operator');
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind !== 'dynamic-import' || !args.importer.startsWith(`${cmdDir}/`)) return undefined;
      return { path: relative(root, resolve(args.resolveDir, args.path)), namespace: 'playground-left-out' };
    });
    // Fails as the import of a missing file would, which main.ts turns into its one-line "no cluster" error.
    b.onLoad({ filter: /.*/, namespace: 'playground-left-out' }, (args) => ({
      contents: `const e = new Error(${JSON.stringify(`Cannot find module '${args.path}': left out of the bundle (hack/build-operator.ts)`)});\ne.code = 'ERR_MODULE_NOT_FOUND';\nthrow e;`,
      loader: 'js',
    }));
  },
};

export interface OperatorBundle {
  readonly file: string;
  readonly bytes: number;
  /**
   * Imports left to the runtime that are not Node's built-in modules: optional packages some dependency tries to
   * require() and does without (the image has no node_modules, so they are never there).
   */
  readonly externals: readonly string[];
}

/** Bundles the operator into `out`. */
export async function buildOperator(out: string): Promise<OperatorBundle> {
  mkdirSync(out, { recursive: true });
  const file = join(out, OPERATOR_BUNDLE);
  rmSync(file, { force: true }); // only the file this build writes: `out` may be any directory
  const result = await build({
    entryPoints: [join(root, OPERATOR_ENTRY)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    // Not minified: stack traces and profiles keep the functions' names.
    minify: false,
    // CommonJS dependencies bundled into an ES module still call require() for Node's built-in modules.
    banner: {
      js: "import { createRequire as __keoCreateRequire } from 'node:module';\nconst require = __keoCreateRequire(import.meta.url);",
    },
    legalComments: 'eof',
    absWorkingDir: root,
    logLevel: 'error',
    plugins: [playgroundLeftOut],
    metafile: true,
  });
  const builtins = new Set(builtinModules);
  const externals = new Set<string>();
  for (const output of Object.values(result.metafile.outputs))
    for (const i of output.imports) if (i.external && !i.path.startsWith('node:') && !builtins.has(i.path)) externals.add(i.path);
  return { file, bytes: statSync(file).size, externals: [...externals].sort() };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const started = performance.now();
  const { file, bytes } = await buildOperator(resolve(values.out ?? join(root, 'dist/operator')));
  console.log(
    `build-operator: ${relative(process.cwd(), file)} (${(bytes / 2 ** 20).toFixed(1)} MiB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}
