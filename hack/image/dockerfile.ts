// The Dockerfile's final stage, read as data: the daemonless build (hack/image/build-image.ts) takes its file set and
// configuration from here, so the two images cannot drift. Only the instructions this project's Dockerfile uses are
// understood; anything else in the final stage is an error rather than silently ignored.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, matchesGlob } from 'node:path';

export interface DockerfileCopy {
  /** The stage it copies from (`--from=`), or undefined for the build context. */
  readonly from: string | undefined;
  readonly sources: readonly string[];
  readonly destination: string;
}

export interface FinalStage {
  readonly env: ReadonlyMap<string, string>;
  readonly workdir: string;
  readonly user: string;
  readonly exposedPorts: readonly string[];
  readonly entrypoint: readonly string[];
  readonly copies: readonly DockerfileCopy[];
  /** `RUN` commands (shell form), in order. */
  readonly runs: readonly string[];
}

/** Logical instructions: comments and blank lines dropped, `\` continuations joined. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trimEnd()} `;
      continue;
    }
    out.push(pending + line);
    pending = '';
  }
  if (pending !== '') out.push(pending.trim());
  return out;
}

function stringArray(json: string, what: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || !value.every((v): v is string => typeof v === 'string'))
    throw new Error(`Dockerfile: ${what} must be a JSON array of strings (exec form)`);
  return value;
}

/** The final stage of a Dockerfile (after its last FROM). */
export function parseFinalStage(text: string): FinalStage {
  const all = instructions(text);
  const lastFrom = all.findLastIndex((l) => /^FROM\s/i.test(l));
  if (lastFrom < 0) throw new Error('Dockerfile: no FROM');
  const env = new Map<string, string>();
  let workdir = '/';
  let user = '0';
  const exposedPorts: string[] = [];
  let entrypoint: string[] = [];
  const copies: DockerfileCopy[] = [];
  const runs: string[] = [];
  for (const line of all.slice(lastFrom + 1)) {
    const [keyword = '', ...rest] = line.split(/\s+/);
    const args = line.slice(keyword.length).trim();
    switch (keyword.toUpperCase()) {
      case 'ENV': {
        const m = /^(\S+?)[=\s](.*)$/.exec(args);
        if (m === null || m[1] === undefined || m[2] === undefined || m[2].includes(' '))
          throw new Error(`Dockerfile: unsupported ENV form: ${line}`);
        env.set(m[1], m[2]);
        break;
      }
      case 'WORKDIR':
        workdir = args.startsWith('/') ? args : join(workdir, args);
        break;
      case 'USER':
        user = args;
        break;
      case 'EXPOSE':
        exposedPorts.push(...rest.map((p) => (p.includes('/') ? p : `${p}/tcp`)));
        break;
      case 'ENTRYPOINT':
        entrypoint = stringArray(args, 'ENTRYPOINT');
        break;
      case 'COPY': {
        const from = rest.find((a) => a.startsWith('--from='))?.slice('--from='.length);
        const paths = rest.filter((a) => !a.startsWith('--'));
        if (rest.some((a) => a.startsWith('--') && !a.startsWith('--from='))) throw new Error(`Dockerfile: unsupported COPY flag: ${line}`);
        const destination = paths.at(-1);
        if (destination === undefined || paths.length < 2) throw new Error(`Dockerfile: COPY needs a source and a destination: ${line}`);
        copies.push({
          from,
          sources: paths.slice(0, -1),
          destination: destination.startsWith('/') ? destination : join(workdir, destination),
        });
        break;
      }
      case 'RUN':
        runs.push(args);
        break;
      default:
        throw new Error(`Dockerfile: instruction not understood by hack/image/dockerfile.ts: ${line}`);
    }
  }
  return { env, workdir, user, exposedPorts, entrypoint, copies, runs };
}

/** .dockerignore patterns (comments and blank lines dropped). */
export function parseDockerignore(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** Docker's .dockerignore semantics: the last pattern matching the path or one of its parent directories wins. */
export function dockerIgnored(path: string, patterns: readonly string[]): boolean {
  const parents = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    if (parents.some((p) => matchesGlob(p, pattern))) ignored = !negated;
  }
  return ignored;
}

/**
 * What the final stage's context COPY lines put in the image: image path (absolute) -> context path (relative to the
 * context), regular files and symlinks only, after .dockerignore. A source directory's contents land in the
 * destination (Docker's rule); a file source lands in a destination ending in `/` under its own name.
 */
export function contextCopies(context: string, stage: FinalStage, ignore: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string, target: string) => {
    if (dockerIgnored(rel, ignore)) return;
    const stat = lstatSync(join(context, rel));
    if (stat.isDirectory()) {
      for (const name of readdirSync(join(context, rel)).sort()) walk(`${rel}/${name}`, `${target}/${name}`);
    } else out.set(target, rel);
  };
  for (const copy of stage.copies) {
    if (copy.from !== undefined) continue;
    for (const source of copy.sources) {
      const rel = source.replace(/\/$/, '');
      const isDir = lstatSync(join(context, rel)).isDirectory();
      const base = copy.destination.replace(/\/$/, '');
      const target = isDir || !copy.destination.endsWith('/') ? base : `${base}/${rel.split('/').at(-1) ?? rel}`;
      walk(rel, target);
    }
  }
  return out;
}

/**
 * Every file of the build context after .dockerignore (relative paths, sorted): what any stage can copy, so what decides
 * the image. Directories are walked even when ignored, since a later `!pattern` can admit a file inside them; `.git`,
 * `node_modules` and `dist` are never context here.
 */
export function contextFiles(context: string, ignore: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(context, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!['.git', 'node_modules', 'dist'].includes(entry.name)) walk(path);
      } else if (!dockerIgnored(path, ignore)) out.push(path);
    }
  };
  walk('');
  return out.sort();
}

export function readFinalStage(repo: string): { stage: FinalStage; ignore: string[] } {
  return {
    stage: parseFinalStage(readFileSync(join(repo, 'Dockerfile'), 'utf8')),
    ignore: parseDockerignore(readFileSync(join(repo, '.dockerignore'), 'utf8')),
  };
}
