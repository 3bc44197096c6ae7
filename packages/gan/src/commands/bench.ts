/**
 * `bench`: the median time of one training step (model A, batch 64 by default) on the active
 * engine, the same step in PyTorch on the CPU beside it when a Python with torch is found, and
 * the time `generate` takes for 1000 images (PNG writing included, as the homework times it).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { defineCommand, flag, Rng, timeTorchReference } from '@dlcv/core';
import { TRAIN_PRESETS } from '../config';
import { median } from '../detectors';
import { createDiscriminator, createGenerator, IMAGE_SIZE, MODEL_NAMES, MODEL_PRESETS, noiseBatch } from '../model';
import { generateToFolder } from '../sampling';
import { createOptimizers, trainStep, type Gan } from '../step';

export const benchCommand = defineCommand({
  name: 'bench',
  summary: 'Median training-step time (model A, batch 64) against PyTorch CPU, and the time to generate 1000 images.',
  flags: {
    model: flag.choice(MODEL_NAMES, { help: 'the model to time', default: 'A' }),
    batch: flag.int({ help: 'batch size of the timed step', default: 64, min: 1 }),
    steps: flag.int({ help: 'timed steps', default: 5, min: 1 }),
    warmup: flag.int({ help: 'untimed steps first', default: 1, min: 0 }),
    count: flag.int({ help: 'images to generate', default: 1000, min: 1 }),
    python: flag.string({ help: 'a Python with torch for the reference timing', metavar: 'PATH', shown: '$DLCV_PYTHON, python3, then /usr/bin/python3' }),
    'no-torch': flag.bool({ help: 'skip the PyTorch timing' }),
  },
  async run({ flags, engine }) {
    const { model, batch, steps, warmup, count } = flags;
    const config = MODEL_PRESETS[model];
    const preset = TRAIN_PRESETS.report;
    console.log(`machine: ${os.availableParallelism()} x ${os.cpus()[0]?.model ?? 'unknown cpu'}; engine threads ${engine?.threads ?? '?'}`);
    if (engine?.engine === 'cpu') console.log('note: the pure-JS cpu engine needs minutes per step at this size (its conv filter gradient is slow)');

    // tfjs training step
    const rng = new Rng(0);
    const gan: Gan = { g: createGenerator(config, rng.fork(1)), d: createDiscriminator(config, rng.fork(2)), ...createOptimizers({ ...preset }) };
    const real = tf.tensor4d(rng.uniformArray(batch * IMAGE_SIZE * IMAGE_SIZE * config.channels, -1, 1), [batch, IMAGE_SIZE, IMAGE_SIZE, config.channels]);
    const times: number[] = [];
    for (let i = 0; i < warmup + steps; i++) {
      const z = noiseBatch(rng, batch, config.nz);
      const t0 = process.hrtime.bigint();
      await trainStep(gan, real, z);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      z.dispose();
      if (i >= warmup) times.push(s);
      console.log(`  tfjs step ${i + 1}/${warmup + steps}${i < warmup ? ' (warm-up)' : ''}: ${s.toFixed(3)} s`);
    }
    real.dispose();
    const tfjsMedian = median(times);
    console.log(`tfjs (${engine?.engine ?? '?'}): median training step, model ${model}, batch ${batch}: ${tfjsMedian.toFixed(3)} s over ${steps} steps`);

    // PyTorch, same step
    if (flags['no-torch']) {
      console.log('pytorch: skipped (--no-torch)');
    } else {
      // Same thread count as the engine, so the ratio compares implementations, not core counts.
      const torch = timeTorchReference(['dcgan_train'], { width: config.ngf, batch, steps, warmup, threads: engine?.threads, python: flags.python });
      const seconds = typeof torch === 'string' ? undefined : torch.cases.dcgan_train?.seconds;
      if (typeof torch === 'string' || !seconds) {
        console.log(`pytorch: ${typeof torch === 'string' ? torch : 'no timings returned'}, no ratio`);
      } else {
        const theirs = median(seconds);
        console.log(`pytorch ${torch.torch} (${torch.python}, CPU, ${torch.threads} threads, BLAS ${torch.blas.info}): median training step ${theirs.toFixed(3)} s`);
        console.log(`ratio tfjs / pytorch: ${(tfjsMedian / theirs).toFixed(2)}x`);
      }
    }

    // generate
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'dlcv-gan-bench-'));
    try {
      const t0 = process.hrtime.bigint();
      await generateToFolder(gan.g, dir, { count, seed: 0, nz: config.nz });
      console.log(`generate: ${count} images (model ${model}, PNGs written) in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(2)} s`);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  },
});
