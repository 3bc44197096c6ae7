/**
 * Drops the class for the samples whose mask is 1: out = c * (1 - mask). Classifier-free
 * guidance trains one network for both the conditional and the unconditional model this way
 * (Ho & Salimans 2022). The reference multiplies by -(1 - mask), flipping the sign of kept
 * one-hots; the first Linear of the class embedding absorbs that sign, so both are the same model.
 */
import * as tf from '@tensorflow/tfjs';
import { inputsOf, outputShapeOf, registerOnnxConverter, type Val } from '@dlcv/core';

export interface ContextMaskArgs {
  name?: string;
}

export class ContextMask extends tf.layers.Layer {
  static className = 'ContextMask';

  constructor(args: ContextMaskArgs = {}) {
    super({ name: args.name });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shapes = inputShape as tf.Shape[];
    if (shapes.length !== 2) throw new Error(`ContextMask ${this.name}: expects [classes, mask], got ${shapes.length} inputs`);
    return shapes[0] as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [c, mask] = inputs as tf.Tensor[];
      return (c as tf.Tensor2D).mul(tf.sub(1, mask as tf.Tensor2D));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig() };
  }
}
tf.serialization.registerClass(ContextMask);

registerOnnxConverter(ContextMask.className, (args) => {
  const { g, layer } = args;
  const [c, mask] = inputsOf(args, 2) as [Val, Val];
  const keep = g.op('Sub', [g.scalar(1), mask.name]);
  return [{ name: g.op('Mul', [c.name, keep], {}, layer.name), shape: outputShapeOf(args), nchw: c.nchw }];
});
