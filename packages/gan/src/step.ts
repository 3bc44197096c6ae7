/**
 * One DCGAN training step, as the PyTorch DCGAN tutorial's loop makes it:
 *   (1) update D: maximise log D(x) + log(1 - D(G(z))), real and fake batches through D
 *       separately (each has its own BatchNorm statistics), G's output detached;
 *   (2) update G: maximise log D(G(z)) with the freshly updated D, same z.
 * BCE is computed from D's logits (sigmoid folded into the loss): the same function as
 * BCELoss on D's sigmoid output, without log(0) once D saturates.
 */
import * as tf from '@tensorflow/tfjs';
import { binaryCrossEntropyWithLogits, deferRunningStats, outsideTape } from '@dlcv/core';
import { discriminatorLogits } from './model';

export interface GanOptimizerConfig {
  /** Discriminator learning rate. */
  lrD: number;
  /** Generator learning rate. */
  lrG: number;
  /** Adam beta1: 0.5 in the DCGAN paper, the tutorial and the report. */
  beta1: number;
}

export interface Gan {
  g: tf.LayersModel;
  d: tf.LayersModel;
  optD: tf.Optimizer;
  optG: tf.Optimizer;
}

export function createOptimizers(config: GanOptimizerConfig): { optD: tf.Optimizer; optG: tf.Optimizer } {
  // beta2 0.999 and epsilon 1e-8: torch.optim.Adam's defaults (tfjs's epsilon default is 1e-7).
  return { optD: tf.train.adam(config.lrD, config.beta1, 0.999, 1e-8), optG: tf.train.adam(config.lrG, config.beta1, 0.999, 1e-8) };
}

export interface StepResult {
  /** errD = BCE(D(x), 1) + BCE(D(G(z)), 0), as the tutorial logs it. */
  lossD: number;
  /** errG = BCE(D(G(z)), 1) after the D update. */
  lossG: number;
  /** Mean D(x): near 1 when D wins. */
  dReal: number;
  /** Mean D(G(z)) before and after the D update (the tutorial's D(G(z)) "z1 / z2"). */
  dFake1: number;
  dFake2: number;
}

/**
 * Mean binary cross-entropy of logits against a constant target (0 or 1): core's op, TensorFlow's
 * formula max(x, 0) - x t + log(1 + exp(-|x|)), stable for any x; one kernel each way on the
 * native and libtorch engines.
 */
export function bceWithLogits(logits: tf.Tensor1D, target: 0 | 1): tf.Scalar {
  return binaryCrossEntropyWithLogits(logits, target);
}

function variables(model: tf.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

/**
 * One step on a real batch `real` [n, 64, 64, c] in [-1, 1] and noise `z` [n, 1, 1, nz].
 * `fakeOut`, when given, receives a copy of G(z) (the caller disposes it), e.g. for the
 * mode-collapse check. The caller keeps ownership of `real` and `z`.
 *
 * G runs forward once, as in the tutorial, where D's update takes `fake.detach()` and G's loss
 * the same `fake`: G's forward is recorded on G's gradient tape, and D's update runs inside G's
 * loss function off that tape (core's outsideTape), between the forward and the loss through
 * the updated D. G's running statistics move once, as PyTorch's single G forward moves them.
 */
export async function trainStep(gan: Gan, real: tf.Tensor4D, z: tf.Tensor4D, fakeOut?: (fake: tf.Tensor4D) => void): Promise<StepResult> {
  return readStepResult(queueTrainStep(gan, real, z, fakeOut));
}

/**
 * trainStep's work on the engine, without reading its results: [lossD, lossG, D(x), D(G(z)) before
 * and after D's update] as tensors (the caller reads and disposes them: readStepResult). It reads
 * nothing from the device, so the libtorch engine can replay it (core's replayableStep).
 */
export function queueTrainStep(gan: Gan, real: tf.Tensor4D, z: tf.Tensor4D, fakeOut?: (fake: tf.Tensor4D) => void): tf.Scalar[] {
  const { g, d, optD, optG } = gan;
  let lossD!: tf.Scalar, dReal!: tf.Scalar, dFake1!: tf.Scalar, dFake2!: tf.Scalar;
  let fakeCopy: tf.Tensor4D | undefined;
  // The BatchNorm layers' running statistics move after the step (G's, then D's from its three
  // forward passes, in that order), in three kernels instead of thirteen.
  const lossG = deferRunningStats(
    () =>
      optG.minimize(
        () => {
          const fake = g.apply(z, { training: true }) as tf.Tensor4D;
          outsideTape(() => {
            if (fakeOut) fakeCopy = tf.keep(fake.clone());
            // (1) discriminator, on the real batch and on G's output (a constant to D's tape)
            lossD = tf.keep(
              optD.minimize(
                () => {
                  const logitsReal = discriminatorLogits(d, real, true);
                  const logitsFake = discriminatorLogits(d, fake, true);
                  dReal = tf.keep(tf.mean(tf.sigmoid(logitsReal)) as tf.Scalar);
                  dFake1 = tf.keep(tf.mean(tf.sigmoid(logitsFake)) as tf.Scalar);
                  return tf.add(bceWithLogits(logitsReal, 1), bceWithLogits(logitsFake, 0)) as tf.Scalar;
                },
                true,
                variables(d),
              ) as tf.Scalar,
            );
          });
          // (2) generator, through the updated discriminator
          const logits = discriminatorLogits(d, fake, true);
          dFake2 = tf.keep(tf.mean(tf.sigmoid(logits)) as tf.Scalar);
          return bceWithLogits(logits, 1);
        },
        true,
        variables(g),
      ) as tf.Scalar,
  );

  if (fakeCopy) fakeOut!(fakeCopy);
  return [lossD, lossG, dReal, dFake1, dFake2];
}

/** The results of queueTrainStep's tensors, read off the main thread; disposes them. */
export async function readStepResult(scalars: tf.Scalar[]): Promise<StepResult> {
  const values = await Promise.all(scalars.map(async (s) => (await s.data())[0] as number));
  tf.dispose(scalars);
  const [vLossD, vLossG, vReal, vFake1, vFake2] = values as [number, number, number, number, number];
  return { lossD: vLossD, lossG: vLossG, dReal: vReal, dFake1: vFake1, dFake2: vFake2 };
}
