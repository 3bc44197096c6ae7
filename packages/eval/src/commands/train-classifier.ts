import { defineCommand, ensureEmbeddedDigits, flag } from '@dlcv/core';
import { assetsDir } from '../files';
import { installClassifier, trainDigitClassifier } from '../train/train-classifier';

export const trainClassifierCommand = defineCommand({
  name: 'train-classifier',
  summary: 'Train the homework digit classifier (MNIST-M; embedded set by default), export ONNX; --install makes it the default grader network.',
  flags: {
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
      resume: flags.resume,
      log,
    });
    console.log(`val accuracy: ${(100 * result.valAccuracy).toFixed(2)}% (tfjs), ${(100 * result.onnxValAccuracy).toFixed(2)}% (exported ONNX) on ${result.valImages} images`);
    console.log(`wrote ${result.onnxFile} and ${result.summaryFile}`);
    if (flags.install) {
      const files = await installClassifier(result, assetsDir());
      console.log(`installed as the default reference network: ${files.join(', ')}`);
    }
  },
});
