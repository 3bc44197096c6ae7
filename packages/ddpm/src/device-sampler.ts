/**
 * Sampling with x kept on the engine's device (a GPU): the U-Net, guidance and the scheduler's
 * update run as tfjs ops in float32 (the scheduler's StepUpdate coefficients), so a step moves
 * only its noise up (the images' own generators, drawn ahead by the step workers) and the images
 * come down once. The same chain as the sampler's host arithmetic (sampler.ts, float64 per
 * element, the same bytes on every engine for the same network output), rounded in float32: a
 * pixel may differ by a level. Same seed, same engine: the same bytes.
 */
import * as tf from '@tensorflow/tfjs';
import { guidedSamplingForward } from './guided-forward';
import type { UnetConfig } from './model';
import { inlineImageNoise, type DiffusionSampler, type GuidedForward, type ImageNoiser, type SampleRequest } from './sampler';
import type { SchedulerConfig, StepUpdate } from './schedulers';

/** The guided prediction from the network's [cond, uncond] rows: (1 + w) cond - w uncond. */
export function guideTensor(out: tf.Tensor, w: number): tf.Tensor {
  const n = out.shape[0] as number;
  if (n % 2 !== 0) throw new Error(`guidance: expected [cond, uncond] halves, got ${n} rows`);
  const [cond, uncond] = tf.split(out, 2, 0) as [tf.Tensor, tf.Tensor];
  return tf.sub(tf.mul(cond, 1 + w), tf.mul(uncond, w));
}

/** One scheduler step as tensor ops (see StepUpdate): x at the next timestep from the model output, x_t and the step's noise. */
export function updateTensor(modelOutput: tf.Tensor, xt: tf.Tensor, z: tf.Tensor | null, u: StepUpdate, config: SchedulerConfig): tf.Tensor {
  return tf.tidy(() => {
    const { sqrtA, sqrt1mA } = u;
    let x0: tf.Tensor, eps: tf.Tensor;
    switch (config.prediction_type) {
      case 'epsilon':
        x0 = tf.div(tf.sub(xt, tf.mul(modelOutput, sqrt1mA)), sqrtA);
        eps = modelOutput;
        break;
      case 'sample':
        x0 = modelOutput;
        eps = tf.div(tf.sub(xt, tf.mul(modelOutput, sqrtA)), sqrt1mA);
        break;
      case 'v_prediction':
        x0 = tf.sub(tf.mul(xt, sqrtA), tf.mul(modelOutput, sqrt1mA));
        eps = tf.add(tf.mul(modelOutput, sqrtA), tf.mul(xt, sqrt1mA));
        break;
    }
    if (config.clip_sample) x0 = tf.clipByValue(x0, -config.clip_sample_range, config.clip_sample_range);
    let prev = tf.mul(x0, u.x0);
    if (u.xt !== 0) prev = tf.add(prev, tf.mul(xt, u.xt));
    if (u.eps !== 0) prev = tf.add(prev, tf.mul(eps, u.eps));
    if (u.noise !== 0) {
      if (!z) throw new Error('updateTensor: this step adds noise, so it needs the noise');
      prev = tf.add(prev, tf.mul(z, u.noise));
    }
    return prev;
  });
}

/**
 * sample() of `sampler` with x on the engine's device, the U-Net `model` run by tfjs. onStart and
 * onStep get x downloaded (only when given: onProgress downloads nothing); the result is the
 * images (NHWC, flattened). With guidance, `guidedForward` 'shared' runs the network's down path
 * once per image (guidedSamplingForward), 'full' runs x twice through all of it.
 */
export async function sampleOnDevice(
  sampler: DiffusionSampler,
  model: tf.LayersModel,
  req: SampleRequest,
  noiser: ImageNoiser = inlineImageNoise,
  guidedForward: GuidedForward = 'full',
): Promise<Float32Array> {
  const { labels, w } = req;
  const { scheduler, unet } = sampler;
  const batch = sampler.imageBatch(req);
  const { imageSize: s, inChannels: ch, nClasses }: UnetConfig = unet;
  const shape: [number, number, number, number] = [labels.length, s, s, ch];
  const noise = noiser(batch);
  const guided = w !== 0 ? guidedForward : null;
  let x: tf.Tensor | null = null;
  try {
    // a copy: x_T outlives the noise's array (some backends keep the array they are given)
    x = tf.tensor4d((await noise.start()).slice(), shape);
    if (req.onStart) await req.onStart((await x.data()) as Float32Array);
    for (const t of scheduler.timesteps) {
      // the step's noise (drawn ahead) is asked for before the network runs, and waited for after
      const drawing = scheduler.addsNoise(t) ? noise.next(t) : null;
      drawing?.catch(() => undefined); // awaited below
      const cond = sampler.conditions(t, labels, w);
      const n = cond.t.length;
      const xt: tf.Tensor = x;
      const prediction = tf.tidy(() => {
        const [t, c, mask] = [tf.tensor2d(cond.t, [n, 1]), tf.tensor2d(cond.c, [n, nClasses]), tf.tensor2d(cond.mask, [n, 1])];
        const out =
          guided === 'shared'
            ? guidedSamplingForward(model, unet, { x: xt as tf.Tensor4D, t, c, mask })
            : (model.apply([guided === 'full' ? tf.concat([xt, xt], 0) : xt, t, c, mask], { training: false }) as tf.Tensor);
        return guided ? guideTensor(out, w) : out;
      });
      const z = drawing ? tf.tensor4d(await drawing, shape) : null;
      x = updateTensor(prediction, xt, z, scheduler.update(t), scheduler.config);
      tf.dispose([prediction, xt, ...(z ? [z] : [])]);
      if (req.onStep) await req.onStep(t, (await x.data()) as Float32Array);
      await req.onProgress?.(t);
    }
    return (await x.data()) as Float32Array;
  } finally {
    x?.dispose();
    await noise.close();
  }
}
