import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { z } from 'zod';
import packageJson from '../../package.json' with { type: 'json' };
import { buildOperator, OPERATOR_BUNDLE } from '../../hack/build-operator.ts';
import { buildInputs, IMAGE_NAME } from '../../hack/image/build-inputs.ts';
import { contextCopies, readFinalStage } from '../../hack/image/dockerfile.ts';
import { waitFor } from '../envtest/wait-for.ts';

// The image `npm run image` builds without a container engine (docs/adr/0006-daemonless-image-build.md): its /app is
// the operator bundle hack/build-operator.ts makes from this checkout (docs/adr/0008-bundled-entry-point.md), what the
// final stage's COPY lines and .dockerignore select, and the compile cache; its configuration is the Dockerfile's; it starts under runc from a read-only root
// filesystem as UID 1000 and reads the compile cache it ships; podman loads the archive and testcontainers starts it
// through podman's Docker-compatible API. The build output in
// dist/image is reused only when build.json's inputs digest (sources, Dockerfile, lockfile, build scripts, commit)
// matches this checkout; otherwise the image is built into a temporary directory.

const REPO = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
const MAX_BUFFER = 64 << 20;
/** The lock file testcontainers creates in the temporary directory (removed afterwards if this test created it). */
const TESTCONTAINERS_LOCK = join(tmpdir(), 'testcontainers-node-0.lock');

assert.equal(process.getuid?.(), 0, 'the image test needs root (umoci unpack keeps root ownership, runc)');
for (const tool of ['umoci', 'runc']) {
  const found = await run('sh', ['-c', `command -v ${tool}`]).catch(() => undefined);
  assert.ok(found !== undefined, `${tool} is required (Debian package ${tool}; .ci/run installs it)`);
}

/** Optional: .ci/run installs it; without it the podman tests are reported as skipped. */
const podman = (await run('sh', ['-c', 'command -v podman']).catch(() => undefined)) !== undefined;
const inputs = buildInputs(REPO);
const work = await mkdtemp(join(tmpdir(), 'image-test-'));
const runcRoot = join(work, 'runc'); // runc's state for this test only: other containers on the machine are not ours
const containerIds: string[] = [];
after(async () => {
  for (const id of containerIds) await run('runc', ['--root', runcRoot, 'delete', '--force', id]).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
  assert.ok(!existsSync(work), `${work} removed`);
});

// ---- the image ---------------------------------------------------------------------------------------------------------

const buildInfoSchema = z.object({
  inputs: z.string(),
  manifest: z.string(),
  tag: z.string(),
  reference: z.string(),
  tarball: z.string(),
  compressedBytes: z.number(),
  unpackedBytes: z.number(),
});
function readBuildInfo(dir: string): z.infer<typeof buildInfoSchema> | undefined {
  const file = join(dir, 'build.json');
  return existsSync(file) ? buildInfoSchema.parse(JSON.parse(readFileSync(file, 'utf8'))) : undefined;
}

let out = join(REPO, 'dist/image');
if (readBuildInfo(out)?.inputs !== inputs.digest) {
  out = join(work, 'out');
  await run(process.execPath, [join(REPO, 'hack/image/build-image.ts'), '--out', out], { maxBuffer: MAX_BUFFER });
}
const info = readBuildInfo(out);
assert.ok(info !== undefined && info.inputs === inputs.digest, 'the build recorded this checkout as its inputs');
const layout = join(out, 'oci');

