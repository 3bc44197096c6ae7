/**
 * PyTorch's default initialisation, drawn from the project's RNG so that a seed fixes every
 * weight on every engine: Conv2d, ConvTranspose2d and Linear weights and biases
 * ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (kaiming_uniform with a = sqrt 5 works out to that bound).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng';

/** PyTorch's bound for a layer with this fan-in. */
export function torchDefaultBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}

/** Values of one tensor of that layer, drawn from `rng`. */
export function torchDefaultValues(rng: Rng, size: number, fanIn: number): Float32Array {
  const bound = torchDefaultBound(fanIn);
  return rng.uniformArray(size, -bound, bound);
}

const TORCH_INIT_LAYERS = new Set(['Conv2D', 'Conv2DTranspose', 'Dense']);

/**
 * Re-draws the kernel and bias of every Conv2D, Conv2DTranspose and Dense layer of `model`, in
 * layer order, kernel then bias. The fan-in is the product of every kernel axis but the last:
 * tfjs kernels are Conv2D [kh, kw, in, out], Conv2DTranspose [kh, kw, out, in] and Dense
 * [in, out], which gives PyTorch's fan-in in each case (for a ConvTranspose2d PyTorch takes it
 * from weight.size(1), the out channels). Other layers (norms, activations) keep their weights.
 */
export function initTorchDefault(model: tf.LayersModel, rng: Rng): void {
  for (const layer of model.layers) {
    if (!TORCH_INIT_LAYERS.has(layer.getClassName())) continue;
    const [kernel, bias] = layer.getWeights();
    if (!kernel) continue;
    const fanIn = kernel.shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const fresh = [tf.tensor(torchDefaultValues(rng, kernel.size, fanIn), kernel.shape)];
    if (bias) fresh.push(tf.tensor(torchDefaultValues(rng, bias.size, fanIn), bias.shape));
    layer.setWeights(fresh);
    tf.dispose(fresh);
  }
}
