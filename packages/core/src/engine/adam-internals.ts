// What the engines' fused Adam steps (native/adam.ts, torch/adam.ts) read and write of a
// tf.AdamOptimizer: its private fields in tfjs's own layout, so getWeights/setWeights and
// checkpoints see the same state whichever implementation ran the step.
import * as tf from '@tensorflow/tfjs';

export type VarGrads = tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[];

export interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  /** Steps taken (accBeta1/2 are beta1/2 to the power iterations + 1). */
  readonly iterations: number;
  incrementIterations(): void;
}

/** Variable names and their gradients (null where a variable got none), in tfjs's order. */
export function namedGradients(variableGradients: VarGrads): { names: string[]; grads: (tf.Tensor | undefined)[] } {
  const isArray = Array.isArray(variableGradients);
  const names = isArray ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
  const grads = names.map((name, i) => (isArray ? variableGradients[i]!.tensor : (variableGradients as tf.NamedTensorMap)[name]));
  return { names, grads };
}

/** The optimizer's moment variables for variable i, made (zeros, as tfjs makes them) on first use. */
export function adamMoments(opt: AdamInternals, i: number, name: string, value: tf.Variable): [tf.Variable, tf.Variable] {
  const zeros = () => tf.tidy(() => tf.zerosLike(value).variable(false));
  opt.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: zeros() };
  opt.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: zeros() };
  return [opt.accumulatedFirstMoment[i]!.variable, opt.accumulatedSecondMoment[i]!.variable];
}

/**
 * Replaces AdamOptimizer.prototype.applyGradients with `step`, which returns false to leave the
 * whole step to the original (another backend active, a tensor not float32).
 */
export function patchAdamApply(step: (opt: AdamInternals, variableGradients: VarGrads) => boolean): void {
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients(g: VarGrads): void };
  const original = proto.applyGradients;
  proto.applyGradients = function (this: AdamInternals, variableGradients: VarGrads) {
    if (!step(this, variableGradients)) original.call(this, variableGradients);
  };
}
