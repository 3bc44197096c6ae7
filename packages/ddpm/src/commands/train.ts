import * as path from 'node:path';
import { floatFlag, intFlag, openDigits, UsageError, type Command } from '@dlcv/core';
import { resolveMnistm } from '../data';
import { PRESETS, presetConfig } from '../presets';
import { train } from '../trainer';

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train the class-conditional DDPM on MNIST-M (default: the cpu preset on the embedded MNIST-M).',
  usage:
    'train [--preset cpu|report] [--data hw2_data/digits/mnistm] [--out runs/ddpm-<preset>] [--resume] [--stop-at STEP]\n' +
    '       [--steps N | --epochs N] [--batch N] [--lr X] [--n-feat N] [--timesteps N] [--p-uncond X] [--ema-decay X] [--seed N] [--save-every STEPS]',
  flags: {
    preset: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    'stop-at': { type: 'string' },
    epochs: { type: 'string' },
    steps: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    'n-feat': { type: 'string' },
    timesteps: { type: 'string' },
    'p-uncond': { type: 'string' },
    'ema-decay': { type: 'string' },
    seed: { type: 'string' },
    'save-every': { type: 'string' },
  },
  async run({ flags }) {
    const presetName = (flags.preset as string | undefined) ?? 'cpu';
    if (!(presetName in PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(PRESETS).join(', ')}, got "${presetName}"`);
    const config = presetConfig(presetName);
    if (flags.epochs !== undefined && flags.steps !== undefined) throw new UsageError('give --steps or --epochs, not both');
    if (flags.epochs !== undefined) {
      config.epochs = intFlag(flags.epochs, 'epochs', config.epochs);
      delete config.steps;
    }
    if (flags.steps !== undefined) config.steps = intFlag(flags.steps, 'steps', 0);
    config.batchSize = intFlag(flags.batch, 'batch', config.batchSize);
    config.lr = floatFlag(flags.lr, 'lr', config.lr);
    config.unet.nFeat = intFlag(flags['n-feat'], 'n-feat', config.unet.nFeat);
    config.scheduler.num_train_timesteps = intFlag(flags.timesteps, 'timesteps', config.scheduler.num_train_timesteps);
    config.pUncond = floatFlag(flags['p-uncond'], 'p-uncond', config.pUncond);
    config.emaDecay = floatFlag(flags['ema-decay'], 'ema-decay', config.emaDecay);
    config.seed = intFlag(flags.seed, 'seed', config.seed);
    config.saveEvery = intFlag(flags['save-every'], 'save-every', config.saveEvery);
    if (config.sampling.sampler === 'ddpm') config.sampling.steps = config.scheduler.num_train_timesteps;
    const stopAt = flags['stop-at'] === undefined ? undefined : intFlag(flags['stop-at'], 'stop-at', 0);
    const runDir = path.resolve((flags.out as string | undefined) ?? path.join('runs', `ddpm-${presetName}`));

    const log = (m: string) => console.log(m);
    const { root, label } = await resolveMnistm(flags.data as string | undefined, log);
    const data = await openDigits(root, 'train', { channels: 3, size: config.unet.imageSize });
    log(`data: ${root} (train ${data.length} images)`);
    const t0 = Date.now();
    const result = await train({ runDir, config, data, dataLabel: label, resume: flags.resume === true, stopAtStep: stopAt, log });
    log(`${result.steps} steps in ${((Date.now() - t0) / 60000).toFixed(1)} min; run folder ${runDir}`);
  },
};
