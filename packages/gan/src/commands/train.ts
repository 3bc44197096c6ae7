import { floatFlag, intFlag, UsageError, type Command } from '@dlcv/core';
import { makeTrainConfig, TRAIN_PRESETS, DEFAULT_EPOCHS, type PresetName } from '../config';
import { openTrainingData } from '../data';
import { MODEL_PRESETS, type DcganConfig, type ModelName } from '../models';
import { userPath } from '../paths';
import { train } from '../trainer';

export function parseModel(value: string | boolean | undefined, fallback: ModelName): ModelName {
  if (value === undefined) return fallback;
  if (value === 'A' || value === 'B') return value;
  throw new UsageError(`--model must be A or B, got "${String(value)}"`);
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'Train DCGAN model A or B on a face folder (or, as a demo, on digits resized to 64x64).',
  usage:
    'train --data hw2_data/face/train | --demo-digits [--model A|B] [--preset report|tutorial] [--epochs 25] [--batch 128] ' +
    '[--lr-d X] [--lr-g X] [--seed 0] [--out runs/gan-<model>] [--resume] [--steps N] [--limit N] [--resize] ' +
    '[--ngf N --ndf N] [--checkpoint-every 500] [--stop-on-failure]',
  flags: {
    data: { type: 'string' },
    'demo-digits': { type: 'boolean' },
    model: { type: 'string' },
    preset: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    'lr-d': { type: 'string' },
    'lr-g': { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    steps: { type: 'string' },
    limit: { type: 'string' },
    resize: { type: 'boolean' },
    ngf: { type: 'string' },
    ndf: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'stop-on-failure': { type: 'boolean' },
  },
  async run({ flags }) {
    const model = parseModel(flags.model, 'A');
    const presetName = (flags.preset ?? 'report') as string;
    if (!(presetName in TRAIN_PRESETS)) throw new UsageError(`--preset must be one of ${Object.keys(TRAIN_PRESETS).join(', ')}, got "${presetName}"`);
    const preset = TRAIN_PRESETS[presetName as PresetName];
    const base: DcganConfig = MODEL_PRESETS[model];
    const gan: DcganConfig = { ...base, ngf: intFlag(flags.ngf, 'ngf', base.ngf), ndf: intFlag(flags.ndf, 'ndf', base.ndf) };
    const custom = gan.ngf !== base.ngf || gan.ndf !== base.ndf;
    const runDir = userPath((flags.out as string | undefined) ?? `runs/gan-${custom ? 'custom' : model}`);

    const limit = flags.limit === undefined ? undefined : intFlag(flags.limit, 'limit', 0);
    const { dataset, description } = await openTrainingData({
      data: typeof flags.data === 'string' ? userPath(flags.data) : undefined,
      demoDigits: flags['demo-digits'] === true,
      limit,
      resize: flags.resize === true,
      log: (m) => console.log(m),
    });
    const config = makeTrainConfig({
      model: custom ? 'custom' : model,
      gan,
      preset: presetName as PresetName,
      lrD: floatFlag(flags['lr-d'], 'lr-d', preset.lrD),
      lrG: floatFlag(flags['lr-g'], 'lr-g', preset.lrG),
      beta1: preset.beta1,
      batchSize: intFlag(flags.batch, 'batch', preset.batchSize),
      epochs: intFlag(flags.epochs, 'epochs', DEFAULT_EPOCHS),
      seed: intFlag(flags.seed, 'seed', 0),
      checkpointEvery: intFlag(flags['checkpoint-every'], 'checkpoint-every', 500),
      stopOnFailure: flags['stop-on-failure'] === true,
      datasetSize: dataset.length,
      data: description,
    });
    const stopAtStep = flags.steps === undefined ? undefined : intFlag(flags.steps, 'steps', 0);
    console.log(`data: ${description}: ${dataset.length} images`);
    console.log(`model ${config.model} (ngf ${gan.ngf}, ndf ${gan.ndf}), preset ${config.preset}: Adam lr D ${config.lrD}, G ${config.lrG}, beta1 ${config.beta1}; batch ${config.batchSize}, ${config.epochs} epochs, seed ${config.seed}`);
    console.log(`run folder: ${runDir}`);
    const result = await train({ runDir, config, source: dataset, resume: flags.resume === true, stopAtStep });
    console.log(`stopped at step ${result.step} (${result.stoppedBy}); last checkpoint: ${result.lastCheckpoint ?? 'none'}`);
    console.log(`wrote ${runDir}/{metrics.jsonl, loss.png, samples/, progress.gif, checkpoints/}`);
    if (result.stoppedBy === 'failure') throw new Error(`training stopped on ${result.events.filter((e) => e.started).map((e) => e.kind).join(', ')}; the last good checkpoint is ${result.lastCheckpoint ?? 'none'}`);
  },
};
