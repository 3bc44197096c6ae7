import { defineCommand, ensureEmbeddedDigits, flag } from '@dlcv/core';
import { assetsDir } from '../files';
import { ARCHITECTURES, installClassifier, trainDigitClassifier } from '../train/train-classifier';

export const trainClassifierCommand = defineCommand({
  name: 'train-classifier',
  summary:
    'Train a digit classifier (MNIST-M; embedded set by default): the homework network, or --arch strict for the strict grader; export ONNX; --install makes it the default network of its kind.',
  flags: {
    arch: flag.choice(ARCHITECTURES, { help: "the homework's network, or the strict grader's", default: 'homework' }),
    augment: flag.bool({ help: 'shift (up to 2 px) and colour-channel permutation of the training images' }),
    cosine: flag.bool({ help: 'cosine decay of the learning rate to 0 over the epochs' }),
    'label-smoothing': flag.float({ help: 'label smoothing of the cross-entropy targets', default: 0 }),
    data: flag.path({ help: 'digits folder in the homework layout', metavar: 'DIR', shown: 'the embedded MNIST-M' }),
    epochs: flag.int({ help: 'epochs', default: 20, min: 1 }),
    batch: flag.int({ help: 'batch size', default: 64, min: 1 }),
    lr: flag.float({ help: "Adam's learning rate", default: 1e-3 }),
    seed: flag.int({ help: 'seed of the weights and the data order', default: 0, min: 0 }),
    limit: flag.int({ help: 'train on the first N images of train.csv only', min: 1 }),
    out: flag.path({ help: 'run folder', default: 'runs/digit-classifier', metavar: 'DIR' }),
    resume: flag.bool({ help: 'continue the run in --out' }),
    install: flag.bool({ help: "copy the trained network into this package's assets as the default grader" }),
  },
  async run({ flags }) {
    const log = (m: string) => console.log(m);
    const data = flags.data ?? (await ensureEmbeddedDigits('mnistm', { log }));
    const result = await trainDigitClassifier({
      data,
      runDir: flags.out,
      epochs: flags.epochs,
      batchSize: flags.batch,
      lr: flags.lr,
      seed: flags.seed,
      limit: flags.limit,
      architecture: flags.arch,
      augment: flags.augment,
      cosine: flags.cosine,
      labelSmoothing: flags['label-smoothing'],
      resume: flags.resume,
      log,
    });
    console.log(`val accuracy: ${(100 * result.valAccuracy).toFixed(2)}% (tfjs), ${(100 * result.onnxValAccuracy).toFixed(2)}% (exported ONNX) on ${result.valImages} images`);
    console.log(`per digit 0-9: ${result.valPerDigit.map((a) => (100 * a).toFixed(1)).join(' ')}`);
    console.log(`wrote ${result.onnxFile} and ${result.summaryFile}`);
    if (flags.install) {
      const files = await installClassifier(result, assetsDir());
      console.log(`installed as the default reference network: ${files.join(', ')}`);
    }
  },
});
