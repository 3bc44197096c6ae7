/**
 * Exact (erf) GELU as a layer, torch.nn.GELU(). Same numbers as
 * tf.layers.activation({ activation: 'gelu' }), but through core's gelu op: one native kernel
 * forward and one backward on the native engine, where tfjs's activation is seven
 * elementwise ops each way. Exported to ONNX as tfjs's 'gelu' activation is.
 */
import * as tf from '@tensorflow/tfjs';
import { gelu } from '../engine/native';
import { applyActivation } from '../onnx/activations';
import { inputsOf, outputShapeOf, registerOnnxConverter } from '../onnx/layers';
import type { Val } from '../onnx/values';

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

registerOnnxConverter(Gelu.className, (args) => {
  const [x] = inputsOf(args, 1) as [Val];
  return [{ ...applyActivation(args.g, 'gelu', x, args.layer.name), shape: outputShapeOf(args) }];
});
