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

/** A running statistic's storage: a LayerVariable, or a holder of a tf.Variable. */
export interface RunningStat {
  read(): tf.Tensor;
  write(value: tf.Tensor): void;
}

/** One training-mode call's step of a batch-norm layer's running statistics. */
export interface RunningStatsUpdate {
  /** The layer: its updates run one after another, never two in one kernel. */
  layer: object;
  runningMean: RunningStat;
  runningVar: RunningStat;
  mean: tf.Tensor;
  variance: tf.Tensor;
  /** The weight of the batch's statistics. */
  momentum: number;
  /** The values per channel the batch statistics came from. */
  count: number;
}

/** The updates that training-mode calls inside deferRunningStats have queued, else null. */
let deferred: RunningStatsUpdate[] | null = null;
/** Off: deferRunningStats runs its function with each update applied at its call (for pairings). */
let deferralOn = true;

/** Turns the queueing of deferRunningStats on (the default) or off (each update at its call). */
export function setRunningStatsDeferral(on: boolean): void {
  deferralOn = on;
}

/**
 * running = (1 - m) running + m batch for each update, in order (the variance unbiased by
 * n / (n - 1), as torch.nn.BatchNorm2d keeps it; the mean's scale 1 multiplies exactly), as
 * few runningAverages kernels as can run them: a kernel per round of updates in which no layer
 * comes twice and all share a momentum, so each layer's updates run one after the other. The same
 * float32 ops, so the same bits, as one kernel per update.
 */
export function applyRunningStats(updates: readonly RunningStatsUpdate[]): void {
  const rounds: RunningStatsUpdate[][] = [];
  let round: RunningStatsUpdate[] = [];
  for (const u of updates) {
    if (round.length > 0 && (round[0]!.momentum !== u.momentum || round.some((r) => r.layer === u.layer))) {
      rounds.push(round);
      round = [];
    }
    round.push(u);
  }
  if (round.length > 0) rounds.push(round);
  for (const r of rounds) {
    tf.tidy(() => {
      const m = r[0]!.momentum;
      const runnings = r.flatMap(({ runningMean, runningVar }) => [runningMean.read(), runningVar.read()]);
      const values = r.flatMap(({ mean, variance }) => [mean, variance]);
      const averaged = runningAverages(
        runnings,
        values,
        1 - m,
        m,
        r.flatMap(({ count }) => [1, count > 1 ? count / (count - 1) : 1]),
      );
      r.forEach(({ runningMean, runningVar }, i) => {
        runningMean.write(averaged[2 * i]!);
        runningVar.write(averaged[2 * i + 1]!);
      });
    });
  }
}

/**
 * Runs `fn` (synchronous: a training step) with the running-statistics updates of its
 * BatchNorm2d training-mode calls queued, then applies them in order in as few kernels as they
 * allow (a DCGAN step's 13 in 3, a U-Net step's 14 in 1) instead of one kernel each: the same
 * values, since training-mode calls do not read the running statistics. Nothing is applied when
 * `fn` throws. Inside another deferRunningStats, the outer one applies them.
 */
export function deferRunningStats<T>(fn: () => T): T {
  if (deferred || !deferralOn) return fn();
  const queued: RunningStatsUpdate[] = [];
  deferred = queued;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    tf.dispose(queued.flatMap(({ mean, variance }) => [mean, variance]));
    throw e;
  } finally {
    deferred = null;
  }
  try {
    applyRunningStats(queued);
  } finally {
    tf.dispose(queued.flatMap(({ mean, variance }) => [mean, variance]));
  }
  return result;
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
        // Queued inside deferRunningStats (the tensors kept until it applies them), else applied now.
        const update: RunningStatsUpdate = { layer: this, runningMean: this.runningMean, runningVar: this.runningVar, mean, variance, momentum: m, count: n };
        if (deferred) deferred.push({ ...update, mean: tf.keep(mean), variance: tf.keep(variance) });
        else applyRunningStats([update]);
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