function blob(digest: string): Buffer {
  return readFileSync(join(layout, 'blobs/sha256', digest.replace(/^sha256:/, '')));
}
const index = z
  .object({ manifests: z.array(z.looseObject({ digest: z.string(), annotations: z.record(z.string(), z.string()) })) })
  .loose()
  .parse(JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')));
const manifest = z
  .looseObject({
    config: z.looseObject({ digest: z.string() }),
    layers: z.array(z.looseObject({ digest: z.string(), size: z.number(), mediaType: z.string() })),
  })
  .parse(JSON.parse(blob(info.manifest).toString('utf8')));
const imageConfig = z
  .looseObject({
    architecture: z.string(),
    os: z.string(),
    config: z.looseObject({
      User: z.string(),
      WorkingDir: z.string(),
      Env: z.array(z.string()),
      Entrypoint: z.array(z.string()),
      ExposedPorts: z.record(z.string(), z.object({})),
      Labels: z.record(z.string(), z.string()),
    }),
  })
  .parse(JSON.parse(blob(manifest.config.digest).toString('utf8')));

const bundle = join(work, 'bundle');
await run('umoci', ['unpack', '--image', `${layout}:${info.tag}`, bundle], { maxBuffer: MAX_BUFFER });
const rootfs = join(bundle, 'rootfs');

const { stage, ignore } = readFinalStage(REPO);
// The bundle as this checkout makes it, to compare byte for byte.
const fresh = await buildOperator(join(work, 'bundle-check'));
const freshBundle = fresh.file;

// Everything is read before the first test: a top-level await between describe() blocks would let node:test end the
// file's root (and run its after() hooks) while later blocks are still to come.
const processSchema = z.looseObject({ args: z.array(z.string()), env: z.array(z.string()), terminal: z.boolean().optional() });
const runtimeSpec = z
  .looseObject({
    process: processSchema,
    root: z.looseObject({ path: z.string(), readonly: z.boolean().optional() }),
    linux: z.looseObject({ cgroupsPath: z.string().optional(), namespaces: z.array(z.looseObject({ type: z.string() })) }),
  })
  .parse(JSON.parse(await readFile(join(bundle, 'config.json'), 'utf8')));

/** Files and symlinks under dir, relative to it. */
function walk(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const rel = prefix === '' ? name : `${prefix}/${name}`;
    if (lstatSync(join(dir, rel)).isDirectory()) out.push(...walk(dir, rel));
    else out.push(rel);
  }
  return out;
}
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('the image npm run image builds', () => {
  const app = join(rootfs, stage.workdir.slice(1));
  const compileCache = (stage.env.get('NODE_COMPILE_CACHE') ?? '').slice(stage.workdir.length + 1);

  it('has in /app exactly the bundle of this checkout and what the final stage copies from it, byte for byte', () => {
    const expected = contextCopies(REPO, stage, ignore);
    const actual = walk(app)
      .filter((f) => !f.startsWith(`${compileCache}/`))
      .sort();
    const bundle = `dist/operator/${OPERATOR_BUNDLE}`;
    assert.deepEqual(actual, [bundle, ...[...expected.keys()].map((target) => relative(stage.workdir, target))].sort());
    assert.equal(sha256(join(app, bundle)), sha256(freshBundle), 'the bundle hack/build-operator.ts makes here');
    assert.equal(lstatSync(join(app, bundle)).uid, 0, 'owned by root');
    for (const [target, rel] of expected) {
      const inImage = join(rootfs, target);
      if (lstatSync(join(REPO, rel)).isSymbolicLink()) assert.equal(readlinkSync(inImage), readlinkSync(join(REPO, rel)));
      else assert.equal(sha256(inImage), sha256(join(REPO, rel)), `${target} differs from ${rel}`);
      assert.equal(lstatSync(inImage).uid, 0, `${target} is owned by root`);
    }
    assert.ok(!existsSync(join(app, 'node_modules')), 'no node_modules: the bundle carries its dependencies');
  });

  it("bundles every production dependency: what it leaves to the runtime is Node's or optional", () => {
    // Each is require()d inside a try (or only on request) by a dependency that works without it: ws (bufferutil,
    // utf-8-validate: native speed-ups), debug (supports-color), pg (pg-native: only for `pg.native`, never used).
    assert.deepEqual(fresh.externals, ['bufferutil', 'pg-native', 'supports-color', 'utf-8-validate']);
    const text = readFileSync(join(app, 'dist/operator', OPERATOR_BUNDLE), 'utf8');
    for (const pkg of Object.keys(packageJson.dependencies))
      assert.ok(text.includes(`node_modules/${pkg}/`), `${pkg} (a production dependency) is inside the bundle`);
  });

  it('ships the compile cache the entry point fills, and nothing else outside the runtime and /app', () => {
    assert.ok(walk(join(app, compileCache)).length > 0, 'compile cache entries');
    assert.deepEqual(readdirSync(rootfs).sort(), ['app', 'etc', 'lib', 'lib64', 'tmp', 'usr']);
    assert.match(readFileSync(join(rootfs, 'etc/passwd'), 'utf8'), new RegExp(`^node:x:${stage.user}:`, 'm'));
  });

  it("is configured as the Dockerfile's final stage says, with OCI labels", () => {
    const cfg = imageConfig.config;
    assert.equal(cfg.User, stage.user);
    assert.match(cfg.User, /^[1-9]\d*:[1-9]\d*$/, 'numeric, not root');
    assert.equal(cfg.WorkingDir, stage.workdir);
    assert.deepEqual(cfg.Entrypoint, [...stage.entrypoint]);
    assert.deepEqual(Object.keys(cfg.ExposedPorts).sort(), [...stage.exposedPorts].sort());
    for (const [k, v] of stage.env) assert.ok(cfg.Env.includes(`${k}=${v}`), `ENV ${k}=${v}`);
    assert.equal(stage.env.get('NODE_ENV'), 'production');
    assert.deepEqual([imageConfig.os, imageConfig.architecture], ['linux', 'amd64']);
    const labels = cfg.Labels;
    assert.equal(labels['org.opencontainers.image.title'], IMAGE_NAME);
    assert.equal(labels['org.opencontainers.image.version'], packageJson.version);
    assert.equal(labels['org.opencontainers.image.revision'], inputs.revision);
    assert.equal(labels['org.opencontainers.image.licenses'], packageJson.license);
    assert.equal(labels['org.opencontainers.image.created'], new Date(inputs.epoch * 1000).toISOString().replace('.000Z', 'Z'));
    assert.equal(labels['org.opencontainers.image.source'], inputs.source);
    assert.equal(index.manifests[0]?.annotations['org.opencontainers.image.ref.name'], packageJson.version, 'tagged with the version');
    assert.equal(manifest.layers.length, 2, 'runtime, operator');
    assert.ok(manifest.layers.every((l) => l.mediaType.endsWith('tar+gzip')));
  });
});

