/**
 * GroupNorm (Wu & He 2018) as torch.nn.GroupNorm computes it, for NHWC tensors: channels are
 * split into `groups` groups, each normalised over (H, W, channels of the group) with the
 * biased variance, then scaled and shifted per channel. tfjs-layers 4.22 has no GroupNorm; core's
 * groupNorm op is one fused native kernel each way on the native engine. Exported to ONNX by
 * core's group-normalisation converter (config groups and epsilon, weights gamma and beta).
 */
import * as tf from '@tensorflow/tfjs';
import { groupNorm, groupNormConverter, registerOnnxConverter } from '@dlcv/core';

export interface GroupNormArgs {
  /** Number of groups; must divide the channel count (the reference uses 8). */
  groups: number;
  /** Added to the variance; PyTorch's default 1e-5. */
  epsilon?: number;
  name?: string;
}

export class GroupNorm extends tf.layers.Layer {
  static className = 'GroupNorm';
  readonly groups: number;
  readonly epsilon: number;
  private gamma: tf.LayerVariable | undefined;
  private beta: tf.LayerVariable | undefined;

  constructor(args: GroupNormArgs) {
    super({ name: args.name });
    if (!Number.isInteger(args.groups) || args.groups < 1) throw new Error(`GroupNorm: groups must be a positive integer, got ${args.groups}`);
    this.groups = args.groups;
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as tf.Shape;
    const channels = shape[shape.length - 1];
    if (typeof channels !== 'number' || channels % this.groups !== 0) {
      throw new Error(`GroupNorm ${this.name}: ${String(channels)} channels cannot be split into ${this.groups} groups`);
    }
    this.gamma = this.addWeight('gamma', [channels], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [channels], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
    return groupNorm(x, (this.gamma as tf.LayerVariable).read() as tf.Tensor1D, (this.beta as tf.LayerVariable).read() as tf.Tensor1D, this.groups, this.epsilon);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(GroupNorm);
registerOnnxConverter(GroupNorm.className, groupNormConverter);
