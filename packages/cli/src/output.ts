// Exit codes and output helpers shared by the commands.

export const EXIT = {
  ok: 0,
  /** The check failed (a typed verification error). */
  failed: 1,
  /** Bad command line. */
  usage: 2,
  /** Wrong PIN (card commands). */
  wrongPin: 3,
  /** PIN blocked (card commands). */
  pinBlocked: 4,
  internal: 70,
} as const;

/** An error the CLI reports as one line, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.usage) {
    super(message);
    this.exitCode = exitCode;
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function parseDateOption(value: string, option: string): Date {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(d.getTime()))
    throw new CliError(
      `${option}: "${value}" is not a date (use ISO 8601, e.g. 2026-11-25 or 2026-11-25T09:00:00+09:00)`,
    );
  return d;
}

export function choice<T extends string>(value: string, allowed: readonly T[], option: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new CliError(`${option} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

/** Resolves once SIGINT or SIGTERM arrived and `close` finished: long-running commands end cleanly. */
export function untilStopped(close: () => Promise<void>, progress: (line: string) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      progress('stopping…');
      void close().then(resolve, resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