// ---- running it --------------------------------------------------------------------------------------------------------

/** Runs the image's process (its args replaced, env added) under runc, read-only root, fresh namespaces; output. */
async function runContainer(args: readonly string[], env: readonly string[] = []): Promise<{ stdout: string; stderr: string }> {
  const id = `image-test-${process.pid}-${containerIds.length}`;
  containerIds.push(id);
  const spec = {
    ...runtimeSpec,
    process: { ...runtimeSpec.process, args: [...args], env: [...runtimeSpec.process.env, ...env], terminal: false },
    root: { ...runtimeSpec.root, readonly: true },
    linux: { ...runtimeSpec.linux, cgroupsPath: `/${id}` },
  };
  await writeFile(join(bundle, 'config.json'), JSON.stringify(spec));
  try {
    return await run('runc', ['--root', runcRoot, 'run', '--bundle', bundle, id], { maxBuffer: MAX_BUFFER, timeout: 120_000 });
  } finally {
    const state = await run('runc', ['--root', runcRoot, 'list', '--quiet']);
    assert.equal(state.stdout.trim(), '', 'runc removed the container');
    assert.ok(!existsSync(join('/sys/fs/cgroup/memory', id)) && !existsSync(join('/sys/fs/cgroup', id)), 'its cgroup is gone');
  }
}

describe('the image under runc', () => {
  it('prints the usage, reading the compile cache built for /app (no module compiled afresh)', async () => {
    assert.ok(
      runtimeSpec.linux.namespaces.some((n) => n.type === 'network'),
      'a fresh network namespace: nothing reachable',
    );
    const { stdout, stderr } = await runContainer([...stage.entrypoint, '--help'], ['NODE_DEBUG_NATIVE=COMPILE_CACHE']);
    assert.match(stdout, /^Usage: kube-endpoints-operator/m);
    const entry = stage.entrypoint[1] ?? '';
    assert.match(stderr, new RegExp(`V8 code cache for ESM file://${stage.workdir}/${entry.replaceAll('.', '\\.')} was accepted`));
    assert.doesNotMatch(stderr, /Cannot create cache directory|permission denied|no transpile cache/);
  });

  it('has no embedded playground: given no cluster outside a Pod, it says so in one line and exits 1', async () => {
    const failed = await runContainer([...stage.entrypoint]).then(
      () => assert.fail('the operator ran without a cluster'),
      (err: unknown) => z.object({ code: z.number(), stdout: z.string(), stderr: z.string() }).parse(err),
    );
    assert.deepEqual(failed, {
      code: 1,
      stdout: '',
      stderr:
        'error: no cluster to connect to: pass --kubeconfig or set KUBECONFIG (in a Pod the service account is used); ' +
        'this build has no embedded playground to start instead\n',
    });
  });

  it('runs as UID 1000 on a read-only root filesystem', async () => {
    const probe = `
      const fs = require('node:fs');
      let write = 'ok';
      try { fs.writeFileSync('/tmp/probe', 'x'); } catch (e) { write = e.code; }
      console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), cwd: process.cwd(), write, env: process.env.NODE_ENV }));`;
    const { stdout } = await runContainer(['node', '-e', probe]);
    const [uid, gid] = stage.user.split(':').map(Number);
    assert.deepEqual(JSON.parse(stdout), { uid, gid, cwd: stage.workdir, write: 'EROFS', env: 'production' });
  });
});

