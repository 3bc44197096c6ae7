import type * as tf from '@tensorflow/tfjs';

export interface ParamCount {
  /** Learned parameters: what PyTorch's sum(p.numel() for p in model.parameters()) counts. */
  trainable: number;
  /** Non-trainable weights, such as batch norm's running mean and variance (PyTorch buffers). */
  nonTrainable: number;
}

const sizeOf = (ws: readonly { shape: readonly (number | null)[] }[]) => ws.reduce((s, w) => s + w.shape.reduce<number>((a, b) => a * (b ?? 1), 1), 0);

export function countParams(model: tf.LayersModel): ParamCount {
  return { trainable: sizeOf(model.trainableWeights), nonTrainable: sizeOf(model.nonTrainableWeights) };
}
