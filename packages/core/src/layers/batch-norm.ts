/**
 * BatchNorm2d with PyTorch's semantics, which the report's models print (DCGAN, the DDPM U-Net,
 * DANN) and the DCGAN tutorial trains with. tfjs's own BatchNormalization differs in three ways that matter once the
 * generator runs in eval mode (as `generate` does): its running variance is the biased batch
 * variance (PyTorch keeps the unbiased one), its `momentum` is the weight of the old value
 * (PyTorch's is the weight of the new), and it cannot be told to leave the running statistics
 * alone (updateRunningStats, e.g. for a second forward pass of the same batch).
 * In training mode it is one fused native kernel forward and backward on the native engine.
 * Exported to ONNX as BatchNormalization with the running statistics (eval mode).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain, runningAverages } from '../engine/native';
import { inputsOf, outputShapeOf, registerOnnxConverter, requireWeight } from '../onnx/layers';
import { asNchw, type Val } from '../onnx/values';

export interface BatchNorm2dArgs {
  /** Channels (the last axis of NHWC input). */
  numFeatures: number;
  /** Added to the variance before the square root. PyTorch default 1e-5. */
  eps?: number;
  /** Weight of the new batch statistic in the running average (PyTorch convention). Default 0.1. */
  momentum?: number;
  name?: string;
  inputShape?: number[];
}

export class BatchNorm2d extends tf.layers.Layer {
  static className = 'DlcvBatchNorm2d';
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number;
  /**
   * When false, a training-mode call normalises with the batch statistics but leaves the running
   * ones untouched (a repeated forward pass of the same batch should not count twice).
   */
  updateRunningStats = true;
  /** Batches averaged so far in cumulative mode (see startCumulativeAverage), else undefined. */
  private cumulativeCount: number | undefined;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  private runningMean!: tf.LayerVariable;
  private runningVar!: tf.LayerVariable;

  constructor(args: BatchNorm2dArgs) {
    super({ name: args.name, inputShape: args.inputShape });
    if (!Number.isInteger(args.numFeatures) || args.numFeatures < 1) throw new Error(`BatchNorm2d: numFeatures must be a positive integer, got ${args.numFeatures}`);
    this.numFeatures = args.numFeatures;
    this.eps = args.eps ?? 1e-5;
    this.momentum = args.momentum ?? 0.1;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = shape[shape.length - 1];
    if (channels !== this.numFeatures) throw new Error(`BatchNorm2d ${this.name}: built for ${this.numFeatures} channels, input has ${String(channels)}`);
    const c = [this.numFeatures];
    // Weight order gamma, beta, running mean, running var: PyTorch's state_dict order.
    this.gamma = this.addWeight('gamma', c, 'float32', tf.initializers.ones(), undefined, true);
    this.beta = this.addWeight('beta', c, 'float32', tf.initializers.zeros(), undefined, true);
    this.runningMean = this.addWeight('running_mean', c, 'float32', tf.initializers.zeros(), undefined, false);
    this.runningVar = this.addWeight('running_var', c, 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const gamma = this.gamma.read() as tf.Tensor1D;
      const beta = this.beta.read() as tf.Tensor1D;
      if (!kwargs.training) return tf.batchNorm(x, this.runningMean.read() as tf.Tensor1D, this.runningVar.read() as tf.Tensor1D, beta, gamma, this.eps);
      // core's training-mode batch norm: one fused kernel (forward and backward) on the native
      // engine, tf.moments + tf.batchNorm elsewhere; normalises with the biased batch variance.
      const { y, mean, variance } = batchNormTrain(x, gamma, beta, this.eps);
      // Writing a variable is not recorded on the gradient tape: no gradient flows into the stats.
      if (this.updateRunningStats) {
        const n = x.size / this.numFeatures;
        // Cumulative mode weighs every batch equally (PyTorch's momentum=None) with 1 / count.
        const m = this.cumulativeCount !== undefined ? 1 / ++this.cumulativeCount : this.momentum;
        // Running variance: unbiased (n / (n - 1)), as torch.nn.BatchNorm2d keeps it; the mean's
        // scale 1 multiplies exactly. Both in one kernel where the engine has it.
        const [runningMean, runningVar] = runningAverages([this.runningMean.read(), this.runningVar.read()], [mean, variance], 1 - m, m, [1, n > 1 ? n / (n - 1) : 1]);
        this.runningMean.write(runningMean!);
        this.runningVar.write(runningVar!);
      }
      return y;
    });
  }

  /**
   * From now on, training-mode calls set the running statistics to the plain average over the
   * batches seen since this call, instead of the exponential average.
   */
  startCumulativeAverage(): void {
    this.cumulativeCount = 0;
  }

  /** Back to the exponential average with `momentum`. */
  stopCumulativeAverage(): void {
    this.cumulativeCount = undefined;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), numFeatures: this.numFeatures, eps: this.eps, momentum: this.momentum };
  }
}
tf.serialization.registerClass(BatchNorm2d);

registerOnnxConverter(BatchNorm2d.className, (args) => {
  const { g, layer } = args;
  const [x0] = inputsOf(args, 1) as [Val];
  const x = asNchw(g, x0);
  const w = (suffix: string) => requireWeight(args, suffix).values;
  const c = w('gamma').length;
  const inputs = [
    x.name,
    g.float(`${layer.name}.gamma`, w('gamma'), [c]),
    g.float(`${layer.name}.beta`, w('beta'), [c]),
    g.float(`${layer.name}.running_mean`, w('running_mean'), [c]),
    g.float(`${layer.name}.running_var`, w('running_var'), [c]),
  ];
  const epsilon = (layer as BatchNorm2d).eps;
  return [{ name: g.op('BatchNormalization', inputs, { epsilon: { float: epsilon } }, layer.name), shape: outputShapeOf(args), nchw: x.nchw }];
});
