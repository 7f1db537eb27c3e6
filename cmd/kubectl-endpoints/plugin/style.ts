// Terminal styling. Colour only where a person reads it: on a terminal, unless NO_COLOR is set (https://no-color.org)
// or TERM is "dumb"; `--color=always|never` overrides the detection. Piped output is plain, so scripts and tests see
// the same text without escape codes.

/** Text decorations; each returns its input unchanged when colour is off. */
export interface Style {
  readonly color: boolean;
  /** A ready endpoint, a passing check. */
  ok(text: string): string;
  /** Something degraded but not absent (not ready, terminating). */
  warn(text: string): string;
  /** Absent, failing, a cause. */
  bad(text: string): string;
  /** Secondary detail. */
  dim(text: string): string;
  bold(text: string): string;
}

/** Whether to colour, from `--color`, whether stdout is a terminal, and the environment. */
export function useColor(mode: 'auto' | 'always' | 'never', isTTY: boolean, env: Readonly<Record<string, string | undefined>>): boolean {
  if (mode !== 'auto') return mode === 'always';
  if ((env.NO_COLOR ?? '') !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

const sgr = (open: number, close: number) => (text: string) => `\u001b[${open}m${text}\u001b[${close}m`;
const identity = (text: string) => text;

/** A style that colours when `color` is true. */
export function newStyle(color: boolean): Style {
  if (!color) return { color, ok: identity, warn: identity, bad: identity, dim: identity, bold: identity };
  return { color, ok: sgr(32, 39), warn: sgr(33, 39), bad: sgr(31, 39), dim: sgr(2, 22), bold: sgr(1, 22) };
}
