import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { readImage, Rng, setupEngine } from '@dlcv/core';
import type { BatchNorm2d } from '@dlcv/core';
import { createGenerator, noiseBatch } from './model';
import { computePreciseStats, generateImages, generateToFolder, preciseStatsShapes, sampleName, STREAMS, withBatchNormStats } from './sampling';
import { fileBytes, SMALL_CALIBRATION, tempDir, TINY, TS_REGISTER } from './test-utils/fixtures';

let tmp: string;
beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  tmp = await tempDir('sampling');
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('sampleName', () => {
  it('uses four digits, more when the count needs them', () => {
    expect(sampleName(0, 1000)).toBe('0000.png');
    expect(sampleName(999, 1000)).toBe('0999.png');
    expect(sampleName(42, 12000)).toBe('00042.png');
  });
});

describe('generateToFolder', () => {
  let g: tf.LayersModel;
  beforeAll(() => {
    g = createGenerator(TINY, new Rng(1));
  });

  it('writes 0000.png... with the same bytes for the same seed, whatever the batch size', async () => {
    const a = await generateToFolder(g, path.join(tmp, 'a'), { count: 12, seed: 7, nz: TINY.nz, batchSize: 5, calibration: SMALL_CALIBRATION });
    const b = await generateToFolder(g, path.join(tmp, 'b'), { count: 12, seed: 7, nz: TINY.nz, batchSize: 12, calibration: SMALL_CALIBRATION });
    expect(a.map((f) => path.basename(f))).toEqual(Array.from({ length: 12 }, (_, i) => `${String(i).padStart(4, '0')}.png`));
    expect(await fs.readdir(path.join(tmp, 'a'))).toHaveLength(12);
    expect(await fileBytes(a)).toEqual(await fileBytes(b));
    const img = await readImage(a[0] as string);
    expect([img.width, img.height, img.channels]).toEqual([64, 64, 3]);
  });

  it('another seed gives other images, and the in-memory images are the files', async () => {
    const a = await generateToFolder(g, path.join(tmp, 'c'), { count: 3, seed: 7, nz: TINY.nz, calibration: SMALL_CALIBRATION });
    const b = await generateToFolder(g, path.join(tmp, 'd'), { count: 3, seed: 8, nz: TINY.nz, calibration: SMALL_CALIBRATION });
    const [ba, bb] = [await fileBytes(a), await fileBytes(b)];
    ba.forEach((bytes, i) => expect(bytes.equals(bb[i] as Buffer)).toBe(false));
    const mem = await generateImages(g, { count: 3, seed: 7, nz: TINY.nz, batchSize: 2, calibration: SMALL_CALIBRATION });
    for (const [i, file] of a.entries()) expect(Buffer.from((await readImage(file)).data)).toEqual(Buffer.from(mem[i]?.data as Uint8Array));
  });
});

describe('the ONNX Runtime path', () => {
  it('is deterministic on its own and within one level of the tfjs images', async () => {
    const out = path.join(tmp, 'onnx');
    const here = path.join(__dirname, 'test-utils');
    await promisify(execFile)(process.execPath, ['-r', TS_REGISTER, path.join(here, 'onnx-child.ts'), out]);
    const names = (await fs.readdir(path.join(out, 'tfjs'))).sort();
    expect(names).toHaveLength(6);
    const read = (dir: string) => fileBytes(names.map((n) => path.join(out, dir, n)));
    expect(await read('onnx-a')).toEqual(await read('onnx-b'));
    let maxDiff = 0;
    for (const n of names) {
      const [a, b] = await Promise.all([readImage(path.join(out, 'tfjs', n)), readImage(path.join(out, 'onnx-a', n))]);
      a.data.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - (b.data[i] as number)))));
    }
    expect(maxDiff).toBeLessThanOrEqual(1);
  });
});

