/**
 * "syndigits": an SVHN stand-in after the "Syn Numbers" recipe of Ganin & Lempitsky (2015):
 * house-number-like crops rendered from many fonts, with varied position, orientation,
 * stroke and background colours, and blur. Each 32x32 colour image shows a 1-3 digit
 * number with the labelled digit centred and parts of its neighbours visible at the
 * sides, as in SVHN's cropped-digits format; it is then resized to 28x28x3, the size of the
 * homework's SVHN images (PIL-style bilinear, see resizeBilinear).
 *
 * Per image (all draws from the item's own seeded generator):
 * - number length 1/2/3 (25/40/35%), which digit is centred (uniform), digits uniform
 *   (a leading digit other than the labelled one is never 0);
 * - a font of the font pack (assets/fonts: a style is drawn first, sans 50%, serif 20%,
 *   display/handwriting 18%, mono 12%, then a font of that style);
 * - centre-digit ink height 14-26 px, letter spacing -5..25% of it, centre jitter
 *   +-1.5 px, rotation N(0, 5 deg) clipped to 15 deg, horizontal stretch 0.8-1.2, a shear
 *   in 20% of images;
 * - background: flat colour 45%, linear gradient 25%, photo patch (the photo pack,
 *   32-128 px square, lightly tinted) 30%; foreground colour with a luminance contrast
 *   of at least 0.25-0.6 to the background; an outline (12%) and a drop shadow (12%);
 * - Gaussian blur (sigma 0.2-1.2 px, 70% of images) and Gaussian noise (sigma 0-6 levels).
 */
import * as fsSync from 'node:fs';
import * as path from 'node:path';
import type { RawImage } from '../image/io';
import { Rng } from '../rng';
import { fontsDir, itemRng, loadPhotos, resizeBilinear, STREAM, writeDigitFolder, type DigitSample, type Photo, type WrittenSet } from './common';
import { canvasLib, renderSyn, SYNDIGITS_RENDER_SIZE } from './syndigits-render';

export { renderSyn, SYNDIGITS_RENDER_SIZE, type SynRenderOptions } from './syndigits-render';

/** Bump when the recipe's output changes for a given seed. */
export const SYNDIGITS_RECIPE_VERSION = 1;

/** Images in a full build (80/20 train/val). */
export const SYNDIGITS_DEFAULT_COUNT = 12000;
/** Stored size (the homework's SVHN). */
export const SYNDIGITS_STORED_SIZE = 28;

export type FontStyle = 'sans' | 'serif' | 'mono' | 'display';

/** One entry of assets/fonts/fonts.json (written by tools/build-font-pack.sh). */
export interface FontEntry {
  file: string;
  family: string;
  style: FontStyle;
  package: string;
  version: string;
  originalPath: string;
  licence: string;
}

const STYLE_WEIGHTS: ReadonlyArray<[FontStyle, number]> = [
  ['sans', 0.5],
  ['serif', 0.2],
  ['display', 0.18],
  ['mono', 0.12],
];

/** Reads the font pack's list, sorted by file name. */
export function readFontPack(dir = fontsDir()): FontEntry[] {
  const file = path.join(dir, 'fonts.json');
  let text: string;
  try {
    text = fsSync.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`syndigits: font pack not found at ${file} (run tools/build-font-pack.sh)`);
  }
  const fonts = (JSON.parse(text) as FontEntry[]).slice().sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  if (fonts.length === 0) throw new Error(`syndigits: ${file} lists no fonts`);
  return fonts;
}

const registeredFonts = new Map<string, string>();

/** Registers the fonts with the canvas under their pack family names (once per process). */
export function registerFontPack(fonts: readonly FontEntry[], dir = fontsDir()): void {
  for (const f of fonts) {
    const file = path.join(dir, f.file);
    const prev = registeredFonts.get(f.family);
    if (prev === file) continue;
    if (prev !== undefined) throw new Error(`syndigits: font family ${f.family} already registered from ${prev}`);
    const { GlobalFonts } = canvasLib();
    if (!GlobalFonts.registerFromPath(file, f.family) || !GlobalFonts.has(f.family)) {
      throw new Error(`syndigits: cannot load font ${file}`);
    }
    registeredFonts.set(f.family, file);
  }
}

export type Rgb = [number, number, number];

export type SynBackground =
  | { kind: 'flat'; color: Rgb }
  | { kind: 'gradient'; from: Rgb; to: Rgb; angle: number }
  | { kind: 'photo'; photo: string; sx: number; sy: number; size: number; tint: Rgb; tintAlpha: number };

