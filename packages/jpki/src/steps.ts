// Checks as named, ordered steps (certificate validation, OCSP response acceptance): each step names
// the error codes it can throw, a caller skips one by name (only one marked skippable), and an error
// can be traced back to the step that threw it.

import type { JpkiErrorCode } from './errors.js';

export interface Step<Context> {
  readonly name: string;
  /** The codes of the errors this step can throw. */
  readonly codes: readonly JpkiErrorCode[];
  /** Whether a caller may skip it (it decides nothing later steps rely on). */
  readonly skippable?: boolean;
  /** Runs only when this holds (default: always). */
  readonly when?: (context: Context) => boolean;
  readonly run: (context: Context) => void;
}

export interface StepRunner<Context, Name extends string> {
  /** Runs the steps in order, except those named in `skip`; the first failure is thrown. */
  run(context: Context, skip?: readonly Name[]): void;
  /** The step that threw `error` while running, if it came from one. */
  failedStep(error: unknown): Name | undefined;
}

export function stepRunner<Context, S extends Step<Context>>(steps: readonly S[]): StepRunner<Context, S['name']> {
  const failures = new WeakMap<object, S['name']>();
  return {
    run(context, skip = []) {
      for (const name of skip) {
        if (!steps.some((s) => s.name === name && s.skippable)) throw new TypeError(`step ${name} cannot be skipped`);
      }
      let current: S | undefined;
      try {
        for (const step of steps) {
          if (skip.includes(step.name) || (step.when && !step.when(context))) continue;
          current = step;
          step.run(context);
        }
      } catch (e) {
        if (current && typeof e === 'object' && e !== null) failures.set(e, current.name);
        throw e;
      }
    },
    failedStep: (error) => (typeof error === 'object' && error !== null ? failures.get(error) : undefined),
  };
}
