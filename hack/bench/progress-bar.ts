// A small progress bar on stderr. On a terminal it redraws one line (at most 10 times a second); elsewhere (CI logs,
// pipes) it prints a line when a phase starts and at every 10 % so the log stays short.

/** Renders `[####----] 45% label (450/1000) 12.3s`. Pure. */
export function renderBar(label: string, done: number, total: number, elapsedMs: number, width = 24): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(ratio * width);
  const pct = `${Math.floor(ratio * 100)}`.padStart(3);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct}% ${label} (${done}/${total}) ${(elapsedMs / 1000).toFixed(1)}s`;
}

/** Progress of the current phase. One instance per run; phases replace each other. */
export class ProgressBar {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  #label = '';
  #total = 0;
  #done = 0;
  #started = 0;
  #lastDraw = 0;
  #lastDecile = -1;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#tty = out.isTTY === true;
  }

  /** Starts a phase of `total` units (0 for a phase with no countable units: shown as a spinner-less line). */
  phase(label: string, total: number): void {
    this.#finishLine();
    this.#label = label;
    this.#total = total;
    this.#done = 0;
    this.#started = performance.now();
    this.#lastDecile = -1;
    this.#draw(true);
  }

  /** Adds `n` finished units. */
  tick(n = 1): void {
    this.#done += n;
    this.#draw(false);
  }

  /** Sets the finished units. */
  set(done: number): void {
    this.#done = done;
    this.#draw(false);
  }

  /** Ends the bar's line (before printing anything else). */
  done(): void {
    // Off a terminal the 100 % line was printed already when the last unit finished.
    if (this.#tty || this.#lastDecile !== 10) this.#draw(true);
    this.#finishLine();
    this.#label = '';
  }

  /** Prints a message on its own line without breaking the bar. */
  log(message: string): void {
    this.#finishLine();
    this.#out.write(`${message}\n`);
    if (this.#tty && this.#label !== '') this.#draw(true);
  }

  #draw(force: boolean): void {
    if (this.#label === '') return;
    const now = performance.now();
    const line = renderBar(this.#label, this.#done, this.#total, now - this.#started);
    if (this.#tty) {
      if (!force && now - this.#lastDraw < 100) return;
      this.#lastDraw = now;
      this.#out.write(`\r\x1b[K${line}`);
      return;
    }
    const decile = this.#total > 0 ? Math.floor((Math.min(this.#done, this.#total) / this.#total) * 10) : 0;
    if (!force && decile === this.#lastDecile) return;
    this.#lastDecile = decile;
    this.#out.write(`${line}\n`);
  }

  #finishLine(): void {
    if (this.#tty && this.#label !== '') this.#out.write('\n');
  }
}
