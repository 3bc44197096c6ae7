import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx, OnnxGraph, Rng, setupEngine, writePng } from '@dlcv/core';
import { featureSet, frechetDistance } from '../fid/frechet';
import { readStatsFile } from '../fid/stats-file';
import { gradeFid, saveFidStats } from './fid';

/** These tests' sets are small: the homework's 1000-image minimum is tested on its own. */
const SMALL = { minImages: 2 };

let dir: string;
let model: string;
// HWC indices of the pixels the test network passes through as its "features".
const PICK = [0, 100, 501, 2000];

/** A 28x28 "digit classifier" whose features are the normalised values of four pixels. */
async function writeModel(): Promise<void> {
  const m = tf.sequential();
  m.add(tf.layers.flatten({ inputShape: [28, 28, 3] }));
  m.add(tf.layers.dense({ units: PICK.length, useBias: false, name: 'pick' }));
  m.add(tf.layers.dense({ units: 10, name: 'fc3' }));
  const w = new Float32Array(2352 * PICK.length);
  PICK.forEach((p, k) => (w[p * PICK.length + k] = 1));
  const w3 = tf.randomNormal([PICK.length, 10], 0, 1, 'float32', 1);
  m.setWeights([tf.tensor2d(w, [2352, PICK.length]), w3, tf.zeros([10])]);
  model = path.join(dir, 'pick.onnx');
  await exportOnnx(m, model, { outputNames: ['logits'], extraOutputs: { features: 'pick' } });
}

/** Writes n random 28x28 images; returns their features computed by hand. */
async function writeSet(folder: string, n: number, seed: number, bias: number): Promise<number[]> {
  await fs.mkdir(folder, { recursive: true });
  const rng = new Rng(seed);
  const feats: number[] = [];
  for (let i = 0; i < n; i++) {
    const data = new Uint8Array(2352);
    for (let j = 0; j < data.length; j++) data[j] = Math.min(255, rng.int(200) + bias);
    await writePng(path.join(folder, `${String(i).padStart(3, '0')}.png`), { width: 28, height: 28, channels: 3, data });
    for (const p of PICK) feats.push(((data[p] as number) / 255 - 0.5) / 0.5);
  }
  return feats;
}

let featsA: number[], featsB: number[];
let setA: string, setB: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-fid-'));
  await writeModel();
  setA = path.join(dir, 'a');
  setB = path.join(dir, 'b');
  featsA = await writeSet(setA, 12, 1, 0);
  featsB = await writeSet(setB, 9, 2, 40);
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const close = (got: number, want: number, rel = 1e-6) => expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));

test('folder vs folder: the distance of the hand-computed features, labelled as not Inception FID', async () => {
  const r = await gradeFid(setA, setB, { ...SMALL, features: 'digit-classifier', digitModel: model });
  const want = frechetDistance({ features: featureSet(featsA, 12, 4) }, { features: featureSet(featsB, 9, 4) }).value;
  // float32 network outputs vs float64 hand values: agreement to ~1e-6.
  close(r.value, want);
  expect(r.metric).toBe('FD');
  expect(r.network.isInception).toBe(false);
  expect(r.label).toMatch(/NOT Inception FID/);
  expect(r.network.id).toBe('dlcv-digit-classifier-fc2-4');
  expect(r.sets.map((s) => s.n)).toEqual([12, 9]);
  expect(r.kid?.subsetSize).toBe(9);
  expect(r.kid?.subsets).toBe(100);
  // Same command, same numbers (KID subsets are seeded).
  expect(await gradeFid(setA, setB, { ...SMALL, features: 'digit-classifier', digitModel: model })).toEqual(r);
  const self = await gradeFid(setA, setA, { ...SMALL, features: 'digit-classifier', digitModel: model });
  expect(Math.abs(self.value)).toBeLessThan(1e-9);
});

test('--save-stats then folder vs statistics gives the same distance; KID is then not available', async () => {
  const statsFile = path.join(dir, 'b-stats.json');
  const saved = await saveFidStats(setB, statsFile, { ...SMALL, features: 'digit-classifier', digitModel: model });
  expect(saved).toMatchObject({ n: 9, dim: 4, network: 'dlcv-digit-classifier-fc2-4' });
  const back = await readStatsFile(statsFile);
  expect(back.stats.n).toBe(9);
  const both = await gradeFid(setA, setB, { ...SMALL, features: 'digit-classifier', digitModel: model });
  // The network is taken from the statistics file when not given.
  const vsStats = await gradeFid(setA, statsFile, { ...SMALL, digitModel: model });
  close(vsStats.value, both.value, 1e-9);
  expect(vsStats.kid).toBeNull();
  expect(vsStats.kidNote).toMatch(/statistics file/);
  expect(vsStats.sets[1].kind).toBe('statistics');
});

