/**
 * Detectors for the two GAN failures the report describes ("mode collapse happens when the
 * discriminator is too strong"; "examine the losses of discriminator and generator to find the
 * cause of failure"):
 *
 * - discriminator collapse: D wins every batch, its loss sinks to ~0 while G's loss explodes
 *   (G gets vanishing gradients and stops learning);
 * - mode collapse: G maps every z to (nearly) the same image, so the samples of one batch are
 *   much closer to each other than real images of a batch are.
 *
 * Both are pure bookkeeping over numbers the trainer already has, so they are tested on
 * constructed sequences and batches.
 */
import { z } from '@dlcv/core';
import { DEFAULT_DETECTOR, type DetectorConfig } from './config';

export const FAILURE_KINDS = ['discriminator-collapse', 'mode-collapse'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface FailureEvent {
  kind: FailureKind;
  step: number;
  /** True when the failure started at this step, false when it ended. */
  started: boolean;
  message: string;
}

/** What a checkpoint keeps of a detector: the loss window and the failures in progress. */
export const detectorStateSchema = z.object({
  lossD: z.array(z.number()),
  lossG: z.array(z.number()),
  active: z.array(z.enum(FAILURE_KINDS)),
});
export type DetectorState = z.infer<typeof detectorStateSchema>;

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/**
 * Mean Euclidean distance over all pairs i < j of `n` vectors of length `dim` stored row-major
 * in `values`. Plain JS in float64: exact enough, the same on every engine, and ~50 ms for a
 * batch of 128 faces.
 */
export function meanPairwiseDistance(values: ArrayLike<number>, n: number, dim: number): number {
  if (!Number.isInteger(n) || n < 2) throw new Error(`meanPairwiseDistance: need at least 2 vectors, got ${n}`);
  if (values.length !== n * dim) throw new Error(`meanPairwiseDistance: ${n} x ${dim} needs ${n * dim} values, got ${values.length}`);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      const a = i * dim,
        b = j * dim;
      for (let k = 0; k < dim; k++) {
        const d = (values[a + k] as number) - (values[b + k] as number);
        s += d * d;
      }
      total += Math.sqrt(s);
    }
  }
  return total / ((n * (n - 1)) / 2);
}

export class FailureDetector {
  private lossD: number[] = [];
  private lossG: number[] = [];
  private readonly active = new Set<FailureKind>();

  constructor(readonly config: DetectorConfig = DEFAULT_DETECTOR) {
    if (!Number.isInteger(config.window) || config.window < 1) throw new Error(`detector: window must be a positive integer, got ${config.window}`);
    if (!(config.diversityRatio >= 0)) throw new Error(`detector: diversityRatio must be >= 0, got ${config.diversityRatio}`);
  }

  /** Failures in progress (checkpoints are held back while any is). */
  get failing(): FailureKind[] {
    return [...this.active];
  }

  /** Feed every step's losses; returns an event when D collapse starts or ends. */
  observeLosses(step: number, lossD: number, lossG: number): FailureEvent | undefined {
    const { window, dLossFloor, gLossCeil } = this.config;
    this.lossD.push(lossD);
    this.lossG.push(lossG);
    if (this.lossD.length > window) {
      this.lossD.shift();
      this.lossG.shift();
    }
    if (this.lossD.length < window) return undefined;
    const mD = median(this.lossD),
      mG = median(this.lossG);
    const collapsed = mD < dLossFloor && mG > gLossCeil;
    const stats = `median D loss ${mD.toPrecision(3)}, G loss ${mG.toPrecision(3)} over the last ${window} steps`;
    return this.transition(
      'discriminator-collapse',
      collapsed,
      step,
      collapsed ? `discriminator collapse at step ${step}: ${stats} (D rejects every fake, G gets no gradient)` : `discriminator collapse over at step ${step}: ${stats}`,
    );
  }

  /**
   * Feed the mean pairwise distances of a generated batch and of a real batch (same scaling);
   * returns an event when mode collapse starts or ends.
   */
  observeDiversity(step: number, fakeDistance: number, realDistance: number): FailureEvent | undefined {
    if (step < this.config.warmupSteps || !(realDistance > 0)) return undefined;
    const ratio = fakeDistance / realDistance;
    const collapsed = ratio < this.config.diversityRatio;
    const stats = `generated samples are ${(ratio * 100).toFixed(1)}% as far apart as real ones (threshold ${(this.config.diversityRatio * 100).toFixed(0)}%)`;
    return this.transition('mode-collapse', collapsed, step, collapsed ? `mode collapse at step ${step}: ${stats}` : `mode collapse over at step ${step}: ${stats}`);
  }

  private transition(kind: FailureKind, now: boolean, step: number, message: string): FailureEvent | undefined {
    if (now === this.active.has(kind)) return undefined;
    if (now) this.active.add(kind);
    else this.active.delete(kind);
    return { kind, step, started: now, message };
  }

  getState(): DetectorState {
    return { lossD: [...this.lossD], lossG: [...this.lossG], active: [...this.active] };
  }

  setState(state: DetectorState): void {
    this.lossD = [...state.lossD];
    this.lossG = [...state.lossG];
    this.active.clear();
    for (const k of state.active) this.active.add(k);
  }
}
