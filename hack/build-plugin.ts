// Builds `kubectl endpoints` as a single executable (`npm run build:plugin`): the plugin bundled into one CommonJS file
// with esbuild, embedded into a copy of the pinned Node 24 as a single executable application (node
// --experimental-sea-config, then postject), a reproducible tar.gz of it with the LICENSE, and the krew manifest
// plugins/endpoints.yaml with that archive's sha256. With --verify (`npm run verify:plugin`, before a release) the
// manifest is not written but compared: exit 1 if the committed one is not what this build gives. CI's binary test
// compares it but for the sha256, which every change to a bundled source moves. See docs/adr/0003-plugin-launcher.md.
//
//   node hack/build-plugin.ts [--out DIR] [--verify]     (DIR default dist/plugin)

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, type Plugin } from 'esbuild';
import packageJson from '../package.json' with { type: 'json' };
import { archiveName, krewManifest } from './plugin/krew-manifest.ts';
import { tarGz } from './plugin/ustar.ts';

const root = join(import.meta.dirname, '..');
const MANIFEST = 'plugins/endpoints.yaml';
/** The fuse Node's single executable applications look for (from Node's documentation of SEA). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * The plugin reads only `version` from package.json, but a bundler inlines the whole file: then every new npm script
 * or dependency would change the executable's bytes and the manifest's sha256. Only the version goes in.
 */
const versionOnlyPackageJson: Plugin = {
  name: 'version-only-package-json',
  setup(b) {
    b.onLoad({ filter: /[\\/]package\.json$/ }, (args) =>
      args.path === join(root, 'package.json') ? { contents: JSON.stringify({ version: packageJson.version }), loader: 'json' } : undefined,
    );
  },
};

export interface BuildResult {
  readonly binary: string;
  readonly archive: string;
  readonly sha256: string;
  readonly manifest: string;
}

function run(command: string, args: readonly string[], what: string, cwd?: string): void {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal}): ${r.error?.message ?? ''}${r.stderr}${r.stdout}`);
}

/** Builds the executable, the archive and the manifest text into `out`. */
export async function buildPlugin(out: string): Promise<BuildResult> {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error(`builds linux-amd64 only, not ${process.platform}-${process.arch}`);
  const pinned = packageJson.devDependencies.node;
  if (process.versions.node !== pinned) {
    throw new Error(`run through npm (npm run build:plugin): the executable embeds the pinned Node ${pinned}, not ${process.version}`);
  }
  const work = mkdtempSync(join(tmpdir(), 'kubectl-endpoints-build-'));
  try {
    const bundle = join(work, 'kubectl-endpoints.cjs');
    await build({
      entryPoints: [join(root, 'cmd/kubectl-endpoints/main.ts')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'cjs',
      minify: true,
      absWorkingDir: root,
      logLevel: 'error',
      plugins: [versionOnlyPackageJson],
    });
    // Paths relative to the work directory: the blob records the main script's path as given, and the temporary
    // directory's name must not change the executable's bytes.
    const blob = join(work, 'sea.blob');
    writeFileSync(
      join(work, 'sea-config.json'),
      JSON.stringify({
        main: 'kubectl-endpoints.cjs',
        output: 'sea.blob',
        disableExperimentalSEAWarning: true,
        useSnapshot: false,
        useCodeCache: false,
      }),
    );
    run(process.execPath, ['--experimental-sea-config', 'sea-config.json'], 'node --experimental-sea-config', work);

    mkdirSync(out, { recursive: true });
    const binary = join(out, 'kubectl-endpoints');
    rmSync(binary, { force: true });
    copyFileSync(process.execPath, binary);
    chmodSync(binary, 0o755);
    const postject = join(root, 'node_modules/postject/dist/cli.js');
    run(process.execPath, [postject, binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], 'postject');

    const archiveFile = archiveName('linux', 'amd64');
    const archive = join(out, archiveFile);
    const gz = tarGz([
      { name: 'kubectl-endpoints', mode: 0o755, content: readFileSync(binary) },
      { name: 'LICENSE', mode: 0o644, content: readFileSync(join(root, 'LICENSE')) },
    ]);
    writeFileSync(archive, gz);
    const sha256 = createHash('sha256').update(gz).digest('hex');
    const manifest = krewManifest(packageJson.version, [{ os: 'linux', arch: 'amd64', archive: archiveFile, sha256 }]);
    return { binary, archive, sha256, manifest };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(argv: readonly string[]): Promise<number> {
  let values: { out?: string; verify?: boolean };
  try {
    ({ values } = parseArgs({ args: [...argv], options: { out: { type: 'string' }, verify: { type: 'boolean' } } }));
  } catch (err) {
    console.error(`build-plugin: ${err instanceof Error ? err.message : String(err)} (usage: build-plugin.ts [--out DIR] [--verify])`);
    return 2;
  }
  const started = performance.now();
  const r = await buildPlugin(resolve(values.out ?? join(root, 'dist/plugin')));
  const size = (file: string) => `${(readFileSync(file).length / 1e6).toFixed(1)} MB`;
  console.log(
    `build-plugin: ${r.binary} (${size(r.binary)}), ${r.archive} (${size(r.archive)}, sha256 ${r.sha256}) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  const manifestPath = join(root, MANIFEST);
  if (values.verify === true) {
    let committed = '';
    try {
      committed = readFileSync(manifestPath, 'utf8');
    } catch {
      // A missing manifest is drift like any other.
    }
    if (committed !== r.manifest) {
      console.error(`verify-plugin: ${MANIFEST} is not what this build gives (sha256 ${r.sha256}); run npm run build:plugin and commit it`);
      return 1;
    }
    console.log(`verify-plugin: ${MANIFEST} is up to date`);
    return 0;
  }
  mkdirSync(dirname(manifestPath), { recursive: true });
  writeFileSync(manifestPath, r.manifest);
  console.log(`build-plugin: wrote ${MANIFEST}`);
  return 0;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`build-plugin: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
