/**
 * Exact (erf) GELU as a layer, torch.nn.GELU(). Same numbers as
 * tf.layers.activation({ activation: 'gelu' }), but through core's gelu op: one native kernel
 * forward and one backward on the native engine, where tfjs's activation is seven
 * elementwise ops each way.
 */
import * as tf from '@tensorflow/tfjs';
import { gelu } from '../engine/native';

export class Gelu extends tf.layers.Layer {
  static className = 'DlcvGelu';

  constructor(args: { name?: string } = {}) {
    super({ name: args.name });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return gelu((Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor);
  }
}
tf.serialization.registerClass(Gelu);