test('clear errors: network mismatch, .npz for non-Inception features, missing Inception file, unreadable images', async () => {
  const statsFile = path.join(dir, 'a-stats.json');
  await saveFidStats(setA, statsFile, { ...SMALL, features: 'digit-classifier', digitModel: model });
  await expect(gradeFid(setB, statsFile, { ...SMALL, features: 'face-descriptor' })).rejects.toThrow(
    /a-stats\.json: statistics of "dlcv-digit-classifier-fc2-4" features, but the features in use are "face-api/,
  );
  await expect(saveFidStats(setA, path.join(dir, 'x.npz'), { ...SMALL, features: 'digit-classifier', digitModel: model })).rejects.toThrow(
    /save dlcv-digit-classifier-fc2-4 statistics as \.json/,
  );
  const saved = process.env.DLCV_INCEPTION_ONNX;
  process.env.DLCV_INCEPTION_ONNX = path.join(dir, 'absent-inception.onnx');
  try {
    await expect(gradeFid(setA, setB, { ...SMALL, features: 'inception' })).rejects.toThrow(/no Inception ONNX file: pass --inception FILE/);
  } finally {
    if (saved === undefined) delete process.env.DLCV_INCEPTION_ONNX;
    else process.env.DLCV_INCEPTION_ONNX = saved;
  }
  const bad = path.join(dir, 'bad');
  await writeSet(bad, 3, 3, 0);
  await fs.writeFile(path.join(bad, 'zz.png'), 'broken');
  await expect(gradeFid(setA, bad, { ...SMALL, features: 'digit-classifier', digitModel: model })).rejects.toThrow(/1 file: zz\.png \(not a readable image.*--skip-bad/);
  const skipped = await gradeFid(setA, bad, { ...SMALL, features: 'digit-classifier', digitModel: model, skipBad: true });
  expect(skipped.sets[1].n).toBe(3);
  expect(skipped.sets[1].skipped.map((s) => path.basename(s.file))).toEqual(['zz.png']);
});

test('the Inception contract: NCHW [0, 1] input of any size, 2048-d output, labelled FID', async () => {
  // Stand-in with pytorch-fid's interface: feature j = (1 + j / 2048) * mean of channel j % 3.
  const g = new OnnxGraph();
  g.addInput({ name: 'images', type: 'float32', shape: [null, 3, null, null] });
  g.reserve('pool3');
  const w = new Float32Array(3 * 2048);
  for (let j = 0; j < 2048; j++) w[(j % 3) * 2048 + j] = 1 + j / 2048;
  const pooled = g.op('Flatten', [g.op('GlobalAveragePool', ['images'])], { axis: 1 });
  g.addOutput({ name: 'pool3', type: 'float32', shape: [null, 2048] }, g.op('MatMul', [pooled, g.float('w', w, [3, 2048])]));
  const inception = path.join(dir, 'fake-inception.onnx');
  await fs.writeFile(inception, g.toModel({ graphName: 'fake' }));
  const feats = async (folder: string, n: number, seed: number) => {
    await fs.mkdir(folder, { recursive: true });
    const rng = new Rng(seed);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const data = new Uint8Array(6 * 5 * 3);
      for (let j = 0; j < data.length; j++) data[j] = rng.int(256);
      await writePng(path.join(folder, `${i}.png`), { width: 6, height: 5, channels: 3, data });
      const means = [0, 1, 2].map((c) => data.filter((_, j) => j % 3 === c).reduce((a, b) => a + b / 255, 0) / 30);
      for (let j = 0; j < 2048; j++) out.push((1 + j / 2048) * (means[j % 3] as number));
    }
    return out;
  };
  const fa = await feats(path.join(dir, 'ia'), 5, 7);
  const fb = await feats(path.join(dir, 'ib'), 4, 8);
  const r = await gradeFid(path.join(dir, 'ia'), path.join(dir, 'ib'), { ...SMALL, inception });
  expect(r.metric).toBe('FID');
  expect(r.network.isInception).toBe(true);
  expect(r.label).toBe('FID (Inception-V3 pool3, pytorch-fid weights)');
  close(r.value, frechetDistance({ features: featureSet(fa, 5, 2048) }, { features: featureSet(fb, 4, 2048) }).value);
});

test('a folder with fewer images than the homework set is refused unless a smaller minimum is given', async () => {
  const err = (await gradeFid(setA, setB, { features: 'digit-classifier', digitModel: model }).catch((e: unknown) => e)) as Error;
  expect(err.message).toMatch(
    new RegExp(`^${setA}: \\d+ images, fewer than the 1000 expected \\(the homework compares 1000 generated faces .*\\); pass --min-images \\d+ to grade them anyway$`),
  );
});
