// Output arrays of the native kernels, recycled through a pool.
//
// V8 counts ArrayBuffers as external memory and collects garbage every ~64 MB of them; a DDPM
// training step (n_feat 64, batch 32) produces gigabytes of kernel outputs, so a fresh buffer per
// output would cost ~33 collections a step (~90 ms of 640 ms, measured with --trace-gc and
// --cpu-prof). The backend therefore returns a disposed tensor's buffer to a pool keyed by size,
// and the next output of that size reuses it: no allocation, no collection.
//
// A buffer is recycled only when no tensor data entry refers to it any more (a count per buffer:
// kernels may store views of one buffer under several entries), and reads hand out copies of
// pooled arrays (`readSync`), so an array a caller keeps after disposing its tensor is never
// overwritten. Pooled arrays are not zeroed: only kernels that write every element use them.

import * as os from 'os';

import { envPoolMaxMb } from '../env-settings';

/** Below this many elements allocation is cheap and pooling not worth a map lookup. */
const POOL_MIN_ELEMENTS = 16384;
/**
 * The most bytes kept in free lists: a quarter of the machine's memory, 1-8 GiB
 * (DLCV_POOL_MAX_MB overrides). A U-Net forward at batch 100 frees ~1.6 GB at once when its
 * tf.tidy ends; a smaller pool dropped part of it and the next forward allocated it again.
 */
const FREE_MAX_BYTES = (() => {
  const mb = envPoolMaxMb();
  if (mb !== undefined) return mb * 2 ** 20;
  return Math.min(8 * 2 ** 30, Math.max(2 ** 30, Math.floor(os.totalmem() / 4)));
})();

/** Pooled buffers -> the number of tensor data entries whose values are (views of) them. */
const owners = new WeakMap<ArrayBuffer, number>();
/** Free buffers by byte length; a Map keeps insertion order, and a size is re-inserted when used. */
const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;
let poison = false;
const counters = { allocated: 0, reused: 0, recycled: 0 };

/**
 * Tests: fill every output with NaN first, so a kernel that leaves any element unwritten (or
 * a recycled buffer's old contents) fails its comparison with the cpu backend.
 */
export function setOutputPoison(on: boolean): void {
  poison = on;
}

/** A Float32Array of n elements whose contents are unspecified (the kernel writes them all). */
export function outputF32(n: number): Float32Array {
  let out: Float32Array;
  if (n < POOL_MIN_ELEMENTS) {
    out = new Float32Array(n);
  } else {
    const bytes = n * 4;
    const list = free.get(bytes);
    let buffer = list?.pop();
    if (buffer) {
      freeBytes -= bytes;
      counters.reused++;
      free.delete(bytes); // most recently used size last: eviction takes the stalest sizes first
      if (list!.length > 0) free.set(bytes, list!);
    } else {
      const b = Buffer.allocUnsafeSlow(bytes); // its own ArrayBuffer, byteOffset 0, not zeroed
      buffer = b.buffer as ArrayBuffer;
      counters.allocated++;
    }
    owners.set(buffer, 0);
    out = new Float32Array(buffer, 0, n);
  }
  if (poison) out.fill(NaN);
  return out;
}

function bufferOf(values: unknown): ArrayBuffer | undefined {
  if (!ArrayBuffer.isView(values)) return undefined;
  const buffer = values.buffer as ArrayBuffer;
  return owners.has(buffer) ? buffer : undefined;
}

/** Whether `values` lives in a pooled buffer (then a reader must get a copy). */
export function isPooled(values: unknown): boolean {
  return bufferOf(values) !== undefined;
}

/** A tensor data entry now refers to `values`. */
export function retainOutput(values: unknown): void {
  const buffer = bufferOf(values);
  if (buffer) owners.set(buffer, (owners.get(buffer) as number) + 1);
}

/** A tensor data entry that referred to `values` is gone; the last one frees the buffer. */
export function releaseOutput(values: unknown): void {
  const buffer = bufferOf(values);
  if (!buffer) return;
  const left = (owners.get(buffer) as number) - 1;
  if (left > 0) {
    owners.set(buffer, left);
    return;
  }
  owners.delete(buffer);
  counters.recycled++;
  const bytes = buffer.byteLength;
  if (bytes > FREE_MAX_BYTES) return;
  // Over the cap: drop the free buffers of the least recently used sizes (left to the GC).
  for (const [size, stale] of free) {
    if (freeBytes + bytes <= FREE_MAX_BYTES) break;
    if (size === bytes) continue;
    freeBytes -= size * stale.length;
    free.delete(size);
  }
  if (freeBytes + bytes > FREE_MAX_BYTES) return;
  const list = free.get(bytes) ?? [];
  free.delete(bytes);
  list.push(buffer);
  free.set(bytes, list);
  freeBytes += bytes;
}

/** Pool counters since load (for tests and diagnostics). */
export function outputPoolStats(): { allocated: number; reused: number; recycled: number; freeBytes: number } {
  return { ...counters, freeBytes };
}
