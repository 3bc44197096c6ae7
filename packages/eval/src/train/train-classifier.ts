/**
 * Trains a digit classifier on a digits folder (MNIST-M by default): the homework's network, or
 * the strict grader's stronger one (networks/strict-digit-classifier-model.ts); optionally with
 * augmentation (train/augment.ts) and a cosine learning-rate decay. Exports it to ONNX with two
 * outputs, `logits` and `features` (the penultimate layer), and checks the ONNX file against the
 * trained model on the validation split; the summary holds the validation accuracy per digit.
 * Checkpoints every epoch and wherever a run stops inside one (an interrupt, an image that cannot
 * be read), atomic and resumable to the bytes of a straight run; a non-finite loss stops the run
 * and keeps the last good checkpoint.
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
  pixelsToFloat,
  Prefetcher,
  progress,
  readJsonFile,
  Rng,
  rngStateSchema,
  writeFileAtomic,
  z,
  type ImageDataset,
  type TrainingRun,
} from '@dlcv/core';
import { datasetAccuracy } from '../networks/digit-classifier';
import { buildDigitClassifier, DIGIT_SCALING, HOMEWORK_CLASSIFIER, type DigitClassifierConfig } from '../networks/digit-classifier-model';
import { buildStrictClassifier, STRICT_CLASSIFIER, STRICT_FEATURES_LAYER, type StrictClassifierConfig } from '../networks/strict-digit-classifier-model';
import { augmentDigits } from './augment';

/** The homework's network (what the assignment grades with) or the strict grader's. */
export const ARCHITECTURES = ['homework', 'strict'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

interface NetworkKind {
  build: (seed: number, options: TrainClassifierOptions) => tf.Sequential;
  features: string;
  description: string;
  asset: string;
}

const NETWORKS: Record<Architecture, NetworkKind> = {
  homework: {
    build: (seed, options) => buildDigitClassifier(options.config ?? HOMEWORK_CLASSIFIER, seed),
    features: 'fc2',
    description: 'DLCV HW2 digit classifier (Conv 3->6 k5, ReLU, MaxPool 2, Conv 6->16 k5, ReLU, MaxPool 2, FC 256->128->64->10)',
    asset: 'digit-classifier',
  },
  strict: {
    build: (seed, options) => buildStrictClassifier(options.strictConfig ?? STRICT_CLASSIFIER, seed),
    features: STRICT_FEATURES_LAYER,
    description: 'strict grader (VGG-style: Conv 3x3 32, BN, ReLU, MaxPool, [Conv 3x3 64, BN, ReLU] x2, MaxPool, Conv 3x3 128, BN, ReLU, MaxPool, flatten, FC 2048->256->10)',
    asset: 'digit-classifier-strict',
  },
};

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
  /** The strict network's widths (default STRICT_CLASSIFIER; tests shrink it). */
  strictConfig?: StrictClassifierConfig;
  /** Default 'homework'. */
  architecture?: Architecture;
  /** Shift and channel-permutation augmentation of the training images. */
  augment?: boolean;
  /** Cosine decay of the learning rate from `lr` to 0 over the epochs. */
  cosine?: boolean;
  /** Label smoothing of the cross-entropy targets (default 0: none). */
  labelSmoothing?: number;
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
  /** Validation accuracy of each digit 0-9 (tfjs model). */
  valPerDigit: number[];
}

async function accuracy(model: tf.LayersModel, set: ImageDataset): Promise<{ accuracy: number; perDigit: number[] }> {
  const correct = new Array<number>(10).fill(0);
  const total = new Array<number>(10).fill(0);
  for await (const batch of set.batches({ batchSize: 256, scaling: DIGIT_SCALING })) {
    const pred = tf.tidy(() => (model.predict(batch.x) as tf.Tensor2D).argMax(-1));
    const p = await pred.data(),
      y = await (batch.y as tf.Tensor).data();
    for (let i = 0; i < p.length; i++) {
      const label = y[i] as number;
      total[label] = (total[label] as number) + 1;
      if (p[i] === label) correct[label] = (correct[label] as number) + 1;
    }
    tf.dispose([pred, batch.x, batch.y as tf.Tensor]);
  }
  const all = correct.reduce((a, b) => a + b, 0);
  return { accuracy: all / set.length, perDigit: correct.map((c, d) => (total[d] ? c / (total[d] as number) : Number.NaN)) };
}

type TrainBatch = { x: tf.Tensor4D; y: tf.Tensor1D };

/** The training batch of images `idx`, augmented with draws from `augment` when it is given. */
async function loadBatch(set: ImageDataset, idx: number[], augment: Rng | undefined): Promise<TrainBatch> {
  if (!augment) {
    const batch = await set.getBatch(idx, DIGIT_SCALING);
    return { x: batch.x, y: batch.y as tf.Tensor1D };
  }
  const { height, width, channels } = set.shape;
  const pixels = augmentDigits(await set.getPixelsBatch(idx), idx.length, height, channels, augment);
  return {
    x: tf.tensor4d(pixelsToFloat(pixels, channels, DIGIT_SCALING), [idx.length, height, width, channels]),
    y: tf.tensor1d(
      Int32Array.from(idx, (i) => set.labels?.[i] as number),
      'int32',
    ),
  };
}

