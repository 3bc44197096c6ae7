/**
 * The sampler (sampler.ts) with the U-Net run by tfjs, or by anything else that predicts noise
 * (ONNX Runtime: onnx-net.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { guidedSamplingForward } from './guided-forward';
import type { UnetConfig } from './model';
import { sampleOnDevice } from './device-sampler';
import { DiffusionSampler, type GuidedForward, type ImageNoiser, type NoiseNet, type SampleRequest } from './sampler';
import type { Scheduler } from './schedulers';

export {
  imageNoiseRng,
  imageNoiseStream,
  BatchNoise,
  DiffusionSampler,
  GUIDED_FORWARDS,
  type GuidedForward,
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

/**
 * The U-Net through tfjs, in inference mode, on the active engine. With `guidedForward` 'shared'
 * a guided batch's x goes up once per image and through guidedSamplingForward.
 */
export function tfjsNoiseNet(model: tf.LayersModel, unet: UnetConfig, guidedForward: GuidedForward = 'full'): NoiseNet {
  return {
    async predict(x, cond, guided = false) {
      const n = cond.t.length;
      const { imageSize: s, inChannels: ch, nClasses } = unet;
      const shared = guided && guidedForward === 'shared';
      if (shared && (n % 2 !== 0 || x.length !== n * s * s * ch))
        throw new Error(`guided prediction: ${n} rows and ${x.length} values of x (need an even number of rows, each image twice)`);
      const rows = shared ? n / 2 : n;
      const out = tf.tidy(() => {
        const inputs = {
          x: tf.tensor4d(x.subarray(0, rows * s * s * ch), [rows, s, s, ch]),
          t: tf.tensor2d(cond.t, [n, 1]),
          c: tf.tensor2d(cond.c, [n, nClasses]),
          mask: tf.tensor2d(cond.mask, [n, 1]),
        };
        return shared ? guidedSamplingForward(model, unet, inputs) : (model.apply([inputs.x, inputs.t, inputs.c, inputs.mask], { training: false }) as tf.Tensor);
      });
      const eps = (await out.data()) as Float32Array;
      out.dispose();
      return eps;
    },
  };
}

export class DiffusionPipeline extends DiffusionSampler {
  /** The tfjs U-Net, when the pipeline runs one (not for an ONNX Runtime NoiseNet). */
  readonly model: tf.LayersModel | null;

  /**
   * `guidedForward`: how the tfjs U-Net takes a guided batch (see GuidedForward); an ONNX
   * Runtime NoiseNet runs its export's rows in full.
   */
  constructor(
    model: tf.LayersModel | NoiseNet,
    scheduler: Scheduler,
    unet: UnetConfig,
    readonly guidedForward: GuidedForward = 'full',
  ) {
    super(model instanceof tf.LayersModel ? tfjsNoiseNet(model, unet, guidedForward) : model, scheduler, unet);
    this.model = model instanceof tf.LayersModel ? model : null;
  }

  /** sample() with x on the engine's device (device-sampler.ts): the tfjs U-Net only. */
  sampleOnDevice(req: SampleRequest, noise?: ImageNoiser): Promise<Float32Array> {
    if (!this.model) throw new Error('sampling on the device needs the tfjs U-Net (not --runtime onnx)');
    return sampleOnDevice(this, this.model, req, noise, this.guidedForward);
  }
}
