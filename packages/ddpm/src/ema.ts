/**
 * Exponential moving average of a model's trainable weights, used for sampling (it smooths the
 * last steps' noise out of the weights). Warm-up as diffusers' EMAModel: the decay at update k
 * is min(decay, (1 + k) / (10 + k)), so a short run is not dominated by its initial weights.
 * BatchNorm running statistics are not averaged: they are already averages, and are copied.
 */
import { runningAverages } from '@dlcv/core';
import * as tf from '@tensorflow/tfjs';

export class Ema {
  /** Shadow copies of the trainable weights, in model.trainableWeights order (a checkpointable holder). */
  readonly shadow: tf.Variable[];

  constructor(
    private readonly model: tf.LayersModel,
    readonly decay: number,
  ) {
    if (!(decay >= 0 && decay < 1)) throw new Error(`ema: decay must be in [0, 1), got ${decay}`);
    // tf.variable shares the tensor's data until either side is assigned, which both do by replacement.
    this.shadow = model.trainableWeights.map((w) => tf.variable(w.read(), false));
  }

  /** The decay used at update number `k` (0-based). */
  decayAt(k: number): number {
    return Math.min(this.decay, (1 + k) / (10 + k));
  }

  update(k: number): void {
    const d = this.decayAt(k);
    tf.tidy(() => {
      // core's running averages: every weight in one kernel where the engine has it (ATen foreach
      // ops on libtorch), the float32 ops of a running average each
      const averaged = runningAverages(
        this.shadow,
        this.model.trainableWeights.map((w) => w.read()),
        d,
        1 - d,
      );
      averaged.forEach((a, i) => (this.shadow[i] as tf.Variable).assign(a));
    });
  }

  /** Writes the averaged weights (and the model's current non-trainable weights) into `target`, a model of the same architecture. */
  copyTo(target: tf.LayersModel): void {
    const trainable = new Map(this.model.trainableWeights.map((w, i) => [w, this.shadow[i] as tf.Variable]));
    const values = this.model.weights.map((w) => trainable.get(w) ?? w.read());
    if (target.weights.length !== values.length) throw new Error(`ema: target model has ${target.weights.length} weights, source ${values.length}`);
    target.setWeights(values);
  }

  dispose(): void {
    tf.dispose(this.shadow);
  }
}
