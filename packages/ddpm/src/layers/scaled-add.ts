/**
 * (a + b) * scale: the residual sum of the reference's ResidualConvBlock, which divides by
 * 1.414 (not exactly sqrt 2) to keep the variance of the sum near that of its inputs.
 */
import * as tf from '@tensorflow/tfjs';
import { asNchw, inputsOf, outputShapeOf, registerOnnxConverter, type Val } from '@dlcv/core';

export interface ScaledAddArgs {
  /** Multiplies the sum; the reference's 1 / 1.414. */
  scale: number;
  name?: string;
}

export class ScaledAdd extends tf.layers.Layer {
  static className = 'ScaledAdd';
  readonly scale: number;

  constructor(args: ScaledAddArgs) {
    super({ name: args.name });
    if (!Number.isFinite(args.scale)) throw new Error(`ScaledAdd: scale must be finite, got ${args.scale}`);
    this.scale = args.scale;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shapes = inputShape as tf.Shape[];
    const [a, b] = shapes;
    if (shapes.length !== 2 || !a || !b || a.join() !== b.join()) throw new Error(`ScaledAdd ${this.name}: needs two inputs of one shape, got ${JSON.stringify(shapes)}`);
    return a;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [a, b] = inputs as tf.Tensor[];
      return tf.add(a as tf.Tensor, b as tf.Tensor).mul(this.scale);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(ScaledAdd);

registerOnnxConverter(ScaledAdd.className, (args) => {
  const { g, layer } = args;
  const [a0, b0] = inputsOf(args, 2) as [Val, Val];
  const a = asNchw(g, a0),
    b = asNchw(g, b0);
  const y = g.op('Mul', [g.op('Add', [a.name, b.name]), g.scalar((layer as ScaledAdd).scale)], {}, layer.name);
  return [{ name: y, shape: outputShapeOf(args), nchw: a.nchw }];
});
