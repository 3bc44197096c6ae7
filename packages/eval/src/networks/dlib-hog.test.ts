import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readImage, writePng, type RawImage } from '@dlcv/core';
import { detectFaces, dlibRequired, loadDlib, type FaceBox } from './dlib-hog';

const PKG = path.join(__dirname, '..', '..');
const FIXTURES = path.join(PKG, 'test-fixtures');
const dlib = loadDlib();

if (!dlib.ok && dlibRequired())
  test('the dlib addon is built (DLCV_REQUIRE_DLIB=1)', () => {
    throw new Error(dlib.reason);
  });
const describeDlib = dlib.ok ? describe : describe.skip;

/** `image` with x and y swapped. */
function transpose(image: RawImage): RawImage {
  const { width, height, channels, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) out[(x * height + y) * channels + c] = data[(y * width + x) * channels + c]!;
  return { width: height, height: width, channels, data: out };
}
/** `image` mirrored left to right. */
function mirror(image: RawImage): RawImage {
  const { width, height, channels, data } = image;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = data[(y * width + width - 1 - x) * channels + c]!;
  return { width, height, channels, data: out };
}
/** Rows top..top+h and columns left..left+w of `image`, each pixel repeated `scale` times each way. */
function cropScaled(image: RawImage, left: number, top: number, w: number, h: number, scale: number): RawImage {
  const { width, channels, data } = image;
  const out = new Uint8Array(w * scale * h * scale * channels);
  for (let y = 0; y < h * scale; y++)
    for (let x = 0; x < w * scale; x++)
      for (let c = 0; c < channels; c++) out[(y * w * scale + x) * channels + c] = data[((top + Math.floor(y / scale)) * width + left + Math.floor(x / scale)) * channels + c]!;
  return { width: w * scale, height: h * scale, channels, data: out };
}

describeDlib("dlib's frontal face detector through the addon", () => {
  const addon = dlib.ok ? dlib.addon : (undefined as never);
  let dir: string;
  let reference: string;
  const images = new Map<string, RawImage>();

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'eval-dlib-'));
    // dlib's own pipeline, built as the addon is (scripts/build-dlib.js: libdlib-dev and g++)
    reference = path.join(dir, 'detect_faces_reference');
    const source = path.join(PKG, 'native-dlib', 'reference', 'detect_faces_reference.cc');
    const { dlibCompileFlags } = require('../../scripts/build-dlib.js') as { dlibCompileFlags(): { include: string[]; link: string[] } };
    const flags = dlibCompileFlags();
    execFileSync(process.env.CXX || 'g++', ['-O2', '-std=c++17', ...flags.include, source, '-o', reference, ...flags.link], { stdio: 'pipe' });
    const names = ['faces/astronaut.png', 'faces/grace_hopper.png', 'nonfaces/coffee.png', 'nonfaces/rocket.png', 'nonfaces/brick.png'];
    for (const name of names) {
      const image = await readImage(path.join(FIXTURES, name));
      const base = path.basename(name, '.png');
      images.set(`${base}.png`, image);
      if (!name.startsWith('faces/')) continue;
      // shapes where a mix-up of width and height, or of rows, would move or lose the face
      images.set(`${base}-mirrored.png`, mirror(image));
      images.set(`${base}-transposed.png`, transpose(image));
      images.set(`${base}-wide.png`, cropScaled(image, 0, 8, 64, 48, 1));
      images.set(`${base}-x2.png`, cropScaled(image, 0, 0, 64, 64, 2));
      images.set(`${base}-tall-x3.png`, cropScaled(image, 6, 0, 40, 64, 3));
    }
    for (const [name, image] of images) await writePng(path.join(dir, name), image);
  }, 120_000);
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  /** The reference's boxes of every image, by file name. */
  function referenceBoxes(upsample: number): Map<string, FaceBox[]> {
    const files = [...images.keys()].map((name) => path.join(dir, name));
    const out = execFileSync(reference, [String(upsample), ...files], { encoding: 'utf8' });
    const boxes = new Map<string, FaceBox[]>();
    for (const line of out.trim().split('\n')) {
      const [file, ...numbers] = line.split(' ');
      const list: FaceBox[] = [];
      for (let i = 0; i < numbers.length; i += 4) {
        const [left, top, right, bottom] = numbers.slice(i, i + 4).map(Number) as [number, number, number, number];
        list.push({ left, top, right, bottom });
      }
      boxes.set(path.basename(file!), list);
    }
    return boxes;
  }

  test.each([0, 1, 2])('finds the boxes of dlib read by itself, upsampled %i times', (upsample) => {
    const expected = referenceBoxes(upsample);
    expect([...expected.keys()].sort()).toEqual([...images.keys()].sort());
    let faces = 0;
    for (const [name, image] of images) {
      expect({ name, boxes: detectFaces(addon, image, upsample) }).toEqual({ name, boxes: expected.get(name) });
      faces += expected.get(name)!.length;
    }
    // not a comparison of empty lists: at each upsampling the faces are found in four images or
    // more (the 64x64 ones only once upsampled: the detector's window is 80x80 pixels)
    expect(faces).toBeGreaterThanOrEqual(4);
  });

  test('the grader setting finds one face in each 64x64 face photo and none in the other photos', () => {
    const count = (name: string) => detectFaces(addon, images.get(name)!).length;
    expect(['astronaut.png', 'grace_hopper.png'].map(count)).toEqual([1, 1]);
    expect(['coffee.png', 'rocket.png', 'brick.png'].map(count)).toEqual([0, 0, 0]);
  });

  test('bad arguments are errors that say what is wrong', () => {
    const rgb = new Uint8Array(4 * 4 * 3);
    expect(() => addon.detectFaces(rgb, 4, 5, 1)).toThrow('detectFaces: rgb holds 48 bytes, not width * height * 3 = 60');
    expect(() => addon.detectFaces(rgb, 4, 4, 5)).toThrow('detectFaces: upsample must be at most 4');
    expect(() => addon.detectFaces(rgb, 0, 4, 1)).toThrow('detectFaces: width must be an integer >= 1');
    expect(() => addon.detectFaces(new Float32Array(48) as unknown as Uint8Array, 4, 4, 1)).toThrow('detectFaces: rgb must be a Uint8Array');
    expect(() => detectFaces(addon, { width: 4, height: 4, channels: 1, data: new Uint8Array(16) })).toThrow('detectFaces: RGB images only, got 1 channels');
  });
});
