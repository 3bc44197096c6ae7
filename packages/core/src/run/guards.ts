/** Guards shared by the trainers. */

export class NonFiniteLossError extends Error {
  constructor(
    public readonly what: string,
    public readonly step: number,
    public readonly value: number,
  ) {
    super(`${what} became ${value} at step ${step}: training stopped; the last good checkpoint is kept`);
    this.name = 'NonFiniteLossError';
  }
}

/** Throws NonFiniteLossError for NaN or infinite values, so a run stops before saving them. */
export function assertFinite(values: Record<string, number>, step: number): void {
  for (const [what, value] of Object.entries(values)) {
    if (!Number.isFinite(value)) throw new NonFiniteLossError(what, step, value);
  }
}

/**
 * A step's inputs failed to load (an unreadable image, a file gone) after `step` steps; the steps
 * trained before it are kept in `checkpoint` (undefined when there is none).
 */
export class InputsFailedError extends Error {
  constructor(
    cause: Error,
    readonly step: number,
    readonly checkpoint: string | undefined,
  ) {
    const kept = checkpoint ? `checkpoint ${checkpoint}` : 'no checkpoint yet';
    super(`${cause.message}\nstopped after step ${step}; ${kept}; mend the data, then continue with the same command and --resume`, { cause });
    this.name = 'InputsFailedError';
  }
}