describe('precise BatchNorm statistics', () => {
  it('are plain averages over the calibration noise with the current weights; G is left as it was', async () => {
    const g = createGenerator(TINY, new Rng(4));
    const bn = g.layers[1] as BatchNorm2d;
    bn.setWeights([...bn.getWeights().slice(0, 2), tf.fill([bn.numFeatures], 0.5), tf.fill([bn.numFeatures], 3)]);
    // Independent: the first BatchNorm's input is conv-transpose(z), over all calibration z at once
    // (equal batches: the mean of batch means is the overall mean).
    const calibration = { batches: 3, batchSize: 5 };
    const allZ = noiseBatch(new Rng(0, STREAMS.calibrate), 15, TINY.nz);
    const expectedMean = tf.mean(g.layers[0]?.apply(allZ) as tf.Tensor, [0, 1, 2]).dataSync();
    const stats = await computePreciseStats(g, TINY.nz, calibration);
    expect(stats.map((t) => t.shape)).toEqual(preciseStatsShapes(g));
    (stats[0] as tf.Tensor).dataSync().forEach((v: number, c: number) => expect(v).toBeCloseTo(expectedMean[c] as number, 5));
    expect(Array.from(bn.getWeights()[2]?.dataSync() ?? [])).toEqual(Array(bn.numFeatures).fill(0.5));
    expect(Array.from(bn.getWeights()[3]?.dataSync() ?? [])).toEqual(Array(bn.numFeatures).fill(3));
    // withBatchNormStats puts them in for the call only.
    const inside = await withBatchNormStats(g, stats, async () => Array.from(bn.getWeights()[2]?.dataSync() ?? []));
    expect(inside).toEqual(Array.from((stats[0] as tf.Tensor).dataSync()));
    expect(Array.from(bn.getWeights()[2]?.dataSync() ?? [])).toEqual(Array(bn.numFeatures).fill(0.5));
  });

  it("the calibration's seed picks its noise stream; none is seed 0", async () => {
    const g = createGenerator(TINY, new Rng(4));
    const calibration = { batches: 2, batchSize: 4 };
    const firstMean = async (seed: number) => tf.mean(g.layers[0]?.apply(noiseBatch(new Rng(seed, STREAMS.calibrate), 8, TINY.nz)) as tf.Tensor, [0, 1, 2]).dataSync();
    // One after another: each puts G's BatchNorms into averaging mode while it runs.
    const none = await computePreciseStats(g, TINY.nz, calibration);
    const zero = await computePreciseStats(g, TINY.nz, { ...calibration, seed: 0 });
    const seven = await computePreciseStats(g, TINY.nz, { ...calibration, seed: 7 });
    expect(Array.from((none[0] as tf.Tensor).dataSync())).toEqual(Array.from((zero[0] as tf.Tensor).dataSync()));
    const expected7 = await firstMean(7);
    (seven[0] as tf.Tensor).dataSync().forEach((v: number, c: number) => expect(v).toBeCloseTo(expected7[c] as number, 5));
    const expected0 = await firstMean(0);
    expect((seven[0] as tf.Tensor).dataSync().some((v: number, c: number) => Math.abs(v - (expected0[c] as number)) > 1e-3)).toBe(true);
  });

  it("'running' samples with the saved statistics, which gives other images", async () => {
    const g = createGenerator(TINY, new Rng(4));
    const precise = await generateImages(g, { count: 2, seed: 1, nz: TINY.nz, calibration: SMALL_CALIBRATION });
    const running = await generateImages(g, { count: 2, seed: 1, nz: TINY.nz, bn: 'running' });
    const again = await generateImages(g, { count: 2, seed: 1, nz: TINY.nz, bn: 'running' });
    expect(Buffer.from(running[0]?.data as Uint8Array).equals(Buffer.from(precise[0]?.data as Uint8Array))).toBe(false);
    expect(Buffer.from(running[0]?.data as Uint8Array).equals(Buffer.from(again[0]?.data as Uint8Array))).toBe(true);
  });
});
