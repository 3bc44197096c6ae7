/**
 * The sampler (sampler.ts) with the U-Net run by tfjs, or by anything else that predicts noise
 * (ONNX Runtime: onnx-net.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { UnetConfig } from './model';
import { sampleOnDevice } from './device-sampler';
import { DiffusionSampler, type ImageNoiser, type NoiseNet, type SampleRequest } from './sampler';
import type { Scheduler } from './schedulers';

export {
  imageNoiseRng,
  imageNoiseStream,
  BatchNoise,
  DiffusionSampler,
  inlineImageSteps,
  inlineImageNoise,
  type SampleRequest,
  type NoiseNet,
  type ImageBatch,
  type ImageSteps,
  type ImageStepper,
  type ImageNoise,
  type ImageNoiser,
} from './sampler';
export { guideTensor, updateTensor } from './device-sampler';
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
  /** The tfjs U-Net, when the pipeline runs one (not for an ONNX Runtime NoiseNet). */
  readonly model: tf.LayersModel | null;

  constructor(model: tf.LayersModel | NoiseNet, scheduler: Scheduler, unet: UnetConfig) {
    super(model instanceof tf.LayersModel ? tfjsNoiseNet(model, unet) : model, scheduler, unet);
    this.model = model instanceof tf.LayersModel ? model : null;
  }

  /** sample() with x on the engine's device (device-sampler.ts): the tfjs U-Net only. */
  sampleOnDevice(req: SampleRequest, noise?: ImageNoiser): Promise<Float32Array> {
    if (!this.model) throw new Error('sampling on the device needs the tfjs U-Net (not --runtime onnx)');
    return sampleOnDevice(this, this.model, req, noise);
  }
}
