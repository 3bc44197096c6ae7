import * as path from 'node:path';
import { defineCommand, flag, gpuJobNote, openDigits, preloadAll, UsageError, userPath } from '@dlcv/core';
import { GPU_PRESETS, PRESETS, presetConfig, type PresetName, type TrainConfig } from '../config';
import { resolveMnistm } from '../data';
import { train } from '../trainer';
import { defaultWorkerThreads } from '../worker-thread';

const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'Train the class-conditional DDPM on MNIST-M (default: the cpu preset on the embedded MNIST-M).',
  flags: {
    preset: flag.choice(PRESET_NAMES, { help: "settings to start from (report: the report's GPU job)", default: 'cpu' }),
    data: flag.path({ help: 'an MNIST-M folder in the homework layout', metavar: 'DIR', shown: 'the embedded MNIST-M' }),
    out: flag.path({ help: 'run folder', metavar: 'DIR', shown: 'runs/ddpm-<preset>' }),
    resume: flag.bool({ help: 'continue the run in --out from its latest checkpoint' }),
    'stop-at': flag.int({ help: 'stop after this step with a checkpoint (resume later)', min: 1, metavar: 'STEP' }),
    steps: flag.int({ help: 'training steps (instead of --epochs)', min: 1, shown: "the preset's" }),
    epochs: flag.int({ help: 'whole epochs (instead of --steps)', min: 1, shown: "the preset's" }),
    batch: flag.int({ help: 'batch size', min: 1, shown: "the preset's" }),
    lr: flag.float({ help: "Adam's initial learning rate (decays linearly per epoch)", shown: "the preset's" }),
    'n-feat': flag.int({ help: 'U-Net base width', min: 1, shown: "the preset's" }),
    timesteps: flag.int({ help: 'diffusion timesteps n_T', min: 2, shown: "the preset's" }),
    'p-uncond': flag.float({ help: 'probability of dropping the class (classifier-free guidance)', shown: "the preset's" }),
    'ema-decay': flag.float({ help: 'EMA decay of the sampling weights', shown: "the preset's" }),
    seed: flag.int({ help: 'seed of the weights, data order and noise', min: 0, shown: "the preset's" }),
    'draw-threads': flag.int({
      help: "threads that draw each step's noise one step ahead (0: the training thread; the run is the same)",
      min: 0,
      max: 64,
      shown: 'on a GPU engine the cores less one, at most 8; else 0',
    }),
    'save-every': flag.int({ help: 'checkpoint every this many steps', min: 1, metavar: 'STEPS', shown: "the preset's" }),
    'preview-every': flag.int({ help: 'a sample grid every this many epochs (and after the last)', min: 1, metavar: 'EPOCHS', shown: "the preset's" }),
  },
  async run({ flags, engine }) {
    const config: TrainConfig = presetConfig(flags.preset);
    if (flags.epochs !== undefined && flags.steps !== undefined) throw new UsageError('give --steps or --epochs, not both');
    if (flags.epochs !== undefined) {
      config.epochs = flags.epochs;
      delete config.steps;
    }
    if (flags.steps !== undefined) config.steps = flags.steps;
    config.batchSize = flags.batch ?? config.batchSize;
    config.lr = flags.lr ?? config.lr;
    config.unet.nFeat = flags['n-feat'] ?? config.unet.nFeat;
    config.scheduler.num_train_timesteps = flags.timesteps ?? config.scheduler.num_train_timesteps;
    config.pUncond = flags['p-uncond'] ?? config.pUncond;
    config.emaDecay = flags['ema-decay'] ?? config.emaDecay;
    config.seed = flags.seed ?? config.seed;
    config.saveEvery = flags['save-every'] ?? config.saveEvery;
    if (flags['preview-every'] !== undefined) config.preview.every = flags['preview-every'];
    if (config.sampling.sampler === 'ddpm') config.sampling.steps = config.scheduler.num_train_timesteps;
    const runDir = flags.out ?? userPath(path.join('runs', `ddpm-${flags.preset}`));

    const log = (m: string) => console.log(m);
    const note = GPU_PRESETS.includes(flags.preset) ? gpuJobNote(engine, `the ${flags.preset} preset`) : null;
    if (note !== null) log(note);
    const { root, label } = await resolveMnistm(flags.data, log);
    const data = await openDigits(root, 'train', { channels: 3, size: config.unet.imageSize });
    log(`data: ${root} (train ${data.length} images)`);
    // Every image decoded before the run opens: an unusable file stops here, named with all the others.
    await preloadAll([{ name: `${label} train`, ds: data }], log);
    const t0 = Date.now();
    const drawThreads = flags['draw-threads'] ?? defaultWorkerThreads(engine);
    if (drawThreads > 0) log(`training noise: drawn one step ahead on ${drawThreads} worker thread${drawThreads > 1 ? 's' : ''}`);
    const result = await train({ runDir, config, data, dataLabel: label, resume: flags.resume, stopAtStep: flags['stop-at'], log, drawThreads });
    log(`${result.steps} steps in ${((Date.now() - t0) / 60000).toFixed(1)} min; run folder ${runDir}`);
  },
});
