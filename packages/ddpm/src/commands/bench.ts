/**
 * Speed of this package's U-Net on the active engine, beside the same network in PyTorch (CPU)
 * when a Python with torch is found (core's timeTorchReference): median seconds per training step (forward, MSE, backward, Adam)
 * and per sampling forward, and the ratio tfjs / PyTorch; and ours alone, the EMA update the trainer runs after each step.
 * A benchmark, not a test.
 */
import * as tf from '@tensorflow/tfjs';
import { countParams, defineCommand, flag, timeTorchReference, UsageError } from '@dlcv/core';
import { createUnet } from '../model';
import { onnxNoiseNet } from '../onnx-net';
import { Ema } from '../ema';
import { trainingStep } from '../step';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function timeIt(fn: () => Promise<void>, repeats: number, warmup: number): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return median(times);
}

/** Median seconds of one EMA update of `model`'s weights (the trainer's, after every step), read back. */
async function timeEmaUpdate(model: tf.LayersModel, repeats: number, warmup: number): Promise<{ weights: number; seconds: number }> {
  const ema = new Ema(model, 0.999);
  try {
    const last = () => ema.shadow[ema.shadow.length - 1] as tf.Variable;
    const seconds = await timeIt(
      async () => {
        ema.update(1000);
        await last().data();
      },
      repeats,
      warmup,
    );
    return { weights: ema.shadow.length, seconds };
  } finally {
    ema.dispose();
  }
}

