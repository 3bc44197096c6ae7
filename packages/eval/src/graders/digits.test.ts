import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { exportOnnx, OnnxGraph, setupEngine, writePng, type RawImage } from '@dlcv/core';
import { digitLabelOf, digitSetShortfall, gradeDigits, parseDigitSetShape } from './digits';
import { gradeDann } from './dann';
import { GradeInputError } from '../files';
import { strictDigitsScore } from '../homework';

/** These tests' sets are small: the homework's 10 x 100 shape is tested on its own. */
const PARTIAL = { allowPartial: true };

let dir: string;
let nhwcModel: string;
let nchwModel: string;
let shiftedModel: string;

/**
 * A "classifier" whose answer is known without running it: the class is the column of the
 * brightest red pixel among the first ten of the top row.
 */
async function writeModels(): Promise<void> {
  const m = tf.sequential();
  m.add(tf.layers.flatten({ inputShape: [28, 28, 3] }));
  m.add(tf.layers.dense({ units: 10, useBias: false, name: 'fc' }));
  const w = new Float32Array(28 * 28 * 3 * 10);
  for (let k = 0; k < 10; k++) w[3 * k * 10 + k] = 1; // HWC index of (row 0, col k, red) = 3k
  m.setWeights([tf.tensor2d(w, [28 * 28 * 3, 10])]);
  nhwcModel = path.join(dir, 'nhwc.onnx');
  await exportOnnx(m, nhwcModel, { outputNames: ['logits'] });
  // A network that answers the column plus one (mod 10): it never agrees with the one above.
  const ws = new Float32Array(28 * 28 * 3 * 10);
  for (let k = 0; k < 10; k++) ws[3 * k * 10 + ((k + 1) % 10)] = 1;
  m.setWeights([tf.tensor2d(ws, [28 * 28 * 3, 10])]);
  shiftedModel = path.join(dir, 'shifted.onnx');
  await exportOnnx(m, shiftedModel, { outputNames: ['logits'] });
  // The same rule for an NCHW network (as exported from PyTorch): CHW index of (red, 0, k) = k.
  const g = new OnnxGraph();
  g.addInput({ name: 'input', type: 'float32', shape: [null, 3, 28, 28] });
  g.reserve('output');
  const wc = new Float32Array(3 * 28 * 28 * 10);
  for (let k = 0; k < 10; k++) wc[k * 10 + k] = 1;
  const flat = g.op('Flatten', ['input'], { axis: 1 });
  g.addOutput({ name: 'output', type: 'float32', shape: [null, 10] }, g.op('MatMul', [flat, g.float('w', wc, [3 * 28 * 28, 10])]));
  nchwModel = path.join(dir, 'nchw.onnx');
  await fs.writeFile(nchwModel, g.toModel({ graphName: 'nchw' }));
}

/** A 28x28 RGB image whose brightest top-row red pixel is at column `col`, noise below. */
function digitImage(col: number, size = 28): RawImage {
  const data = new Uint8Array(size * size * 3);
  for (let i = 3 * size; i < data.length; i++) data[i] = (i * 37) % 256;
  for (let k = 0; k < 10; k++) data[3 * k] = 40;
  data[3 * col] = 250;
  return { width: size, height: size, channels: 3, data };
}

const CASES: [string, number][] = [
  ['0_001.png', 0],
  ['0_002.png', 3],
  ['1_001.png', 1],
  ['2_001.png', 2],
  ['5_001.png', 5],
  ['5_002.png', 5],
  ['5_003.png', 7],
  ['9_100.png', 9],
];

async function makeFolder(name: string, extra: (folder: string) => Promise<void> = async () => {}): Promise<string> {
  const folder = path.join(dir, name);
  await fs.mkdir(folder, { recursive: true });
  for (const [file, col] of CASES) await writePng(path.join(folder, file), digitImage(col));
  await extra(folder);
  return folder;
}

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-digits-'));
  await writeModels();
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('labels come from the first character of <label>_<nnn>.png', () => {
  expect(digitLabelOf('7_042.png')).toBe(7);
  expect(digitLabelOf('0_1.JPG')).toBe(0);
  expect(digitLabelOf('10_001.png')).toBeUndefined();
  expect(digitLabelOf('x_001.png')).toBeUndefined();
  expect(digitLabelOf('7.png')).toBeUndefined();
});

