// The stock Sum and Mean gradients, rewritten without their host arrays: tfjs's own multiply the
// reshaped dy by `ones(x.shape)`, an array of x's size filled with ones on the host (2.4 MB for
// the DDPM loss at batch 256) that the backend then takes in or scans. Here dy is broadcast to
// x's shape by a Tile kernel instead. dy * 1 is dy in float32, so the values are the same, and
// Mean still divides the full-size tensor, as the stock gradient does.
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap } from '@tensorflow/tfjs';

type Wrapped = GradConfig & { __dlcvBroadcast?: boolean };

const reducedAxes = (x: tf.Tensor, attrs: NamedAttrMap) => tf.util.parseAxisParam(attrs.axis as number | number[], x.shape);

/** dy, reduced over attrs.axis of x, brought back to x's shape. */
function broadcastBack(dy: tf.Tensor, x: tf.Tensor, attrs: NamedAttrMap): tf.Tensor {
  const axes = reducedAxes(x, attrs);
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  return tf.broadcastTo(tf.reshape(dy, kept), x.shape);
}

function wrap(kernelName: string, gradient: (dy: tf.Tensor, x: tf.Tensor, attrs: NamedAttrMap) => tf.Tensor): void {
  const orig = tf.getGradient(kernelName) as Wrapped | undefined;
  if (!orig || orig.__dlcvBroadcast) return;
  const cfg: Wrapped = {
    kernelName,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const x = saved[0]!;
      return { x: () => gradient(dy as tf.Tensor, x, attrs) };
    },
  };
  cfg.__dlcvBroadcast = true;
  tf.registerGradient(cfg);
}

/** Replaces the stock Sum and Mean gradients (once per tfjs instance). */
export function wrapReductionGradients(): void {
  wrap(tf.Sum, (dy, x, attrs) => broadcastBack(dy, x, attrs));
  wrap(tf.Mean, (dy, x, attrs) => {
    const reducedSize = reducedAxes(x, attrs).reduce((n, axis) => n * x.shape[axis]!, 1);
    return tf.div(broadcastBack(dy, x, attrs), reducedSize);
  });
}
