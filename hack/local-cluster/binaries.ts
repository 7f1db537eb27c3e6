import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Finding etcd, kube-apiserver and kube-controller-manager. No registry ships them, so unless the caller points at a
// directory that has all three, the repository's build script builds them from Go modules (minutes when cold, instant
// when cached). The environment is an explicit input: this module never reads process.env itself.

/** Absolute paths of the three control-plane binaries. */
export interface ControlPlaneBinaries {
  readonly dir: string;
  readonly etcd: string;
  readonly kubeApiServer: string;
  readonly kubeControllerManager: string;
}

/** The repository's build script, beside this library. */
export const BUILD_SCRIPT: string = fileURLToPath(new URL('../build-control-plane.sh', import.meta.url));

/** Inputs of {@link locateControlPlaneBinaries}. */
export interface LocateBinariesOptions {
  /** A directory that may hold all three binaries (the caller passes KUBEBUILDER_ASSETS). Used only if complete. */
  readonly kubebuilderAssets?: string | undefined;
  /** The environment of the build script (it reads KEO_BIN_CACHE, XDG_CACHE_HOME, HOME, PATH). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Default {@link BUILD_SCRIPT}. */
  readonly buildScript?: string;
  /** Receives each stderr line of the build script (its progress). Default: written to this process's stderr. */
  readonly onBuildOutput?: (line: string) => void;
}

/** The binaries could not be found or built. The message is one line saying why and where to look. */
export class BinariesUnavailableError extends Error {
  override readonly name = 'BinariesUnavailableError';
}

/**
 * Returns the binaries from `kubebuilderAssets` when it holds all three executables, otherwise runs the build script
 * (which prints the binary directory on stdout) and checks its answer. Throws {@link BinariesUnavailableError}.
 */
export async function locateControlPlaneBinaries(opts: LocateBinariesOptions): Promise<ControlPlaneBinaries> {
  if (opts.kubebuilderAssets !== undefined && opts.kubebuilderAssets !== '') {
    const fromAssets = binariesIn(opts.kubebuilderAssets);
    if (await allExecutable(fromAssets)) return fromAssets;
  }
  const script = opts.buildScript ?? BUILD_SCRIPT;
  const dir = await runBuildScript(script, opts);
  const built = binariesIn(dir);
  if (!(await allExecutable(built))) {
    throw new BinariesUnavailableError(
      `${script} reported ${dir}, but it does not hold executable etcd, kube-apiserver and kube-controller-manager`,
    );
  }
  return built;
}

/** The expected layout of a binary directory. Pure. */
export function binariesIn(dir: string): ControlPlaneBinaries {
  return {
    dir,
    etcd: join(dir, 'etcd'),
    kubeApiServer: join(dir, 'kube-apiserver'),
    kubeControllerManager: join(dir, 'kube-controller-manager'),
  };
}

async function allExecutable(b: ControlPlaneBinaries): Promise<boolean> {
  const checks = [b.etcd, b.kubeApiServer, b.kubeControllerManager].map((p) =>
    access(p, constants.X_OK).then(
      () => true,
      () => false,
    ),
  );
  return (await Promise.all(checks)).every(Boolean);
}

/**
 * Runs the build script with `args` and resolves with the directory it printed. Throws {@link BinariesUnavailableError}
 * with the script's last progress line when it fails.
 */
export function runBuildScript(
  script: string,
  opts: Pick<LocateBinariesOptions, 'env' | 'onBuildOutput'>,
  args: readonly string[] = [],
): Promise<string> {
  const onLine = opts.onBuildOutput ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = Object.fromEntries(Object.entries(opts.env).filter((e): e is [string, string] => e[1] !== undefined));
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrRest = '';
    let lastStderrLine = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (stderrRest + chunk).split('\n');
      stderrRest = lines.pop() ?? '';
      for (const line of lines) {
        if (line.trim() !== '') lastStderrLine = line.trim();
        onLine(line);
      }
    });
    child.once('error', (err) => reject(new BinariesUnavailableError(`could not run ${script}: ${err.message}`, { cause: err })));
    child.once('close', (code, signal) => {
      if (stderrRest !== '') {
        lastStderrLine = stderrRest.trim();
        onLine(stderrRest);
      }
      const dir = stdout.trim().split('\n').pop()?.trim() ?? '';
      if (code === 0 && dir !== '') return resolve(dir);
      const how = signal === null ? `exited with code ${code}` : `was killed by ${signal}`;
      const why = code === 0 ? 'printed no directory' : how;
      reject(
        new BinariesUnavailableError(
          `control-plane binaries unavailable: ${script} ${why}${lastStderrLine === '' ? '' : `: ${lastStderrLine}`}`,
        ),
      );
    });
  });
}