test('accuracy overall and per class, with NHWC and NCHW networks', async () => {
  const folder = await makeFolder('good', async (f) => {
    await fs.writeFile(path.join(f, 'notes.txt'), 'not an image');
  });
  for (const model of [nhwcModel, nchwModel]) {
    const r = await gradeDigits(folder, { ...PARTIAL, model });
    expect(r.model.layout).toBe(model === nhwcModel ? 'NHWC' : 'NCHW');
    expect(r.total).toBe(8);
    expect(r.correct).toBe(6);
    expect(r.accuracy).toBe(0.75);
    expect(r.perClass[0]).toEqual({ label: 0, total: 2, correct: 1, accuracy: 0.5 });
    expect(r.perClass[5]).toEqual({ label: 5, total: 3, correct: 2, accuracy: 2 / 3 });
    expect(r.perClass[9]).toEqual({ label: 9, total: 1, correct: 1, accuracy: 1 });
    expect(r.perClass[4]).toEqual({ label: 4, total: 0, correct: 0, accuracy: null });
    expect(r.ignored).toEqual([{ file: path.join(folder, 'notes.txt'), reason: 'not a .png/.jpg file' }]);
    expect(r.skipped).toEqual([]);
  }
});

test('a strict network grades the same images beside the homework one', async () => {
  const folder = await makeFolder('strict');
  const r = await gradeDigits(folder, { ...PARTIAL, model: nhwcModel, strictModel: shiftedModel });
  expect(r.accuracy).toBe(0.75);
  expect(r.strict?.model).toEqual({ file: shiftedModel, layout: 'NHWC' });
  expect(r.strict?.correct).toBe(0);
  expect(r.strict?.accuracy).toBe(0);
  expect(r.strict?.perClass[5]).toEqual({ label: 5, total: 3, correct: 0, accuracy: 0 });
  // What `digits --save` adds for the report: the strict score as a row of its own, without the homework's baselines.
  expect(strictDigitsScore(r)).toEqual([
    { problem: '2', metric: 'strict digit-classifier accuracy (not the homework grader)', value: 0, simple: null, strong: null, higherIsBetter: true, unit: '%' },
  ]);
  const same = await gradeDigits(folder, { ...PARTIAL, model: nhwcModel, strictModel: nchwModel });
  expect(same.strict?.perClass).toEqual(same.perClass);
  // A --model of one's own alone: no strict score.
  const alone = await gradeDigits(folder, { ...PARTIAL, model: nhwcModel });
  expect(alone.strict).toBeUndefined();
  expect(strictDigitsScore(alone)).toEqual([]);
  await expect(gradeDigits(folder, { ...PARTIAL, model: nhwcModel, strictModel: path.join(dir, 'missing.onnx') })).rejects.toThrow(/missing\.onnx/);
});

