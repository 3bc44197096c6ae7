// Output arrays for native kernels that write every element of their output.
// `new Float32Array(n)` zero-fills: for the DANN's 51 MB activations that costs 4-12 ms a tensor
// (measured), about as much as the kernel that then overwrites it. Large outputs therefore come
// from Buffer.allocUnsafeSlow (not zeroed, not pooled, byteOffset 0). Kernels that may leave
// elements unwritten must keep `new Float32Array`.

/** Below this many elements zero-filling costs nothing worth avoiding. */
const UNINITIALIZED_MIN = 16384;

let poison = false;

/**
 * Tests: fill every output with NaN first, so a kernel that leaves any element unwritten fails
 * its comparison with the cpu backend instead of passing on a lucky zero.
 */
export function setOutputPoison(on: boolean): void {
  poison = on;
}

/** A Float32Array of n elements whose contents are unspecified (the kernel writes them all). */
export function outputF32(n: number): Float32Array {
  if (poison) return new Float32Array(n).fill(NaN);
  if (n < UNINITIALIZED_MIN) return new Float32Array(n);
  const bytes = Buffer.allocUnsafeSlow(n * 4);
  return new Float32Array(bytes.buffer, bytes.byteOffset, n);
}
