/**
 * Rendering of one syndigits image (see syndigits.ts for the recipe): a pure function of its
 * drawn parameters, on a 32x32 canvas.
 */
import type { Canvas, SKRSContext2D } from '@napi-rs/canvas';
import type { RawImage } from '../image/io';
import { Rng } from '../rng';
import { STREAM, type Photo } from './common';
import type { Rgb, SynBackground, SynEnv, SynParams } from './syndigits';

/** Rendering size (SVHN's). */
export const SYNDIGITS_RENDER_SIZE = 32;

export interface SynRenderOptions {
  /** Which glyphs to draw: all (default), only the labelled centre digit, or only its neighbours. */
  only?: 'all' | 'centre' | 'neighbours';
  /** White ink on black, no background, outline, shadow, blur or noise: an ink mask. */
  mask?: boolean;
  /** Draw this digit in the centre slot instead of the labelled one (layout redone). */
  replaceCentre?: number;
}

/**
 * @napi-rs/canvas, loaded on first use: only the syndigits build draws, so importing core (and
 * building the other embedded sets) does not load it.
 */
export function canvasLib(): typeof import('@napi-rs/canvas') {
  return require('@napi-rs/canvas') as typeof import('@napi-rs/canvas');
}

let canvas: Canvas | undefined;
const photoCanvases = new Map<string, Canvas>();

function photoCanvas(photo: Photo): Canvas {
  let c = photoCanvases.get(photo.file);
  if (!c) {
    const { width, height, data } = photo.image;
    c = canvasLib().createCanvas(width, height);
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0, j = 0; i < width * height; i++, j += 3) {
      rgba[4 * i] = data[j] as number;
      rgba[4 * i + 1] = data[j + 1] as number;
      rgba[4 * i + 2] = data[j + 2] as number;
      rgba[4 * i + 3] = 255;
    }
    c.getContext('2d').putImageData(new (canvasLib().ImageData)(rgba, width, height), 0, 0);
    photoCanvases.set(photo.file, c);
  }
  return c;
}

const css = (c: Rgb, a = 1) => (a === 1 ? `rgb(${c[0]},${c[1]},${c[2]})` : `rgba(${c[0]},${c[1]},${c[2]},${a})`);

interface Glyph {
  ch: string;
  x: number;
  isCentre: boolean;
}

/** Glyph origins (text baseline) in the digit-centred frame, and the baseline y. */
function layout(ctx: SKRSContext2D, params: SynParams, digits: number[]): { glyphs: Glyph[]; baseline: number } {
  const quoted = `"${params.font}"`;
  ctx.font = `100px ${quoted}`;
  const probe = ctx.measureText(String(digits[params.centre]));
  const inkH100 = probe.actualBoundingBoxAscent + probe.actualBoundingBoxDescent;
  const px = inkH100 > 0 ? (params.digitHeight * 100) / inkH100 : params.digitHeight;
  ctx.font = `${px.toFixed(3)}px ${quoted}`;
  const m = digits.map((d) => ctx.measureText(String(d)));
  const mc = m[params.centre] as (typeof m)[number];
  const xs = new Array<number>(digits.length).fill(0);
  xs[params.centre] = -(mc.actualBoundingBoxRight - mc.actualBoundingBoxLeft) / 2;
  for (let i = params.centre + 1; i < digits.length; i++) xs[i] = (xs[i - 1] as number) + (m[i - 1] as (typeof m)[number]).width + params.spacing;
  for (let i = params.centre - 1; i >= 0; i--) xs[i] = (xs[i + 1] as number) - params.spacing - (m[i] as (typeof m)[number]).width;
  const baseline = (mc.actualBoundingBoxAscent - mc.actualBoundingBoxDescent) / 2;
  return { glyphs: digits.map((d, i) => ({ ch: String(d), x: xs[i] as number, isCentre: i === params.centre })), baseline };
}

function gaussianBlurRgb(data: Float32Array, size: number, sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k: number[] = [];
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    const w = Math.exp(-(i * i) / (2 * sigma * sigma));
    k.push(w);
    sum += w;
  }
  for (let i = 0; i < k.length; i++) k[i] = (k[i] as number) / sum;
  const clamp = (v: number) => (v < 0 ? 0 : v >= size ? size - 1 : v);
  const tmp = new Float32Array(data.length);
  const out = new Float32Array(data.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let i = -radius; i <= radius; i++) acc += (k[i + radius] as number) * (data[(y * size + clamp(x + i)) * 3 + c] as number);
        tmp[(y * size + x) * 3 + c] = acc;
      }
    }
  }
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        for (let i = -radius; i <= radius; i++) acc += (k[i + radius] as number) * (tmp[(clamp(y + i) * size + x) * 3 + c] as number);
        out[(y * size + x) * 3 + c] = acc;
      }
    }
  }
  return out;
}

