/**
 * The reference's way of conditioning a feature map on class and time: out = scale * h + shift,
 * with scale (the class embedding) and shift (the time embedding) one value per channel,
 * broadcast over height and width. Inputs: [h [B,H,W,C], scale [B,C], shift [B,C]].
 */
import * as tf from '@tensorflow/tfjs';
import { asNchw, inputsOf, outputShapeOf, registerOnnxConverter, type Val } from '@dlcv/core';

export interface FilmArgs {
  name?: string;
}

export class Film extends tf.layers.Layer {
  static className = 'Film';

  constructor(args: FilmArgs = {}) {
    super({ name: args.name });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    const shapes = inputShape as tf.Shape[];
    const [h, scale, shift] = shapes;
    if (shapes.length !== 3 || !h || !scale || !shift) throw new Error(`Film ${this.name}: expects [h, scale, shift]`);
    const c = h[h.length - 1];
    if (scale[scale.length - 1] !== c || shift[shift.length - 1] !== c) {
      throw new Error(`Film ${this.name}: h has ${String(c)} channels but scale/shift have ${String(scale[scale.length - 1])}/${String(shift[shift.length - 1])}`);
    }
    return h;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const [h, scale, shift] = inputs as tf.Tensor[];
      const c = (scale as tf.Tensor2D).shape[1];
      const b = (scale as tf.Tensor2D).shape[0];
      return (h as tf.Tensor4D).mul((scale as tf.Tensor2D).reshape([b, 1, 1, c])).add((shift as tf.Tensor2D).reshape([b, 1, 1, c]));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig() };
  }
}
tf.serialization.registerClass(Film);

registerOnnxConverter(Film.className, (args) => {
  const { g, layer } = args;
  const [h0, scale, shift] = inputsOf(args, 3) as [Val, Val, Val];
  const h = asNchw(g, h0);
  // [B, C] -> [B, C, 1, 1]: broadcast over H and W of the NCHW feature map.
  const asMap = (v: Val) => g.op('Unsqueeze', [v.name, g.int64('axes', [2, 3])]);
  const y = g.op('Add', [g.op('Mul', [h.name, asMap(scale)]), asMap(shift)], {}, layer.name);
  return [{ name: y, shape: outputShapeOf(args), nchw: h.nchw }];
});