/** Everything random about one image; rendering is a pure function of it. */
export interface SynParams {
  /** The number, left to right. */
  digits: number[];
  /** Index in `digits` of the labelled digit, the one centred in the crop. */
  centre: number;
  /** Font family (pack alias) and its file. */
  font: string;
  fontFile: string;
  /** Ink height of the centre digit, px of the 32x32 rendering. */
  digitHeight: number;
  /** Extra space between glyph advances, px. */
  spacing: number;
  /** Where the centre digit's ink centre lands, px. */
  cx: number;
  cy: number;
  rotation: number;
  scaleX: number;
  skewX: number;
  background: SynBackground;
  fg: Rgb;
  outline?: { color: Rgb; width: number };
  shadow?: { color: Rgb; dx: number; dy: number };
  /** Gaussian blur sigma (px); 0 = none. */
  blur: number;
  /** Gaussian noise sigma (grey levels) and its generator's seed. */
  noise: number;
  noiseSeed: number;
}

export interface SynEnv {
  fonts: readonly FontEntry[];
  photos: readonly Photo[];
}

// ---------------------------------------------------------------------------------------
// Colours.

function hsvToRgb(h: number, s: number, v: number): Rgb {
  const i = Math.floor(h * 6) % 6;
  const f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s),
    q = v * (1 - f * s),
    t = v * (1 - (1 - f) * s);
  const [r, g, b] = [
    [v, t, p],
    [q, v, p],
    [p, v, t],
    [p, q, v],
    [t, p, v],
    [v, p, q],
  ][i] as [number, number, number];
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

/** A colour with SVHN-like statistics: mostly muted, any brightness. */
function randomColor(rng: Rng): Rgb {
  const h = rng.next();
  const s = 0.9 * Math.pow(rng.next(), 1.5);
  const v = 0.08 + 0.92 * rng.next();
  return hsvToRgb(h, s, v);
}

/** Relative luminance in [0, 1] (Rec. 601 weights). */
export function luminance(c: Rgb): number {
  return (0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]) / 255;
}

function contrastingColor(rng: Rng, bgLum: number, minContrast: number): Rgb {
  for (let i = 0; i < 40; i++) {
    const c = randomColor(rng);
    if (Math.abs(luminance(c) - bgLum) >= minContrast) return c;
  }
  const v = bgLum > 0.5 ? 10 + rng.int(40) : 205 + rng.int(50);
  return [v, v, v];
}

function jitterColor(rng: Rng, c: Rgb, amount: number): Rgb {
  const j = (v: number) => Math.max(0, Math.min(255, Math.round(v + (rng.next() * 2 - 1) * amount)));
  return [j(c[0]), j(c[1]), j(c[2])];
}

function photoMeanLuminance(img: RawImage, sx: number, sy: number, size: number): number {
  let sum = 0,
    n = 0;
  const step = Math.max(1, Math.floor(size / 8));
  for (let y = sy; y < sy + size; y += step) {
    for (let x = sx; x < sx + size; x += step) {
      const o = (y * img.width + x) * 3;
      sum += 0.299 * (img.data[o] as number) + 0.587 * (img.data[o + 1] as number) + 0.114 * (img.data[o + 2] as number);
      n++;
    }
  }
  return sum / n / 255;
}

function pickWeighted<T>(rng: Rng, items: ReadonlyArray<[T, number]>): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let u = rng.next() * total;
  for (const [v, w] of items) {
    if (u < w) return v;
    u -= w;
  }
  return (items[items.length - 1] as [T, number])[0];
}

// ---------------------------------------------------------------------------------------
// Sampling.

/** Draws the background and its mean luminance (what the ink colour must stand out from). */
function sampleBackground(rng: Rng, env: SynEnv): { background: SynBackground; bgLum: number } {
  const kind = pickWeighted<SynBackground['kind']>(rng, [
    ['flat', 0.45],
    ['gradient', 0.25],
    ['photo', 0.3],
  ]);
  if (kind === 'photo' && env.photos.length > 0) {
    const photo = env.photos[rng.int(env.photos.length)] as Photo;
    const size = Math.min(photo.image.width, photo.image.height, 32 + rng.int(97));
    const sx = rng.int(photo.image.width - size + 1);
    const sy = rng.int(photo.image.height - size + 1);
    const tint = randomColor(rng);
    const tintAlpha = rng.uniform(0, 0.4);
    const bgLum = (1 - tintAlpha) * photoMeanLuminance(photo.image, sx, sy, size) + tintAlpha * luminance(tint);
    return { background: { kind: 'photo', photo: photo.file, sx, sy, size, tint, tintAlpha }, bgLum };
  }
  if (kind === 'gradient') {
    const from = randomColor(rng);
    const to = jitterColor(rng, from, 90);
    return { background: { kind: 'gradient', from, to, angle: rng.uniform(0, 2 * Math.PI) }, bgLum: (luminance(from) + luminance(to)) / 2 };
  }
  const color = randomColor(rng);
  return { background: { kind: 'flat', color }, bgLum: luminance(color) };
}

