/**
 * The sampler (sampler.ts) with the U-Net run by tfjs, or by anything else that predicts noise
 * (ONNX Runtime: onnx-net.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { UnetConfig } from './model';
import { DiffusionSampler, type NoiseNet } from './sampler';
import type { Scheduler } from './schedulers';

export {
  imageNoiseRng,
  imageNoiseStream,
  BatchNoise,
  DiffusionSampler,
  inlineImageSteps,
  type SampleRequest,
  type NoiseNet,
  type ImageBatch,
  type ImageSteps,
  type ImageStepper,
} from './sampler';
export { StepWorkerPool } from './step-workers';

/** The U-Net through tfjs, in inference mode, on the active engine. */
export function tfjsNoiseNet(model: tf.LayersModel, unet: UnetConfig): NoiseNet {
  return {
    async predict(x, cond) {
      const n = cond.t.length;
      const { imageSize: s, inChannels: ch, nClasses } = unet;
      const out = tf.tidy(
        () =>
          model.apply([tf.tensor4d(x, [n, s, s, ch]), tf.tensor2d(cond.t, [n, 1]), tf.tensor2d(cond.c, [n, nClasses]), tf.tensor2d(cond.mask, [n, 1])], {
            training: false,
          }) as tf.Tensor,
      );
      const eps = (await out.data()) as Float32Array;
      out.dispose();
      return eps;
    },
  };
}

export class DiffusionPipeline extends DiffusionSampler {
  constructor(model: tf.LayersModel | NoiseNet, scheduler: Scheduler, unet: UnetConfig) {
    super(model instanceof tf.LayersModel ? tfjsNoiseNet(model, unet) : model, scheduler, unet);
  }
}