/** Fills the canvas with the image's background: flat, a gradient, a (tinted) photo patch, or black for a mask. */
function drawBackground(ctx: SKRSContext2D, bg: SynBackground, env: SynEnv, mask: boolean): void {
  const S = SYNDIGITS_RENDER_SIZE;
  if (mask) {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, S, S);
  } else if (bg.kind === 'flat') {
    ctx.fillStyle = css(bg.color);
    ctx.fillRect(0, 0, S, S);
  } else if (bg.kind === 'gradient') {
    const r = (S / 2) * (Math.abs(Math.cos(bg.angle)) + Math.abs(Math.sin(bg.angle)));
    const dx = Math.cos(bg.angle) * r,
      dy = Math.sin(bg.angle) * r;
    const g = ctx.createLinearGradient(S / 2 - dx, S / 2 - dy, S / 2 + dx, S / 2 + dy);
    g.addColorStop(0, css(bg.from));
    g.addColorStop(1, css(bg.to));
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, S, S);
  } else {
    const photo = env.photos.find((p) => p.file === bg.photo);
    if (!photo) throw new Error(`syndigits: photo ${bg.photo} is not in the photo pack`);
    ctx.drawImage(photoCanvas(photo), bg.sx, bg.sy, bg.size, bg.size, 0, 0, S, S);
    if (bg.tintAlpha > 0) {
      ctx.fillStyle = css(bg.tint, bg.tintAlpha);
      ctx.fillRect(0, 0, S, S);
    }
  }
}

/** Renders one 32x32 RGB image from its parameters (deterministic). */
export function renderSyn(params: SynParams, env: SynEnv, options: SynRenderOptions = {}): RawImage {
  const S = SYNDIGITS_RENDER_SIZE;
  const only = options.only ?? 'all';
  const mask = options.mask ?? false;
  canvas ??= canvasLib().createCanvas(S, S);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.globalAlpha = 1;
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';

  drawBackground(ctx, params.background, env, mask);

  // Text, in a frame centred on the labelled digit's ink.
  const digits = params.digits.slice();
  if (options.replaceCentre !== undefined) digits[params.centre] = options.replaceCentre;
  const { glyphs, baseline } = layout(ctx, params, digits);
  const drawn = glyphs.filter((g) => only === 'all' || (only === 'centre') === g.isCentre);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  const frame = (ox: number, oy: number) => {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.translate(params.cx + ox, params.cy + oy);
    ctx.rotate(params.rotation);
    ctx.transform(params.scaleX, 0, params.skewX, 1, 0, 0);
  };
  if (!mask && params.shadow) {
    frame(params.shadow.dx, params.shadow.dy);
    ctx.fillStyle = css(params.shadow.color);
    for (const g of drawn) ctx.fillText(g.ch, g.x, baseline);
  }
  frame(0, 0);
  if (!mask && params.outline) {
    ctx.strokeStyle = css(params.outline.color);
    ctx.lineWidth = 2 * params.outline.width;
    ctx.lineJoin = 'round';
    for (const g of drawn) ctx.strokeText(g.ch, g.x, baseline);
  }
  ctx.fillStyle = mask ? '#fff' : css(params.fg);
  for (const g of drawn) ctx.fillText(g.ch, g.x, baseline);

  // Pixels, blur, noise.
  const rgba = ctx.getImageData(0, 0, S, S).data;
  let px: Float32Array = new Float32Array(S * S * 3);
  for (let i = 0; i < S * S; i++) {
    px[3 * i] = rgba[4 * i] as number;
    px[3 * i + 1] = rgba[4 * i + 1] as number;
    px[3 * i + 2] = rgba[4 * i + 2] as number;
  }
  if (!mask && params.blur > 0) px = gaussianBlurRgb(px, S, params.blur);
  const noiseRng = !mask && params.noise > 0 ? new Rng(params.noiseSeed, STREAM.syndigits) : undefined;
  const out = new Uint8Array(S * S * 3);
  for (let i = 0; i < out.length; i++) {
    const v = Math.round((px[i] as number) + (noiseRng ? noiseRng.normal() * params.noise : 0));
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return { width: S, height: S, channels: 3, data: out };
}