/** Cosine decay from `lr` at step 0 to 0 at `total` steps. */
export function cosineLr(lr: number, step: number, total: number): number {
  return 0.5 * lr * (1 + Math.cos((Math.PI * Math.min(step, total)) / total));
}

const stateSchema = z.object({
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  rng: rngStateSchema,
  /** Set when the run stopped inside `epoch`: its batches done, and the generator's state when it began (its order's draws). */
  batch: z.number().int().min(0).optional(),
  epochStart: rngStateSchema.optional(),
});
type State = z.infer<typeof stateSchema>;

/**
 * One epoch of cross-entropy steps over full batches, in an order drawn from `rng` when the epoch
 * begins; augmentation draws from the same generator, batch after batch. A run stopped inside the
 * epoch (an interrupt, inputs that fail to load) is checkpointed with the batches done and the
 * epoch's starting state, so that a resumed run continues exactly where it stopped.
 */
async function trainEpoch(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  train: ImageDataset,
  state: State & { rngObject: Rng },
  run: TrainingRun<State>,
  options: TrainClassifierOptions & { classes: number },
): Promise<void> {
  const { batchSize } = options;
  const rng = state.rngObject;
  const stepsPerEpoch = Math.floor(train.length / batchSize);
  const epochStart = state.epochStart ?? rng.getState();
  const orderRng = new Rng(0);
  orderRng.setState(epochStart);
  const order = orderRng.permutation(train.length);
  if (!state.epochStart) rng.setState(orderRng.getState());
  const first = state.batch ?? 0;
  const load = (b: number) => loadBatch(train, order.slice(b * batchSize, (b + 1) * batchSize), options.augment ? rng : undefined);
  // augmented batches load one at a time, so that their draws keep batch order; plain ones one ahead
  const batches: Pick<Prefetcher<TrainBatch>, 'take' | 'close'> = options.augment ? { take: load, close: async () => undefined } : new Prefetcher(load, stepsPerEpoch);
  const snapshot = (batch: number): State => ({ step: state.step, epoch: state.epoch, rng: rng.getState(), batch, epochStart });
  const bar = progress({ total: stepsPerEpoch, start: first, label: `epoch ${state.epoch + 1}/${options.epochs}`, quiet: options.quietProgress });
  try {
    for (let b = first; b < stepsPerEpoch; b++) {
      const batch = await run.takeInputs(batches.take(b), state.step, () => run.save(snapshot(b)));
      // tfjs's Adam reads its learning rate at every step.
      if (options.cosine) (optimizer as unknown as { learningRate: number }).learningRate = cosineLr(options.lr, state.step, options.epochs * stepsPerEpoch);
      const loss = optimizer.minimize(() => {
        const logits = model.apply(batch.x, { training: true }) as tf.Tensor2D;
        return tf.losses.softmaxCrossEntropy(tf.oneHot(batch.y, options.classes), logits, undefined, options.labelSmoothing ?? 0);
      }, true) as tf.Scalar;
      const value = (await loss.data())[0] as number;
      tf.dispose([batch.x, batch.y, loss]);
      state.step++;
      assertFinite({ loss: value }, state.step);
      await run.metrics.append({ step: state.step, epoch: state.epoch + 1, loss: value });
      bar.tick(1, { loss: value.toFixed(4) });
      if (run.stopSignal) throw run.interrupted(state.step, await run.save(snapshot(b + 1)));
    }
  } finally {
    bar.stop();
    await batches.close((b) => tf.dispose([b.x, b.y]));
  }
  delete state.batch;
  delete state.epochStart;
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
async function exportAndCheck(model: tf.LayersModel, onnxFile: string, val: ImageDataset, featuresLayer: string): Promise<number> {
  await exportOnnx(model, onnxFile, {
    inputNames: ['image'],
    outputNames: ['logits'],
    extraOutputs: { features: featuresLayer },
    metadata: { 'dlcv.input': 'NHWC float32, (x/255 - 0.5) / 0.5', 'dlcv.features': `${featuresLayer} after ReLU` },
  });
  return (await datasetAccuracy(onnxFile, val)).accuracy;
}

/** The summary file written beside the ONNX file (and installed with it). */
async function writeSummary(file: string, options: TrainClassifierOptions, arch: Architecture, facts: Record<string, unknown>): Promise<void> {
  const features = arch === 'homework' ? '[N, 64] (fc2 after ReLU)' : `[N, ${(options.strictConfig ?? STRICT_CLASSIFIER).features}] (${STRICT_FEATURES_LAYER} after ReLU)`;
  const summary = {
    network: NETWORKS[arch].description,
    input: 'image: [N, 28, 28, 3] float32 NHWC, (x/255 - 0.5) / 0.5',
    outputs: { logits: '[N, 10]', features },
    ...facts,
  };
  await writeFileAtomic(file, `${JSON.stringify(summary, null, 2)}\n`);
}

/**
 * What a resumed run must share with the saved one: more epochs may be asked for later, except
 * with the cosine decay, whose schedule depends on them. `recipe`: the non-default choices.
 */
function runConfig(options: TrainClassifierOptions, arch: Architecture) {
  const smoothing = options.labelSmoothing ? { labelSmoothing: options.labelSmoothing } : {};
  const plain = arch === 'homework' && !options.augment && !options.cosine;
  const recipe = plain ? smoothing : { architecture: arch, augment: options.augment === true, cosine: options.cosine === true, ...smoothing };
  const model = arch === 'homework' ? (options.config ?? HOMEWORK_CLASSIFIER) : (options.strictConfig ?? STRICT_CLASSIFIER);
  const base = { data: path.resolve(options.data), batchSize: options.batchSize, lr: options.lr, seed: options.seed, limit: options.limit ?? null, model };
  return { config: { ...base, ...recipe, ...(options.cosine ? { epochs: options.epochs } : {}) }, recipe };
}

export async function trainDigitClassifier(options: TrainClassifierOptions): Promise<TrainClassifierResult> {
  const log = options.log ?? (() => {});
  const arch = options.architecture ?? 'homework';
  const modelConfig = options.config ?? HOMEWORK_CLASSIFIER;
  const size = arch === 'homework' ? modelConfig.size : (options.strictConfig ?? STRICT_CLASSIFIER).size;
  const { config, recipe } = runConfig(options, arch);
  let train = await openDigits(options.data, 'train', { channels: 3, size });
  if (options.limit !== undefined && options.limit < train.length) train = train.subset(Array.from({ length: options.limit }, (_, i) => i));
  const val = await openDigits(options.data, 'val', { channels: 3, size });
  log(`data: ${config.data} (train ${train.length}, val ${val.length})`);
  if (train.length < options.batchSize) throw new Error(`${config.data}: ${train.length} training images are fewer than one batch of ${options.batchSize}`);

  // model, optimizer, run
  const model = NETWORKS[arch].build(options.seed, options);
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
  let val0: { accuracy: number; perDigit: number[] } | undefined;
  try {
    while (state.epoch < options.epochs) {
      await trainEpoch(model, optimizer, train, state, run, { ...options, classes: modelConfig.classes });
      state.epoch++;
      val0 = await accuracy(model, val);
      await run.metrics.append({ step: state.step, epoch: state.epoch, valAccuracy: val0.accuracy });
      log(`epoch ${state.epoch}: val accuracy ${(100 * val0.accuracy).toFixed(2)}%`);
      await run.save({ step: state.step, epoch: state.epoch, rng: rng.getState() });
    }
  } finally {
    run.close();
    await run.metrics.flush();
  }
  const { accuracy: valAccuracy, perDigit: valPerDigit } = val0 ?? (await accuracy(model, val));

  // export, then grade the validation split through the ONNX file
  const onnxFile = path.join(options.runDir, `${NETWORKS[arch].asset}.onnx`);
  const onnxValAccuracy = await exportAndCheck(model, onnxFile, val, NETWORKS[arch].features);
  model.dispose();
  optimizer.dispose();

  // Which data: the embedded sets carry a manifest naming their recipe and seed.
  const manifest = await embeddedManifest(config.data);
  const summaryFile = path.join(options.runDir, `${NETWORKS[arch].asset}.json`);
  await writeSummary(summaryFile, options, arch, {
    trainedOn: { folder: path.basename(config.data), ...manifest, trainImages: train.length, valImages: val.length },
    training: {
      epochs: options.epochs,
      batchSize: options.batchSize,
      lr: options.lr,
      optimizer: 'adam',
      seed: options.seed,
      steps: state.step,
      ...(Object.keys(recipe).length ? { augment: options.augment === true, cosine: options.cosine === true, labelSmoothing: options.labelSmoothing ?? 0 } : {}),
    },
    valAccuracy,
    onnxValAccuracy,
    valPerDigit,
  });
  return { onnxFile, summaryFile, epochs: state.epoch, steps: state.step, trainImages: train.length, valImages: val.length, valAccuracy, onnxValAccuracy, valPerDigit };
}

/** Copies a trained network and its summary into this package's assets (as the default grader of its kind). */
export async function installClassifier(result: TrainClassifierResult, assets: string): Promise<string[]> {
  await makeDir(assets);
  const targets = [path.join(assets, path.basename(result.onnxFile)), path.join(assets, path.basename(result.summaryFile))];
  await writeFileAtomic(targets[0] as string, await fs.readFile(result.onnxFile));
  await writeFileAtomic(targets[1] as string, await fs.readFile(result.summaryFile));
  return targets;
}
