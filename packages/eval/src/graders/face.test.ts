import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readImage, writePng } from '@dlcv/core';
import { loadDlib } from '../networks/dlib-hog';
import { gradeFaces, padForDetector, type FaceDetectorName } from './face';

/** These tests' sets are small: the homework's 1000-image minimum is tested on its own. */
const SMALL = { minImages: 1 };

const FIXTURES = path.join(__dirname, '..', '..', 'test-fixtures');
let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-face-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('padding puts the image in the middle of a grey canvas twice its size', () => {
  const data = new Uint8Array(2 * 2 * 3).fill(7);
  const p = padForDetector({ width: 2, height: 2, channels: 3, data });
  expect([p.width, p.height]).toEqual([4, 4]);
  // Row 0 all grey; row 1 = grey, image, image, grey.
  expect(Array.from(p.data.subarray(0, 12))).toEqual(new Array(12).fill(128));
  expect(Array.from(p.data.subarray(12, 24))).toEqual([128, 128, 128, 7, 7, 7, 7, 7, 7, 128, 128, 128]);
});

// dlib where its addon is built (CI requires it: networks/dlib-hog.test.ts), face-api always
const DETECTORS: FaceDetectorName[] = loadDlib().ok ? ['dlib', 'face-api'] : ['face-api'];

test.each(DETECTORS)('%s: real 64x64 faces count, photos of other things do not; unreadable files leave the denominator', async (detector) => {
  const folder = path.join(dir, `mixed-${detector}`);
  await fs.mkdir(folder);
  for (const f of [
    'faces/astronaut.png',
    'faces/grace_hopper.png',
    'nonfaces/coffee.png',
    'nonfaces/rocket.png',
    'nonfaces/brick.png',
    'nonfaces/grass.png',
    'nonfaces/gravel.png',
  ]) {
    await fs.copyFile(path.join(FIXTURES, f), path.join(folder, path.basename(f)));
  }
  await fs.writeFile(path.join(folder, 'broken.png'), 'not a png');
  await fs.writeFile(path.join(folder, 'readme.txt'), 'hello');
  const r = await gradeFaces(folder, { ...SMALL, detector });
  expect(r.detector.kind).toBe(detector);
  expect(r.detector.sameAsAssignment).toBe(detector === 'dlib');
  expect(r.detector.fallback).toBeUndefined();
  expect(r.counts['astronaut.png']).toBe(1);
  expect(r.counts['grace_hopper.png']).toBe(1);
  for (const f of ['coffee.png', 'rocket.png', 'brick.png', 'grass.png', 'gravel.png']) expect(r.counts[f]).toBe(0);
  expect(r.total).toBe(7);
  expect(r.exactlyOne).toBe(2);
  expect(r.rate).toBeCloseTo(2 / 7, 12);
  expect(r.noFace).toBe(5);
  expect(r.failedToLoad.map((s) => path.basename(s.file))).toEqual(['broken.png']);
  expect(r.ignored.map((s) => path.basename(s.file))).toEqual(['readme.txt']);
});

test('sizes other than 64x64 stop the grading unless --any-size', async () => {
  const folder = path.join(dir, 'sizes');
  await fs.mkdir(folder);
  const face = await readImage(path.join(FIXTURES, 'faces/astronaut.png'));
  await writePng(path.join(folder, 'a.png'), face);
  // The same face at 32x32: a wrong size for the faces problem.
  const small = { width: 32, height: 32, channels: 3 as const, data: new Uint8Array(32 * 32 * 3) };
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) for (let c = 0; c < 3; c++) small.data[(y * 32 + x) * 3 + c] = face.data[(2 * y * 64 + 2 * x) * 3 + c] as number;
  await writePng(path.join(folder, 'b.png'), small);
  await expect(gradeFaces(folder, SMALL)).rejects.toThrow(/1 file: b\.png \(32x32, not 64x64\).*--any-size/);
  const r = await gradeFaces(folder, { ...SMALL, anySize: true });
  expect(r.total).toBe(2);
});

test('a folder with fewer images than the homework set is refused unless a smaller minimum is given', async () => {
  const folder = path.join(dir, 'few');
  await fs.mkdir(folder, { recursive: true });
  await writePng(path.join(folder, 'a.png'), { width: 64, height: 64, channels: 3, data: new Uint8Array(64 * 64 * 3) });
  await expect(gradeFaces(folder)).rejects.toThrow(
    `${folder}: 1 image, fewer than the 1000 expected (the homework generates 1000 faces); pass --min-images 1 to grade them anyway`,
  );
});
