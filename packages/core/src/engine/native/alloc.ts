// Output arrays of the native kernels, recycled through a pool.
//
// Every tensor a kernel returns used to be a fresh ArrayBuffer. V8 counts those as external
// memory and collects garbage every ~64 MB of them: a DDPM training step (n_feat 64, batch 32)
// allocates gigabytes, so V8 ran ~33 collections a step, ~90 ms of a 640 ms step (measured with
// --trace-gc and --cpu-prof). Now the backend returns a disposed tensor's buffer to a pool keyed
// by size, and the next output of that size reuses it: no allocation, no collection.
//
// A buffer is recycled only when no tensor data entry refers to it any more (a count per buffer:
// kernels may store views of one buffer under several entries), and reads hand out copies of
// pooled arrays (`readSync`), so an array a caller keeps after disposing its tensor is never
// overwritten. Pooled arrays are not zeroed: only kernels that write every element use them.

/** Below this many elements allocation is cheap and pooling not worth a map lookup. */
const POOL_MIN_ELEMENTS = 16384;
/** The most bytes kept in free lists (what is beyond it is left to the garbage collector). */
const FREE_MAX_BYTES = 1 << 30;

/** Pooled buffers -> the number of tensor data entries whose values are (views of) them. */
const owners = new WeakMap<ArrayBuffer, number>();
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
    let buffer = free.get(bytes)?.pop();
    if (buffer) {
      freeBytes -= bytes;
      counters.reused++;
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
  if (freeBytes + buffer.byteLength > FREE_MAX_BYTES) return;
  const list = free.get(buffer.byteLength) ?? [];
  list.push(buffer);
  free.set(buffer.byteLength, list);
  freeBytes += buffer.byteLength;
}

/** Pool counters since load (for tests and diagnostics). */
export function outputPoolStats(): { allocated: number; reused: number; recycled: number; freeBytes: number } {
  return { ...counters, freeBytes };
}
