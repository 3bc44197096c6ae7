import * as path from 'node:path';
import { floatFlag, intFlag, UsageError, type Command } from '@dlcv/core';
import { defaultDigitsFolder } from '../data';
import { assetsDir } from '../files';
import { installClassifier, trainDigitClassifier } from '../train/train-classifier';

export const trainClassifierCommand: Command = {
  name: 'train-classifier',
  summary: 'Train the homework digit classifier (MNIST-M; embedded set by default), export ONNX; --install makes it the default grader network.',
  usage: 'train-classifier [--data hw2_data/digits/mnistm] [--epochs 20] [--batch 64] [--lr 0.001] [--seed 0] [--limit N] [--out runs/digit-classifier] [--resume] [--install]',
  flags: {
    data: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    seed: { type: 'string' },
    limit: { type: 'string' },
    out: { type: 'string' },
    resume: { type: 'boolean' },
    install: { type: 'boolean' },
  },
  async run({ flags, positionals }) {
    if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const log = (m: string) => console.log(m);
    const data = (flags.data as string | undefined) ?? (await defaultDigitsFolder('mnistm', '--data', log));
    const epochs = intFlag(flags.epochs, 'epochs', 20);
    const batchSize = intFlag(flags.batch, 'batch', 64);
    if (epochs < 1 || batchSize < 1) throw new UsageError('--epochs and --batch must be at least 1');
    const result = await trainDigitClassifier({
      data,
      runDir: path.resolve((flags.out as string | undefined) ?? 'runs/digit-classifier'),
      epochs,
      batchSize,
      lr: floatFlag(flags.lr, 'lr', 1e-3),
      seed: intFlag(flags.seed, 'seed', 0),
      limit: flags.limit === undefined ? undefined : intFlag(flags.limit, 'limit', 0),
      resume: !!flags.resume,
      log,
    });
    console.log(`val accuracy: ${(100 * result.valAccuracy).toFixed(2)}% (tfjs), ${(100 * result.onnxValAccuracy).toFixed(2)}% (exported ONNX) on ${result.valImages} images`);
    console.log(`wrote ${result.onnxFile} and ${result.summaryFile}`);
    if (flags.install) {
      const files = await installClassifier(result, assetsDir());
      console.log(`installed as the default reference network: ${files.join(', ')}`);
    }
  },
};
