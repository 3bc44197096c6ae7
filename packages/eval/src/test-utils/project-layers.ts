/**
 * Test doubles of the ddpm package's custom layers (same class names and documented maths,
 * written here from those descriptions), so the ONNX converters can be checked against tfjs
 * without eval depending on ddpm. Core's layers (BatchNorm2d, Gelu) are used as they are.
 */
import * as tf from '@tensorflow/tfjs';

export class GroupNorm extends tf.layers.Layer {
  static className = 'GroupNorm';
  readonly groups: number;
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;

  constructor(args: { groups: number; epsilon?: number; name?: string }) {
    super({ name: args.name });
    this.groups = args.groups;
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const c = (inputShape as tf.Shape)[(inputShape as tf.Shape).length - 1] as number;
    this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [b, h, w, c] = x.shape;
      const grouped = x.reshape([b, h, w, this.groups, c / this.groups]);
      const { mean, variance } = tf.moments(grouped, [1, 2, 4], true);
      const normed = grouped.sub(mean).mul(tf.rsqrt(variance.add(this.epsilon))).reshape([b, h, w, c]);
      return normed.mul(this.gamma.read()).add(this.beta.read());
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(GroupNorm);

export class ContextMask extends tf.layers.Layer {
  static className = 'ContextMask';
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    return (s as tf.Shape[])[0] as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [c, mask] = inputs as tf.Tensor[];
    return tf.tidy(() => (c as tf.Tensor).mul(tf.sub(1, mask as tf.Tensor)));
  }
}
tf.serialization.registerClass(ContextMask);

export class Film extends tf.layers.Layer {
  static className = 'Film';
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    return (s as tf.Shape[])[0] as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [h, scale, shift] = inputs as tf.Tensor[];
    return tf.tidy(() => {
      const [b, c] = (scale as tf.Tensor2D).shape;
      return (h as tf.Tensor).mul((scale as tf.Tensor).reshape([b, 1, 1, c])).add((shift as tf.Tensor).reshape([b, 1, 1, c]));
    });
  }
}
tf.serialization.registerClass(Film);

export class ScaledAdd extends tf.layers.Layer {
  static className = 'ScaledAdd';
  readonly scale: number;
  constructor(args: { scale: number; name?: string }) {
    super({ name: args.name });
    this.scale = args.scale;
  }
  override computeOutputShape(s: tf.Shape | tf.Shape[]): tf.Shape {
    return (s as tf.Shape[])[0] as tf.Shape;
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [a, b] = inputs as tf.Tensor[];
    return tf.tidy(() => tf.add(a as tf.Tensor, b as tf.Tensor).mul(this.scale));
  }
  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), scale: this.scale };
  }
}
tf.serialization.registerClass(ScaledAdd);
