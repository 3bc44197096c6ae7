import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findLatestCheckpoint, formatLabelCsv, InputsFailedError, InterruptedError, NonFiniteLossError, readMetrics, Rng, setupEngine, writePng } from '@dlcv/core';
import { trainDigitClassifier, type TrainClassifierOptions, type TrainClassifierResult } from './train-classifier';

let dir: string;
let data: string;
const TINY = { size: 28, conv1: 2, conv2: 2, fc1: 8, fc2: 4, classes: 10 };
const TINY_STRICT = { size: 28, c1: 2, c2: 2, c3: 4, features: 4, classes: 10 };

/** A homework-layout digits folder whose classes are easy: a bright bar at column 2 + 2 * label. */
async function writeDigits(root: string, train: number, val: number): Promise<void> {
  const rng = new Rng(11);
  const rows = { train: [] as { imageName: string; label: number }[], val: [] as { imageName: string; label: number }[] };
  for (let i = 0; i < train + val; i++) {
    const label = i % 10;
    const px = new Uint8Array(28 * 28 * 3);
    for (let j = 0; j < px.length; j++) px[j] = rng.int(60);
    for (let y = 4; y < 24; y++) for (let c = 0; c < 3; c++) px[(y * 28 + 2 + 2 * label) * 3 + c] = 250;
    const imageName = `${String(i).padStart(5, '0')}.png`;
    await writePng(path.join(root, 'data', imageName), { width: 28, height: 28, channels: 3, data: px });
    (i < train ? rows.train : rows.val).push({ imageName, label });
  }
  await fs.writeFile(path.join(root, 'train.csv'), formatLabelCsv(rows.train));
  await fs.writeFile(path.join(root, 'val.csv'), formatLabelCsv(rows.val));
}

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-train-'));
  data = path.join(dir, 'mnistm');
  await writeDigits(data, 40, 20);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const opts = (runDir: string, epochs: number, extra: Partial<TrainClassifierOptions> = {}): TrainClassifierOptions => ({
  data,
  runDir,
  epochs,
  batchSize: 8,
  lr: 0.01,
  seed: 3,
  config: TINY,
  quietProgress: true,
  ...extra,
});

test('same command, same ONNX bytes; a resumed run ends where a straight one does; ONNX agrees with tfjs', async () => {
  const straight = await trainDigitClassifier(opts(path.join(dir, 'a'), 3));
  const again = await trainDigitClassifier(opts(path.join(dir, 'a2'), 3));
  expect((await fs.readFile(again.onnxFile)).equals(await fs.readFile(straight.onnxFile))).toBe(true);
  await trainDigitClassifier(opts(path.join(dir, 'b'), 1));
  const resumed = await trainDigitClassifier(opts(path.join(dir, 'b'), 3, { resume: true }));
  expect(resumed.steps).toBe(15);
  expect(straight.steps).toBe(15);
  // the checkpoint keeps Adam's accumulated beta powers as they were: the same bytes
  expect((await fs.readFile(resumed.onnxFile)).equals(await fs.readFile(straight.onnxFile))).toBe(true);
  expect(resumed.valAccuracy).toBe(straight.valAccuracy);
  expect(straight.onnxValAccuracy).toBe(straight.valAccuracy);
  // It learns: the mean loss of the last epoch is below the first's.
  const { records } = await readMetrics(path.join(dir, 'a', 'metrics.jsonl'));
  const losses = (e: number) => records.filter((r) => r.epoch === e && typeof r.loss === 'number').map((r) => r.loss as number);
  const meanLoss = (e: number) => losses(e).reduce((a, b) => a + b, 0) / losses(e).length;
  expect(losses(1)).toHaveLength(5);
  expect(meanLoss(3)).toBeLessThan(meanLoss(1));
  const summary = JSON.parse(await fs.readFile(straight.summaryFile, 'utf8'));
  expect(summary.valAccuracy).toBe(straight.valAccuracy);
});