// Its own storage (vfs: no mounts left behind), so the machine's images and containers are neither seen nor touched.
const podmanStorage = ['--root', join(work, 'podman/root'), '--runroot', join(work, 'podman/run'), '--storage-driver', 'vfs'];
const podmanRuntime = ['--cgroup-manager', 'cgroupfs', '--runtime', 'runc'];

/** The hard limit of one rlimit ("Max open files", ...) of a process, from /proc/<pid>/limits. */
function hardLimit(pid: number, name: string): number {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(name));
  const hard = Number(line?.slice(name.length).trim().split(/\s+/)[1]);
  assert.ok(Number.isInteger(hard), `${name} in /proc/${pid}/limits`);
  return hard;
}

describe('podman', { skip: podman ? false : 'podman is not installed' }, () => {
  after(async () => {
    await run('podman', [...podmanStorage, 'rm', '--all', '--force']).catch(() => undefined);
    await run('podman', [...podmanStorage, 'rmi', '--all', '--force']).catch(() => undefined);
  });

  it('loads the archive under the name the manifests use, with the user and labels', async () => {
    const loaded = await run('podman', [...podmanStorage, 'load', '--input', join(out, info.tarball)], { maxBuffer: MAX_BUFFER });
    assert.match(loaded.stdout, new RegExp(`Loaded image: docker\\.io/library/${info.reference}`));
    const inspected = await run('podman', [...podmanStorage, 'image', 'inspect', info.reference]);
    const [image] = z
      .array(z.looseObject({ Config: z.looseObject({ User: z.string(), Labels: z.record(z.string(), z.string()) }) }))
      .parse(JSON.parse(inspected.stdout));
    assert.equal(image?.Config.User, stage.user);
    assert.equal(image.Config.Labels['org.opencontainers.image.version'], packageJson.version);
  });

  // The design card's testcontainers, on podman's Docker-compatible API instead of a Docker engine. Podman asks runc
  // for RLIMIT_NOFILE/NPROC of 1048576, which a root without CAP_SYS_RESOURCE and lower hard limits cannot grant
  // ("error setting rlimit type 7: operation not permitted"): the container asks for the service's own limits.
  it('starts the image with testcontainers through podman system service', async (t) => {
    const dir = join(work, 'podman-service');
    await mkdir(dir, { recursive: true });
    const socket = join(dir, 'podman.sock');
    const lockExisted = existsSync(TESTCONTAINERS_LOCK);
    const service = spawn('podman', [...podmanStorage, ...podmanRuntime, 'system', 'service', '--time=0', `unix://${socket}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let serviceErr = '';
    service.stderr.on('data', (c: Buffer) => (serviceErr += c.toString()));
    const exited = new Promise((resolve) => service.once('exit', resolve));
    t.after(async () => {
      service.kill('SIGTERM');
      await exited;
      if (!lockExisted) await rm(TESTCONTAINERS_LOCK, { force: true });
    });
    await waitFor(() => existsSync(socket), {
      description: `podman system service listening on ${socket} (${serviceErr})`,
      timeoutMs: 30_000,
    });
    const limit = (name: string) => {
      const hard = hardLimit(service.pid ?? 0, name);
      return { soft: hard, hard };
    };

    // testcontainers reads these when it first looks for a container runtime, i.e. at the first start() below.
    process.env.DOCKER_HOST = `unix://${socket}`;
    process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'; // its reaper container is pulled from Docker Hub: nothing here
    const { GenericContainer, Wait } = await import('testcontainers');
    let output = '';
    const container = await new GenericContainer(info.reference)
      .withCommand(['--help'])
      .withNetworkMode('none')
      .withUlimits({ nofile: limit('Max open files'), nproc: limit('Max processes') })
      .withLogConsumer((stream) => stream.on('data', (chunk: Buffer) => (output += chunk.toString())))
      .withWaitStrategy(Wait.forOneShotStartup())
      .start();
    await container.stop();
    assert.match(output, /^Usage: kube-endpoints-operator/m);
    const left = await run('podman', [...podmanStorage, 'ps', '--all', '--quiet']);
    assert.equal(left.stdout.trim(), '', 'testcontainers removed the container');
  });
});
