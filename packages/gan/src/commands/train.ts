import * as path from 'node:path';
import { defineCommand, flag, gpuJobNote, preloadAll, userPath } from '@dlcv/core';
import { DEFAULT_EPOCHS, GPU_RUN, makeTrainConfig, PRESET_NAMES, TRAIN_PRESETS } from '../config';
import { openTrainingData } from '../data';
import { MODEL_NAMES, MODEL_PRESETS, type DcganConfig } from '../model';
import { train } from '../trainer';

export const trainCommand = defineCommand({
  name: 'train',
  summary: 'Train DCGAN model A or B on a face folder (or, as a demo, on digits resized to 64x64).',
  flags: {
    data: flag.path({ help: 'the face folder (hw2_data/face/train), or a digits folder in the homework layout', metavar: 'DIR' }),
    'demo-digits': flag.bool({ help: 'without --data: the embedded MNIST-M digits resized to 64x64' }),
    model: flag.choice(MODEL_NAMES, { help: "the report's model", shown: `A (${GPU_RUN.model} with --gpu)` }),
    preset: flag.choice(PRESET_NAMES, { help: 'optimizer settings (report: Adam D 5e-4, G 5e-3; tutorial: 2e-4 both)', default: 'report' }),
    epochs: flag.int({ help: 'epochs', min: 1, shown: `${DEFAULT_EPOCHS} (${GPU_RUN.epochs} with --gpu)` }),
    gpu: flag.bool({ help: `the GPU run: model ${GPU_RUN.model}, the ${GPU_RUN.preset} preset, ${GPU_RUN.epochs} epochs (sized for under 8 minutes on an H200; see GPU_RUN)` }),
    batch: flag.int({ help: 'batch size', min: 1, shown: "the preset's (128)" }),
    'lr-d': flag.float({ help: "the discriminator's learning rate", shown: "the preset's" }),
    'lr-g': flag.float({ help: "the generator's learning rate", shown: "the preset's" }),
    seed: flag.int({ help: 'seed of the weights, data order and noise', default: 0, min: 0 }),
    out: flag.path({ help: 'run folder', metavar: 'DIR', shown: 'runs/gan-<model>' }),
    resume: flag.bool({ help: 'continue the run in --out from its latest checkpoint' }),
    'stop-at': flag.int({ help: 'stop after this step with a checkpoint (resume later)', min: 1, metavar: 'STEP' }),
    limit: flag.int({ help: 'only the first N images', min: 1 }),
    resize: flag.bool({ help: 'resize images of another size to 64x64 instead of rejecting them' }),
    ngf: flag.int({ help: 'generator width (reduced widths make a custom model)', min: 1, shown: "the model's" }),
    ndf: flag.int({ help: 'discriminator width', min: 1, shown: "the model's" }),
    'save-every': flag.int({ help: 'checkpoint every this many steps (and at every epoch end)', default: 500, min: 1, metavar: 'STEPS' }),
    'stop-on-failure': flag.bool({ help: 'stop at a detected collapse instead of warning and holding checkpoints back' }),
  },
  async run({ flags, engine }) {
    const note = flags.gpu ? gpuJobNote(engine, 'the --gpu run') : null;
    if (note !== null) console.log(note);
    const preset = TRAIN_PRESETS[flags.preset];
    const model = flags.model ?? (flags.gpu ? GPU_RUN.model : 'A');
    const base: DcganConfig = MODEL_PRESETS[model];
    const gan: DcganConfig = { ...base, ngf: flags.ngf ?? base.ngf, ndf: flags.ndf ?? base.ndf };
    const custom = gan.ngf !== base.ngf || gan.ndf !== base.ndf;
    const runDir = flags.out ?? userPath(path.join('runs', `gan-${custom ? 'custom' : model}`));

    const { dataset, description } = await openTrainingData({
      data: flags.data,
      demoDigits: flags['demo-digits'],
      limit: flags.limit,
      resize: flags.resize,
      log: (m) => console.log(m),
    });
    const config = makeTrainConfig({
      model: custom ? 'custom' : model,
      gan,
      preset: flags.preset,
      lrD: flags['lr-d'] ?? preset.lrD,
      lrG: flags['lr-g'] ?? preset.lrG,
      beta1: preset.beta1,
      batchSize: flags.batch ?? preset.batchSize,
      epochs: flags.epochs ?? (flags.gpu ? GPU_RUN.epochs : DEFAULT_EPOCHS),
      seed: flags.seed,
      saveEvery: flags['save-every'],
      stopOnFailure: flags['stop-on-failure'],
      datasetSize: dataset.length,
      data: description,
    });
    console.log(`data: ${description}: ${dataset.length} images`);
    // Every image decoded before the run opens: an unusable file stops here, named with all the others.
    await preloadAll([{ name: 'training images', ds: dataset }], (m) => console.log(m));
    console.log(
      `model ${config.model} (ngf ${gan.ngf}, ndf ${gan.ndf}), preset ${config.preset}: Adam lr D ${config.lrD}, G ${config.lrG}, beta1 ${config.beta1}; batch ${config.batchSize}, ${config.epochs} epochs, seed ${config.seed}`,
    );
    console.log(`run folder: ${runDir}`);
    const result = await train({ runDir, config, source: dataset, resume: flags.resume, stopAtStep: flags['stop-at'] });
    console.log(`stopped at step ${result.step} (${result.stoppedBy}); last checkpoint: ${result.lastCheckpoint ?? 'none'}`);
    console.log(`wrote ${runDir}/{metrics.jsonl, loss.png, samples/, progress.gif, checkpoints/, config.json, model/}`);
    if (result.stoppedBy === 'failure')
      throw new Error(
        `training stopped on ${result.events
          .filter((e) => e.started)
          .map((e) => e.kind)
          .join(', ')}; the last good checkpoint is ${result.lastCheckpoint ?? 'none'}`,
      );
  },
});