/** Draws the parameters of one image. */
export function sampleSynParams(rng: Rng, env: SynEnv): SynParams {
  const length = pickWeighted<number>(rng, [
    [1, 0.25],
    [2, 0.4],
    [3, 0.35],
  ]);
  const centre = rng.int(length);
  const label = rng.int(10);
  const digits: number[] = [];
  for (let i = 0; i < length; i++) digits.push(i === centre ? label : i === 0 ? 1 + rng.int(9) : rng.int(10));

  const style = pickWeighted(
    rng,
    STYLE_WEIGHTS.filter(([s]) => env.fonts.some((f) => f.style === s)),
  );
  const ofStyle = env.fonts.filter((f) => f.style === style);
  const font = ofStyle[rng.int(ofStyle.length)] as FontEntry;

  const digitHeight = rng.uniform(14, 26);
  const spacing = digitHeight * rng.uniform(-0.05, 0.25);
  const cx = SYNDIGITS_RENDER_SIZE / 2 + rng.uniform(-1.5, 1.5);
  const cy = SYNDIGITS_RENDER_SIZE / 2 + rng.uniform(-1.5, 1.5);
  const maxRot = (15 * Math.PI) / 180;
  const rotation = Math.max(-maxRot, Math.min(maxRot, rng.normal() * ((5 * Math.PI) / 180)));
  const scaleX = rng.uniform(0.8, 1.2);
  const skewX = rng.next() < 0.2 ? rng.uniform(-0.25, 0.25) : 0;

  const { background, bgLum } = sampleBackground(rng, env);
  const fg = contrastingColor(rng, bgLum, rng.uniform(0.25, 0.6));

  const params: SynParams = {
    digits,
    centre,
    font: font.family,
    fontFile: font.file,
    digitHeight,
    spacing,
    cx,
    cy,
    rotation,
    scaleX,
    skewX,
    background,
    fg,
    blur: 0,
    noise: 0,
    noiseSeed: 0,
  };
  if (rng.next() < 0.12) params.outline = { color: contrastingColor(rng, luminance(fg), 0.3), width: rng.uniform(0.6, 1.6) };
  if (rng.next() < 0.12) {
    const sign = () => (rng.next() < 0.5 ? -1 : 1);
    params.shadow = { color: bgLum > 0.5 ? [20, 20, 20] : [235, 235, 235], dx: sign() * rng.uniform(0.5, 1.5), dy: sign() * rng.uniform(0.5, 1.5) };
  }
  params.blur = rng.next() < 0.7 ? rng.uniform(0.2, 1.2) : 0;
  params.noise = rng.uniform(0, 6);
  params.noiseSeed = rng.nextUint32();
  return params;
}

// ---------------------------------------------------------------------------------------
// The set.

export interface SyndigitsSample extends DigitSample {
  params: SynParams;
  /** The 32x32 rendering before the resize to 28x28. */
  image32: RawImage;
}

export interface SyndigitsOptions {
  seed: number;
  /** Images in the full set (default 12,000). */
  count?: number;
  /** Only the first `limit` items (the same items a full build starts with). */
  limit?: number;
  photos?: Photo[];
  fonts?: FontEntry[];
  /** Folder of the font files (default: the font pack). */
  fontsDir?: string;
}

/** Loads and registers the font pack and the photos. */
export async function loadSynEnv(options: { photos?: Photo[]; fonts?: FontEntry[]; fontsDir?: string } = {}): Promise<SynEnv> {
  const dir = options.fontsDir ?? fontsDir();
  const fonts = options.fonts ?? readFontPack(dir);
  registerFontPack(fonts, dir);
  const photos = options.photos ?? (await loadPhotos());
  return { fonts, photos };
}

/** The syndigits items in order; item k depends only on (seed, k). */
export async function* syndigitsSamples(options: SyndigitsOptions): AsyncGenerator<SyndigitsSample> {
  const env = await loadSynEnv(options);
  const n = Math.min(options.count ?? SYNDIGITS_DEFAULT_COUNT, options.limit ?? Infinity);
  for (let k = 0; k < n; k++) {
    const params = sampleSynParams(itemRng(options.seed, STREAM.syndigits, k), env);
    const image32 = renderSyn(params, env);
    const image = resizeBilinear(image32, SYNDIGITS_STORED_SIZE, SYNDIGITS_STORED_SIZE);
    yield { image, label: params.digits[params.centre] as number, params, image32 };
  }
}

/** Builds the set into `dir` (homework layout, no manifest: the builder adds it). */
export async function writeSyndigits(dir: string, options: SyndigitsOptions, onProgress?: (done: number) => void): Promise<WrittenSet> {
  return writeDigitFolder(dir, syndigitsSamples(options), { seed: options.seed, stream: STREAM.syndigits }, onProgress);
}
