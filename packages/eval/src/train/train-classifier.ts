/**
 * Trains the homework's digit classifier on a digits folder (MNIST-M by default), then exports
 * it to ONNX with two outputs, `logits` and `features` (fc2, 64-d), and checks the ONNX file
 * against the trained model on the validation split. Checkpoints every epoch (atomic, resumable);
 * a non-finite loss stops the run and keeps the last good checkpoint.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assertFinite,
  exportOnnx,
  makeDir,
  openDigits,
  openRun,
  progress,
  readJsonFile,
  Rng,
  rngStateSchema,
  writeFileAtomic,
  z,
  type ImageDataset,
  type TrainingRun,
} from '@dlcv/core';
import { classifyDigits, loadDigitClassifier } from '../networks/digit-classifier';
import { buildDigitClassifier, DIGIT_SCALING, HOMEWORK_CLASSIFIER, type DigitClassifierConfig } from '../networks/digit-classifier-model';

export interface TrainClassifierOptions {
  /** Digits folder in the homework layout (data/, train.csv, val.csv). */
  data: string;
  runDir: string;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  resume?: boolean;
  /** Train on at most this many images (the first of train.csv), for quick runs. */
  limit?: number;
  config?: DigitClassifierConfig;
  log?: (message: string) => void;
  quietProgress?: boolean;
}

export interface TrainClassifierResult {
  onnxFile: string;
  summaryFile: string;
  epochs: number;
  steps: number;
  trainImages: number;
  valImages: number;
  /** Validation accuracy of the trained tfjs model. */
  valAccuracy: number;
  /** The same, through the exported ONNX file (checks the export). */
  onnxValAccuracy: number;
}

async function accuracy(model: tf.LayersModel, set: ImageDataset): Promise<number> {
  let correct = 0;
  for await (const batch of set.batches({ batchSize: 256, scaling: DIGIT_SCALING })) {
    const pred = tf.tidy(() => (model.predict(batch.x) as tf.Tensor2D).argMax(-1));
    const p = await pred.data(),
      y = await (batch.y as tf.Tensor).data();
    for (let i = 0; i < p.length; i++) if (p[i] === y[i]) correct++;
    tf.dispose([pred, batch.x, batch.y as tf.Tensor]);
  }
  return correct / set.length;
}

const stateSchema = z.object({ step: z.number().int().min(0), epoch: z.number().int().min(0), rng: rngStateSchema });
type State = z.infer<typeof stateSchema>;

/** One epoch of cross-entropy steps in the order `rng` draws. */
async function trainEpoch(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  train: ImageDataset,
  state: State & { rngObject: Rng },
  run: TrainingRun<State>,
  options: TrainClassifierOptions & { classes: number },
): Promise<void> {
  const stepsPerEpoch = Math.floor(train.length / options.batchSize);
  const bar = progress({ total: stepsPerEpoch, label: `epoch ${state.epoch + 1}/${options.epochs}`, quiet: options.quietProgress });
  for await (const batch of train.batches({ batchSize: options.batchSize, rng: state.rngObject, dropLast: true, scaling: DIGIT_SCALING })) {
    const labels = batch.y as tf.Tensor1D;
    const loss = optimizer.minimize(() => {
      const logits = model.apply(batch.x, { training: true }) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(tf.oneHot(labels, options.classes), logits);
    }, true) as tf.Scalar;
    const value = (await loss.data())[0] as number;
    tf.dispose([batch.x, labels, loss]);
    state.step++;
    assertFinite({ loss: value }, state.step);
    await run.metrics.append({ step: state.step, epoch: state.epoch + 1, loss: value });
    bar.tick(1, { loss: value.toFixed(4) });
    if (run.stopSignal) {
      bar.stop();
      throw run.interrupted(state.step, await run.save({ step: state.step, epoch: state.epoch, rng: state.rngObject.getState() }));
    }
  }
  bar.stop();
}

/** What the embedded sets' manifest says of their recipe; undefined for a user's folder (it has none). */
async function embeddedManifest(folder: string): Promise<Record<string, unknown> | undefined> {
  const file = path.join(folder, 'manifest.json');
  const exists = await fs.stat(file).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;
  const m = await readJsonFile(file, z.looseObject({ format: z.string(), name: z.string(), recipeVersion: z.unknown(), seed: z.unknown(), description: z.unknown() }));
  return m.format === 'dlcv-hw2/embedded-digits' ? { embedded: m.name, recipeVersion: m.recipeVersion, seed: m.seed, description: m.description } : undefined;
}

