/**
 * Says what is wrong with a PNG or JPEG file that the decoder refused, from the file's own bytes.
 * libvips keeps one error buffer for the whole process and a failed decode's message can land in
 * it late (after the call that failed has returned, even with no other decode running), so its
 * text is not a stable reason: the same file read twice may give "Unknown error" or the
 * message twice. A walk over the file's structure gives the same answer every time.
 */
import { crc32, inflateSync } from 'node:zlib';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel by PNG colour type (grey, -, RGB, palette, grey+alpha, -, RGBA). */
const PNG_SAMPLES: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7's seven passes: first column, first row, column step, row step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** The damage found in a PNG or JPEG file, or undefined when its structure looks whole (or it is neither). */
export function describeDamage(bytes: Uint8Array): string | undefined {
  if (PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return pngDamage(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return jpegDamage(bytes);
  return undefined;
}

function pngDamage(bytes: Uint8Array): string | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const idat: Uint8Array[] = [];
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | undefined;
  let at = PNG_SIGNATURE.length;
  for (;;) {
    if (at + 8 > bytes.length) return `PNG file ends at byte ${bytes.length}, before its IEND chunk`;
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = at + 12 + length;
    if (end > bytes.length) return `PNG file ends inside its ${type} chunk: ${Math.max(0, bytes.length - at - 8)} of ${length} data bytes and no CRC`;
    const stored = view.getUint32(at + 8 + length);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) >>> 0 !== stored) return `PNG ${type} chunk at byte ${at} fails its CRC check`;
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR' && length >= 13) {
      header = { width: view.getUint32(at + 8), height: view.getUint32(at + 12), depth: data[8] as number, colour: data[9] as number, interlace: data[12] as number };
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    at = end;
  }
  if (!header) return 'PNG file has no IHDR chunk';
  if (idat.length === 0) return 'PNG file has no IDAT chunk (no pixel data)';
  let pixels: Buffer;
  try {
    pixels = inflateSync(Buffer.concat(idat));
  } catch (err) {
    return `PNG pixel data does not decompress (zlib: ${(err as Error).message})`;
  }
  const need = pngDataLength(header);
  if (need !== undefined && pixels.length < need) return `PNG pixel data holds ${pixels.length} of the ${need} bytes its ${header.width}x${header.height} header needs`;
  return undefined;
}

/** Filtered bytes a PNG's pixels take once inflated (each row led by its filter byte), or undefined for a header PNG does not allow. */
function pngDataLength(h: { width: number; height: number; depth: number; colour: number; interlace: number }): number | undefined {
  const samples = PNG_SAMPLES[h.colour];
  if (samples === undefined) return undefined;
  const rowBytes = (columns: number) => (columns === 0 ? 0 : 1 + Math.ceil((columns * samples * h.depth) / 8));
  if (h.interlace === 0) return h.height * rowBytes(h.width);
  let total = 0;
  for (const [x0, y0, dx, dy] of ADAM7) {
    const columns = Math.max(0, Math.ceil((h.width - x0) / dx));
    const rows = Math.max(0, Math.ceil((h.height - y0) / dy));
    total += rows * rowBytes(columns);
  }
  return total;
}

function jpegDamage(bytes: Uint8Array): string | undefined {
  // Entropy-coded data cannot hold 0xFF 0xD9 (a 0xFF byte there is stuffed with 0x00), so the
  // last end-of-image marker ends the image; anything after it is padding the decoder skips.
  for (let i = bytes.length - 2; i >= 2; i--) if (bytes[i] === 0xff && bytes[i + 1] === 0xd9) return undefined;
  return `JPEG file ends at byte ${bytes.length}, before its end-of-image marker`;
}

/** A decoder message with repeated lines dropped (libvips can report one failure twice) and lines joined by "; ". */
export function tidyDecoderMessage(message: string): string {
  const lines = [...new Set(message.split('\n').map((l) => l.trim()))].filter((l) => l !== '');
  return lines.length === 0 ? 'no reason given' : lines.join('; ');
}
