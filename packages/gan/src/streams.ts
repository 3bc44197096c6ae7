/** The seeded streams of the GAN's randomness (no TensorFlow.js here: the report page draws the generate stream too). */

/** PCG32 streams: each use of randomness has its own, so they never share draws. */
export const STREAMS = {
  init: 1,
  trainNoise: 2,
  fixedNoise: 3,
  generate: 4,
  calibrate: 5,
  /** Data order of epoch e uses stream dataOrder + e: a pure function of (seed, epoch). */
  dataOrder: 1000,
} as const;
