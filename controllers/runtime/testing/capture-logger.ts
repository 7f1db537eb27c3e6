import { type Logger, pino } from 'pino';

// Test-only: a logger whose output tests can read back, to assert on log messages, fields and levels.

/** One parsed log line. */
export type LogLine = Record<string, unknown> & { level: number; msg?: string };

/** A pino logger that keeps every line in memory, synchronously, so tests can assert on fields and levels. */
export function captureLogger(level = 'trace'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}