/** Exports the classifier with its `features` output, then returns its accuracy on `val` through ONNX Runtime. */
async function exportAndCheck(model: tf.LayersModel, onnxFile: string, val: ImageDataset, size: number): Promise<number> {
  await exportOnnx(model, onnxFile, {
    inputNames: ['image'],
    outputNames: ['logits'],
    extraOutputs: { features: 'fc2' },
    metadata: { 'dlcv.input': 'NHWC float32, (x/255 - 0.5) / 0.5', 'dlcv.features': 'fc2 after ReLU' },
  });
  const classifier = await loadDigitClassifier(onnxFile);
  let correct = 0;
  try {
    for (let start = 0; start < val.length; start += 512) {
      const idx = Array.from({ length: Math.min(512, val.length - start) }, (_, i) => start + i);
      const pixels = await val.getPixelsBatch(idx);
      const px = size * size * 3;
      const images = idx.map((_, i) => ({ width: size, height: size, channels: 3 as const, data: pixels.subarray(i * px, (i + 1) * px) }));
      const { predictions } = await classifyDigits(classifier, images);
      idx.forEach((v, i) => {
        if (predictions[i] === val.labels?.[v]) correct++;
      });
    }
  } finally {
    await classifier.model.dispose();
  }
  return correct / val.length;
}

export async function trainDigitClassifier(options: TrainClassifierOptions): Promise<TrainClassifierResult> {
  const log = options.log ?? (() => {});
  const modelConfig = options.config ?? HOMEWORK_CLASSIFIER;
  // What a resumed run must share with the saved one (more epochs may be asked for later).
  const config = { data: path.resolve(options.data), batchSize: options.batchSize, lr: options.lr, seed: options.seed, limit: options.limit ?? null, model: modelConfig };
  let train = await openDigits(options.data, 'train', { channels: 3, size: modelConfig.size });
  if (options.limit !== undefined && options.limit < train.length) train = train.subset(Array.from({ length: options.limit }, (_, i) => i));
  const val = await openDigits(options.data, 'val', { channels: 3, size: modelConfig.size });
  log(`data: ${config.data} (train ${train.length}, val ${val.length})`);
  if (train.length < options.batchSize) throw new Error(`${config.data}: ${train.length} training images are fewer than one batch of ${options.batchSize}`);

  // model, optimizer, run
  const model = buildDigitClassifier(modelConfig, options.seed);
  const optimizer = tf.train.adam(options.lr);
  const rng = new Rng(options.seed);
  const run = await openRun({
    runDir: options.runDir,
    config,
    resume: options.resume === true,
    models: { classifier: model },
    optimizers: { adam: optimizer },
    initialState: { step: 0, epoch: 0, rng: rng.getState() },
    stateSchema,
    log,
  });
  rng.setState(run.state.rng);
  const state = { ...run.state, rngObject: rng };

  // train, evaluate, checkpoint: epoch by epoch
  let valAccuracy = Number.NaN;
  try {
    while (state.epoch < options.epochs) {
      await trainEpoch(model, optimizer, train, state, run, { ...options, classes: modelConfig.classes });
      state.epoch++;
      valAccuracy = await accuracy(model, val);
      await run.metrics.append({ step: state.step, epoch: state.epoch, valAccuracy });
      log(`epoch ${state.epoch}: val accuracy ${(100 * valAccuracy).toFixed(2)}%`);
      await run.save({ step: state.step, epoch: state.epoch, rng: rng.getState() });
    }
  } finally {
    run.close();
    await run.metrics.flush();
  }
  if (Number.isNaN(valAccuracy)) valAccuracy = await accuracy(model, val);
  const step = state.step,
    epoch = state.epoch;

  // export, then grade the validation split through the ONNX file
  const onnxFile = path.join(options.runDir, 'digit-classifier.onnx');
  const onnxValAccuracy = await exportAndCheck(model, onnxFile, val, modelConfig.size);
  model.dispose();
  optimizer.dispose();

  // Which data: the embedded sets carry a manifest naming their recipe and seed.
  const manifest = await embeddedManifest(config.data);
  const summaryFile = path.join(options.runDir, 'digit-classifier.json');
  const summary = {
    network: 'DLCV HW2 digit classifier (Conv 3->6 k5, ReLU, MaxPool 2, Conv 6->16 k5, ReLU, MaxPool 2, FC 256->128->64->10)',
    input: 'image: [N, 28, 28, 3] float32 NHWC, (x/255 - 0.5) / 0.5',
    outputs: { logits: '[N, 10]', features: '[N, 64] (fc2 after ReLU)' },
    trainedOn: { folder: path.basename(config.data), ...manifest, trainImages: train.length, valImages: val.length },
    training: { epochs: options.epochs, batchSize: options.batchSize, lr: options.lr, optimizer: 'adam', seed: options.seed, steps: step },
    valAccuracy,
    onnxValAccuracy,
  };
  await writeFileAtomic(summaryFile, `${JSON.stringify(summary, null, 2)}\n`);
  return { onnxFile, summaryFile, epochs: epoch, steps: step, trainImages: train.length, valImages: val.length, valAccuracy, onnxValAccuracy };
}

/** Copies a trained network and its summary into this package's assets (the default grader). */
export async function installClassifier(result: TrainClassifierResult, assets: string): Promise<string[]> {
  await makeDir(assets);
  const targets = [path.join(assets, 'digit-classifier.onnx'), path.join(assets, 'digit-classifier.json')];
  await writeFileAtomic(targets[0] as string, await fs.readFile(result.onnxFile));
  await writeFileAtomic(targets[1] as string, await fs.readFile(result.summaryFile));
  return targets;
}
