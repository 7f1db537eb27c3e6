// Everything the image's content and labels are made of, as one digest: `npm run image` records it next to its output
// (build.json), and the image test reuses that output only when the digest still matches this checkout.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { contextFiles, readFinalStage } from './dockerfile.ts';

export const IMAGE_NAME = 'kube-endpoints-operator';
/** Debian packages whose shared libraries Node links (`ldd node`: libc, libm, libdl, libpthread, libstdc++, libgcc_s). */
export const DEBIAN_PACKAGES = ['libc6', 'libstdc++6', 'libgcc-s1'] as const;

/** Downloads and unpacked packages, kept across builds and checkouts. */
export function imageCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), IMAGE_NAME, 'image');
}

/** The cached .deb of a package, if any (`apt-get download` names it `<pkg>_<version>_<arch>.deb`). */
export function cachedDeb(pkg: string): string | undefined {
  const dir = join(imageCacheDir(), 'debs');
  return existsSync(dir) ? readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb')) : undefined;
}

function git(repo: string, ...args: string[]): string | undefined {
  const r = spawnSync('git', args, { cwd: repo, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export interface BuildInputs {
  /** Commit the image is labelled with, `-dirty` when tracked files differ from it. */
  readonly revision: string;
  /** Seconds since the epoch (SOURCE_DATE_EPOCH, else the commit's time): every file's mtime and the image's `created`. */
  readonly epoch: number;
  /** org.opencontainers.image.source: the flag, else the git remote `origin`. */
  readonly source: string | undefined;
  readonly digest: string;
}

/** Files and facts that decide the image: build scripts, Dockerfile, lockfile, the build context, Debian debs, git (Node's
 * version is package.json's). */
export function buildInputs(repo: string, sourceFlag?: string): BuildInputs {
  const head = git(repo, 'rev-parse', 'HEAD') ?? 'unknown';
  const dirty = (git(repo, 'status', '--porcelain', '--untracked-files=no') ?? '') !== '';
  const revision = dirty ? `${head}-dirty` : head;
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? git(repo, 'log', '-1', '--format=%ct') ?? '0');
  const source = sourceFlag ?? git(repo, 'remote', 'get-url', 'origin');
  const { ignore } = readFinalStage(repo);
  const files = new Set<string>(['Dockerfile', '.dockerignore', 'package.json', 'package-lock.json', '.npmrc']);
  for (const name of readdirSync(join(repo, 'hack/image'))) if (!name.endsWith('.test.ts')) files.add(`hack/image/${name}`);
  // The whole build context: the build stage bundles sources the final stage never copies as such.
  for (const rel of contextFiles(repo, ignore)) files.add(rel);
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ revision, epoch, source, debs: DEBIAN_PACKAGES.map(cachedDeb) }));
  for (const file of [...files].sort()) hash.update(`${file}\0`).update(readFileSync(join(repo, file)));
  return { revision, epoch, source, digest: hash.digest('hex') };
}
