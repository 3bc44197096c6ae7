/**
 * Animated GIFs of training progress (sample grids over epochs, the DDPM denoising chain) via
 * gifenc. gifenc is pure JS and has no randomness, so the same frames give the same bytes.
 */
import { writeFileAtomic } from '../files';
import type { RawImage } from './io';

// gifenc ships a CommonJS build (its `main`), so a plain require works under jest's swc->commonjs
// and in the CommonJS dist alike. It has no type declarations: this is the slice we use.
type Palette = number[][];
interface GifencModule {
  GIFEncoder(opts?: { initialCapacity?: number }): {
    writeFrame(index: Uint8Array, width: number, height: number, opts: { palette?: Palette; delay?: number; repeat?: number }): void;
    finish(): void;
    bytes(): Uint8Array;
  };
  quantize(rgba: Uint8Array, maxColors: number, opts?: { format?: 'rgb565' | 'rgb444' }): Palette;
  applyPalette(rgba: Uint8Array, palette: Palette, format?: 'rgb565' | 'rgb444'): Uint8Array;
}
const gifenc = require('gifenc') as GifencModule;

export interface GifOptions {
  /** Time each frame is shown, in ms (GIF stores hundredths of a second, so it is rounded to 10 ms). Default 200. */
  delayMs?: number;
  /** Time the last frame is shown, in ms, so the final state can be seen before the loop restarts. Default `delayMs`. */
  lastDelayMs?: number;
  /** Loop forever (true, default) or play once. */
  loop?: boolean;
  /**
   * 'frame' (default): a palette per frame, best colours when frames differ a lot (noise to digits).
   * 'global': one palette for all frames, smaller files and no colour flicker between similar frames.
   */
  palette?: 'frame' | 'global';
  /** Colours per palette, 2..256. Default 256. */
  maxColors?: number;
}

/** Encodes frames (all the same size; grey, RGB or RGBA with alpha ignored) as an animated GIF. */
export function encodeGif(frames: RawImage[], options: GifOptions = {}): Uint8Array {
  const { delayMs = 200, loop = true, palette: mode = 'frame', maxColors = 256 } = options;
  const lastDelayMs = options.lastDelayMs ?? delayMs;
  if (frames.length === 0) throw new Error('encodeGif: no frames');
  for (const [name, v] of [
    ['delayMs', delayMs],
    ['lastDelayMs', lastDelayMs],
  ] as const) {
    if (!Number.isFinite(v) || v < 0 || v > 655350) throw new Error(`encodeGif: ${name} must be in 0..655350 ms, got ${v}`);
  }
  if (!Number.isInteger(maxColors) || maxColors < 2 || maxColors > 256) throw new Error(`encodeGif: maxColors must be an integer in 2..256, got ${maxColors}`);
  if (mode !== 'frame' && mode !== 'global') throw new Error(`encodeGif: palette must be 'frame' or 'global', got ${String(mode)}`);
  const first = frames[0] as RawImage;
  const { width, height } = first;
  if (width < 1 || height < 1 || width > 65535 || height > 65535) throw new Error(`encodeGif: frame size ${width}x${height} is outside 1..65535`);

  const rgba = frames.map((f, i) => {
    if (f.width !== width || f.height !== height) throw new Error(`encodeGif: frame ${i} is ${f.width}x${f.height}, frame 0 is ${width}x${height}`);
    return toRgba(f, i);
  });

  let shared: Palette | undefined;
  if (mode === 'global') {
    const all = new Uint8Array(rgba.length * width * height * 4);
    rgba.forEach((f, i) => all.set(f, i * f.length));
    shared = gifenc.quantize(all, maxColors);
  }

  const enc = gifenc.GIFEncoder({ initialCapacity: Math.max(4096, width * height) });
  rgba.forEach((f, i) => {
    const palette = shared ?? gifenc.quantize(f, maxColors);
    // With a global palette only the first frame carries it (gifenc writes it as the global table).
    enc.writeFrame(gifenc.applyPalette(f, palette), width, height, {
      palette: shared && i > 0 ? undefined : palette,
      delay: i === rgba.length - 1 ? lastDelayMs : delayMs,
      // Netscape loop count: 0 = forever; -1 makes gifenc omit the block, which means play once.
      repeat: loop ? 0 : -1,
    });
  });
  enc.finish();
  return enc.bytes();
}

/** Writes an animated GIF atomically, creating parent folders. */
export async function writeGif(file: string, frames: RawImage[], options: GifOptions = {}): Promise<void> {
  await writeFileAtomic(file, encodeGif(frames, options));
}

function toRgba(img: RawImage, i: number): Uint8Array {
  const n = img.width * img.height;
  const c = img.channels;
  if (c !== 1 && c !== 3 && c !== 4) throw new Error(`encodeGif: frame ${i} has ${String(c)} channels`);
  if (img.data.length !== n * c) throw new Error(`encodeGif: frame ${i} is ${img.width}x${img.height}x${c} and needs ${n * c} bytes, got ${img.data.length}`);
  const src = img.data;
  const out = new Uint8Array(n * 4);
  for (let p = 0; p < n; p++) {
    const s = p * c,
      d = p * 4;
    if (c === 1) {
      const v = src[s] as number;
      out[d] = v;
      out[d + 1] = v;
      out[d + 2] = v;
    } else {
      out[d] = src[s] as number;
      out[d + 1] = src[s + 1] as number;
      out[d + 2] = src[s + 2] as number;
    }
    out[d + 3] = 255;
  }
  return out;
}