test('bad names, wrong sizes and unreadable images stop grading, or are skipped and listed', async () => {
  const folder = await makeFolder('bad', async (f) => {
    await writePng(path.join(f, 'x_001.png'), digitImage(1));
    await writePng(path.join(f, '3_001.png'), digitImage(3, 32));
    await fs.writeFile(path.join(f, '4_001.png'), 'this is not a PNG');
  });
  await expect(gradeDigits(folder, { ...PARTIAL, model: nhwcModel })).rejects.toThrow(/1 file: x_001\.png \(name does not start with a digit label/);
  const skipped = await gradeDigits(folder, { ...PARTIAL, model: nhwcModel, skipBad: true });
  expect(skipped.total).toBe(8);
  expect(skipped.correct).toBe(6);
  expect(skipped.skipped.map((s) => path.basename(s.file))).toEqual(['3_001.png', '4_001.png', 'x_001.png']);
  expect(skipped.skipped[0]?.reason).toMatch(/expected 28x28 pixels, got 32x32/);
  expect(skipped.skipped[1]?.reason).toMatch(/not a readable image/);

  await fs.rm(path.join(folder, 'x_001.png'));
  await expect(gradeDigits(folder, { ...PARTIAL, model: nhwcModel })).rejects.toThrow(/2 files: 3_001\.png \(expected 28x28 pixels, got 32x32\), 4_001\.png/);
  // Resizing accepts the 32x32 image (its bright pixel survives the resize); the broken one stays out.
  const resized = await gradeDigits(folder, { ...PARTIAL, model: nhwcModel, resize: true, skipBad: true });
  expect(resized.total).toBe(9);
  expect(resized.skipped.map((s) => path.basename(s.file))).toEqual(['4_001.png']);
});

test('empty folder, missing folder, missing or unsuitable model are clear errors', async () => {
  const empty = path.join(dir, 'empty');
  await fs.mkdir(empty);
  await expect(gradeDigits(empty, { ...PARTIAL, model: nhwcModel })).rejects.toThrow(/empty: no \.png or \.jpg images \(empty folder\)/);
  await expect(gradeDigits(path.join(dir, 'nope'), { ...PARTIAL, model: nhwcModel })).rejects.toThrow(/nope: folder not found/);
  const folder = await makeFolder('m');
  await expect(gradeDigits(folder, { ...PARTIAL, model: path.join(dir, 'none.onnx') })).rejects.toThrow(/none\.onnx: ONNX file not found/);
  const vec = new OnnxGraph();
  vec.addInput({ name: 'x', type: 'float32', shape: [null, 4] });
  vec.reserve('y');
  vec.addOutput({ name: 'y', type: 'float32', shape: [null, 4] }, vec.op('Relu', ['x']));
  const vecFile = path.join(dir, 'vec.onnx');
  await fs.writeFile(vecFile, vec.toModel({ graphName: 'vec' }));
  await expect(gradeDigits(folder, { ...PARTIAL, model: vecFile })).rejects.toThrow(/takes one image batch/);
});

describe('the expected set', () => {
  /** 25 images of digits 0 and 1 only: what a disk-full failure left. */
  async function partialFolder(): Promise<string> {
    const folder = path.join(dir, 'partial');
    await fs.mkdir(folder, { recursive: true });
    for (let k = 1; k <= 25; k++) await writePng(path.join(folder, `${k <= 12 ? 0 : 1}_${String(k).padStart(3, '0')}.png`), digitImage(k <= 12 ? 0 : 1));
    return folder;
  }

  test('a set without the homework shape is refused, naming the missing classes and counts', async () => {
    const folder = await partialFolder();
    const err = (await gradeDigits(folder, { model: nhwcModel }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(GradeInputError);
    expect(err.message).toBe(
      `${folder}: not the expected set of 10 classes x 100 images (found 25; 0: 12 of 100, 1: 13 of 100, 2: missing, 3: missing, 4: missing, 5: missing, 6: missing, 7: missing, 8: missing, 9: missing). ` +
        'Regenerate the missing images, pass --expect CxN for another shape, or --allow-partial to grade these anyway',
    );
    const r = await gradeDigits(folder, { model: nhwcModel, allowPartial: true });
    expect(r.total).toBe(25);
    expect(r.shortfall).toEqual(['0: 12 of 100', '1: 13 of 100', ...[2, 3, 4, 5, 6, 7, 8, 9].map((d) => `${d}: missing`)]);
    // Another shape, stated: 2 classes of 12 and 13 is still not 2 x 12.
    expect(parseDigitSetShape('2x12')).toEqual({ classes: 2, perClass: 12 });
    await expect(gradeDigits(folder, { model: nhwcModel, expect: { classes: 2, perClass: 12 } })).rejects.toThrow(/found 25; 1: 13 of 12\)/);
    expect(() => parseDigitSetShape('10by100')).toThrow(/--expect must be CLASSESxPER_CLASS/);
    expect(digitSetShortfall([0, 1, 1], { classes: 2, perClass: 1 })).toEqual(['1: 2 of 1']);
  });
});

describe('dann', () => {
  const truth = 'image_name,label\na.png,1\nb.png,2\nc.png,3\nd.png,3\ne.png,0\n';
  const write = async (name: string, text: string) => {
    const f = path.join(dir, name);
    await fs.writeFile(f, text);
    return f;
  };

  test('accuracy, per class, extra rows reported, order does not matter', async () => {
    const t = await write('truth.csv', truth);
    const p = await write('pred.csv', 'image_name,label\ne.png,0\nd.png,3\nc.png,1\nb.png,2\na.png,1\nzzz.png,4\n');
    const r = await gradeDann(p, t);
    expect(r.total).toBe(5);
    expect(r.correct).toBe(4);
    expect(r.accuracy).toBe(0.8);
    expect(r.perClass[3]).toEqual({ label: 3, total: 2, correct: 1, accuracy: 0.5 });
    expect(r.extra).toEqual({ count: 1, examples: ['zzz.png'] });
    expect(r.missing.count).toBe(0);
  });

  test('missing rows stop grading, or count as wrong with --allow-missing', async () => {
    const t = await write('truth2.csv', truth);
    const p = await write('pred2.csv', 'image_name,label\na.png,1\nb.png,2\nc.png,3\n');
    await expect(gradeDann(p, t)).rejects.toThrow(/no prediction for 2 of the 5 images .*\(e\.g\. d\.png, e\.png\)/);
    const r = await gradeDann(p, t, { allowMissing: true });
    expect(r.correct).toBe(3);
    expect(r.accuracy).toBe(0.6);
    expect(r.missing).toEqual({ count: 2, examples: ['d.png', 'e.png'] });
  });

  test('a prediction file without the image_name,label header or with bad labels names file and line', async () => {
    const t = await write('truth3.csv', truth);
    await expect(gradeDann(await write('nohead.csv', 'a.png,1\n'), t)).rejects.toThrow(/nohead\.csv:1: expected the header "image_name,label"/);
    await expect(gradeDann(await write('badlabel.csv', 'image_name,label\na.png,12\n'), t)).rejects.toThrow(/badlabel\.csv:2: label 12 outside 0-9/);
    await expect(gradeDann(path.join(dir, 'absent.csv'), t)).rejects.toThrow(/absent\.csv: file not found/);
  });
});