/** Our times beside PyTorch's (when it ran), with the ratios. */
function printTable(
  log: (m: string) => void,
  engineName: string,
  torch: ReturnType<typeof timeTorchReference> | string,
  ours: { trainBatch: number; sampleBatch: number; trainStep: number; ema: { weights: number; seconds: number }; forward: number; onnxForward: number },
): void {
  const { trainBatch, sampleBatch, trainStep, ema, forward, onnxForward } = ours;
  const rows: [string, string, string, string][] = [['', `tfjs (${engineName})`, 'PyTorch CPU', 'ratio tfjs/PyTorch']];
  const fmt = (x: number) => `${x.toFixed(4)} s`;
  const ratio = (ours: number, theirs: number | undefined) => (theirs === undefined ? '-' : `${(ours / theirs).toFixed(2)}x`);
  const theirs = (name: 'ddpm_train' | 'ddpm_forward') => {
    const seconds = typeof torch === 'string' ? undefined : torch.cases[name]?.seconds;
    return seconds?.length ? median(seconds) : undefined;
  };
  const [tTrain, tForward] = [theirs('ddpm_train'), theirs('ddpm_forward')];
  rows.push([`train step, batch ${trainBatch}`, fmt(trainStep), tTrain ? fmt(tTrain) : '-', ratio(trainStep, tTrain)]);
  rows.push([`EMA update, ${ema.weights} weights`, fmt(ema.seconds), '-', '-']);
  rows.push([`sampling forward, batch ${sampleBatch}`, fmt(forward), tForward ? fmt(tForward) : '-', ratio(forward, tForward)]);
  rows.push([`  same, ONNX Runtime`, fmt(onnxForward), tForward ? fmt(tForward) : '-', ratio(onnxForward, tForward)]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  log('');
  for (const r of rows) log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  log(
    typeof torch === 'string'
      ? `PyTorch: ${torch}`
      : `PyTorch ${torch.torch} (${torch.python}), ${torch.threads} threads, BLAS ${torch.blas.info}, ${torch.cases.ddpm_train?.params.toLocaleString('en-US') ?? '?'} parameters`,
  );
}

export const benchCommand = defineCommand({
  name: 'bench',
  summary:
    'Median seconds per training step (batch 32), per EMA update and per sampling forward (batch 100, tfjs and ONNX Runtime) of the n_feat 128 U-Net, beside PyTorch CPU when available.',
  flags: {
    'n-feat': flag.int({ help: 'U-Net base width (a multiple of 8)', default: 128, min: 8 }),
    'train-batch': flag.int({ help: 'batch of the timed training step', default: 32, min: 1 }),
    'sample-batch': flag.int({ help: 'batch of the timed sampling forward', default: 100, min: 1 }),
    repeats: flag.int({ help: 'timed runs (the median is shown)', default: 3, min: 1 }),
    warmup: flag.int({ help: 'untimed runs first', default: 1, min: 0 }),
    'no-torch': flag.bool({ help: 'skip the PyTorch reference' }),
  },
  async run({ flags, engine }) {
    const log = (m: string) => console.log(m);
    const { 'n-feat': nFeat, 'train-batch': trainBatch, 'sample-batch': sampleBatch, repeats, warmup } = flags;
    if (nFeat % 8 !== 0) throw new UsageError('--n-feat must be a multiple of 8 (GroupNorm has 8 groups)');

    const unet = { nFeat, inChannels: 3, nClasses: 10, imageSize: 28, groups: 8 };
    const model = createUnet(unet, 0);
    log(`ContextUnet n_feat ${nFeat}: ${countParams(model).trainable.toLocaleString('en-US')} parameters; ${repeats} timed runs after ${warmup} warm-up`);
    const optimizer = tf.train.adam(1e-4);
    const inputs = (b: number) =>
      tf.tidy(() => [
        tf.randomNormal([b, 28, 28, 3], 0, 1, 'float32', 1),
        tf.randomUniform([b, 1], 0, 1, 'float32', 2),
        tf
          .oneHot(
            tf.tensor1d(
              Int32Array.from({ length: b }, (_, i) => i % 10),
              'int32',
            ),
            10,
          )
          .toFloat(),
        tf.zeros([b, 1]),
      ]);
    const tIn = inputs(trainBatch);
    const target = tf.randomNormal([trainBatch, 28, 28, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const trainStep = await timeIt(
      async () => {
        const [x, t, c, mask] = tIn as [tf.Tensor4D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
        const loss = trainingStep(model, optimizer, x, target, { t, c, mask });
        await loss.data();
        loss.dispose();
      },
      repeats,
      warmup,
    );
    log(`tfjs train step (batch ${trainBatch}): ${trainStep.toFixed(3)} s`);
    const ema = await timeEmaUpdate(model, repeats, warmup);
    log(`tfjs EMA update (${ema.weights} weights): ${ema.seconds.toFixed(4)} s`);
    const sIn = inputs(sampleBatch);
    const forward = await timeIt(
      async () => {
        const y = model.apply(sIn, { training: false }) as tf.Tensor;
        await y.data();
        y.dispose();
      },
      repeats,
      warmup,
    );
    log(`tfjs sampling forward (batch ${sampleBatch}): ${forward.toFixed(3)} s`);
    // The same forward through ONNX Runtime (sample --runtime onnx): the exported model.
    const net = await onnxNoiseNet(model, unet);
    // Float32Array.from: the cpu backend's int32 -> float32 cast keeps the Int32Array storage.
    const [sx, st, sc, sm] = await Promise.all(sIn.map(async (t) => Float32Array.from(await t.data())));
    const onnxForward = await timeIt(
      async () => {
        await net.predict(sx!, { t: st!, c: sc!, mask: sm! });
      },
      repeats,
      warmup,
    );
    await net.dispose();
    log(`ONNX Runtime sampling forward (batch ${sampleBatch}): ${onnxForward.toFixed(3)} s`);
    tf.dispose([...tIn, ...sIn, target]);

    // Same thread count as the engine, so the ratio compares implementations, not core counts.
    const torch = flags['no-torch']
      ? 'skipped (--no-torch)'
      : timeTorchReference(['ddpm_train', 'ddpm_forward'], { nFeat, batch: trainBatch, forwardBatch: sampleBatch, steps: repeats, warmup, threads: engine?.threads });
    printTable(log, engine?.engine ?? tf.getBackend(), torch, { trainBatch, sampleBatch, trainStep, ema, forward, onnxForward });
  },
});