describe('a run stopped inside an epoch resumes to the bytes of a straight one', () => {
  const sameOnnx = async (a: TrainClassifierResult, b: TrainClassifierResult) => (await fs.readFile(a.onnxFile)).equals(await fs.readFile(b.onnxFile));
  // the first step of epoch 2 is trained when the signal is seen
  const interruptAfterEpoch1 = (m: string) => {
    if (m.startsWith('epoch 1:')) process.emit('SIGINT', 'SIGINT');
  };

  test.each([
    ['the homework network', {}, 6],
    ['augmented, with cosine decay', { architecture: 'strict' as const, augment: true, cosine: true, strictConfig: TINY_STRICT, limit: 24 }, 4],
  ])('interrupted: %s', async (_, extra, stoppedAt) => {
    const name = `int-${stoppedAt}`;
    const straight = await trainDigitClassifier(opts(path.join(dir, `${name}-straight`), 2, extra));
    const runDir = path.join(dir, name);
    const err = await trainDigitClassifier(opts(runDir, 2, { ...extra, log: interruptAfterEpoch1 })).catch((e: unknown) => e);
    const kept = path.join(runDir, 'checkpoints', `step-${String(stoppedAt).padStart(8, '0')}`);
    expect(err).toBeInstanceOf(InterruptedError);
    expect((err as Error).message).toBe(`interrupted by SIGINT after step ${stoppedAt}; checkpoint ${kept}; continue with the same command and --resume`);
    const resumed = await trainDigitClassifier(opts(runDir, 2, { ...extra, resume: true }));
    expect([resumed.steps, await sameOnnx(resumed, straight)]).toEqual([straight.steps, true]);
  });

  test('an image that cannot be read stops the run naming it, with the batches done checkpointed', async () => {
    const root = path.join(dir, 'unreadable-data');
    await writeDigits(root, 40, 20);
    const straight = await trainDigitClassifier({ ...opts(path.join(dir, 'unreadable-straight'), 2), data: root });
    // an image of the third batch (each image is first read in epoch 1, in the order Rng(seed) draws)
    const file = path.join(root, 'data', `${String(new Rng(3).permutation(40)[2 * 8]).padStart(5, '0')}.png`);
    const good = await fs.readFile(file);
    await fs.writeFile(file, good.subarray(0, 20));
    const runDir = path.join(dir, 'unreadable');
    const err = await trainDigitClassifier({ ...opts(runDir, 2), data: root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputsFailedError);
    expect((err as Error).message).toMatch(
      new RegExp(`^${file}: not a readable image .*\\nstopped after step 2; checkpoint ${path.join(runDir, 'checkpoints', 'step-00000002')}; mend the data`),
    );
    await fs.writeFile(file, good);
    expect(await sameOnnx(await trainDigitClassifier({ ...opts(runDir, 2, { resume: true }), data: root }), straight)).toBe(true);
  });
});

test('resuming with another configuration is refused', async () => {
  await trainDigitClassifier(opts(path.join(dir, 'c'), 1));
  await expect(trainDigitClassifier(opts(path.join(dir, 'c'), 2, { resume: true, batchSize: 4 }))).rejects.toThrow(/the run was made with other settings \(batchSize: 8 -> 4\)/);
  // Without --resume a folder that holds checkpoints is not trained over.
  await expect(trainDigitClassifier(opts(path.join(dir, 'c'), 2))).rejects.toThrow(/already holds checkpoints \(step-00000005\): pass --resume/);
});

test('a non-finite loss stops the run before saving; the last good checkpoint stays', async () => {
  const run = path.join(dir, 'nan');
  await trainDigitClassifier(opts(run, 1));
  const good = await findLatestCheckpoint(run);
  // Same configuration but a learning rate that overflows the weights.
  await expect(trainDigitClassifier(opts(path.join(dir, 'nan2'), 1, { lr: 1e38 }))).rejects.toThrow(NonFiniteLossError);
  expect(await findLatestCheckpoint(path.join(dir, 'nan2'))).toBeUndefined();
  expect(await findLatestCheckpoint(run)).toBe(good);
});

test('the strict network with augmentation and cosine decay: deterministic, exported with features, per-digit accuracy', async () => {
  const a = await trainDigitClassifier(opts(path.join(dir, 's1'), 2, { architecture: 'strict', augment: true, cosine: true, strictConfig: TINY_STRICT, limit: 16 }));
  const b = await trainDigitClassifier(opts(path.join(dir, 's2'), 2, { architecture: 'strict', augment: true, cosine: true, strictConfig: TINY_STRICT, limit: 16 }));
  expect(path.basename(a.onnxFile)).toBe('digit-classifier-strict.onnx');
  expect((await fs.readFile(b.onnxFile)).equals(await fs.readFile(a.onnxFile))).toBe(true);
  expect(a.onnxValAccuracy).toBe(a.valAccuracy);
  expect(a.valPerDigit).toHaveLength(10);
  // 20 val images, 2 of each digit: the overall accuracy is the mean of the per-digit ones.
  expect(a.valPerDigit.reduce((s, v) => s + v, 0) / 10).toBeCloseTo(a.valAccuracy, 10);
  const summary = JSON.parse(await fs.readFile(a.summaryFile, 'utf8'));
  expect(summary.training).toMatchObject({ augment: true, cosine: true });
  expect(summary.outputs.features).toBe('[N, 4] (fc1 after ReLU)');
  // The cosine schedule is part of the run: more epochs on resume are refused.
  await expect(
    trainDigitClassifier(opts(path.join(dir, 's1'), 3, { architecture: 'strict', augment: true, cosine: true, strictConfig: TINY_STRICT, limit: 16, resume: true })),
  ).rejects.toThrow(/other settings \(epochs: 2 -> 3\)/);
});

test('label smoothing changes the trained weights, is recorded, and is part of the run', async () => {
  const strict = { architecture: 'strict' as const, augment: true, cosine: true, strictConfig: TINY_STRICT, limit: 16 };
  const plain = await trainDigitClassifier(opts(path.join(dir, 'ls0'), 1, strict));
  const smooth = await trainDigitClassifier(opts(path.join(dir, 'ls1'), 1, { ...strict, labelSmoothing: 0.1 }));
  expect((await fs.readFile(smooth.onnxFile)).equals(await fs.readFile(plain.onnxFile))).toBe(false);
  const summary = JSON.parse(await fs.readFile(smooth.summaryFile, 'utf8'));
  expect(summary.training.labelSmoothing).toBe(0.1);
  expect(JSON.parse(await fs.readFile(plain.summaryFile, 'utf8')).training.labelSmoothing).toBe(0);
  await expect(trainDigitClassifier(opts(path.join(dir, 'ls0'), 1, { ...strict, labelSmoothing: 0.1, resume: true }))).rejects.toThrow(/other settings \(labelSmoothing/);
});
