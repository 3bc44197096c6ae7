/**
 * Where training images come from: the user's `hw2_data/digits/mnistm` (the homework layout),
 * or by default the embedded MNIST-M that @dlcv/core builds into its cache.
 */
import * as path from 'node:path';
import * as core from '@dlcv/core';
import { UsageError } from '@dlcv/core';

type EnsureEmbedded = (name: 'mnistm', options: { cacheDir?: string; log?: (m: string) => void }) => Promise<string>;

export async function resolveMnistm(dataFlag: string | undefined, log: (m: string) => void): Promise<{ root: string; label: string }> {
  if (dataFlag) return { root: path.resolve(dataFlag), label: path.resolve(dataFlag) };
  // Looked up at run time: the embedded sets arrive in @dlcv/core separately from this package.
  const ensure = (core as unknown as { ensureEmbeddedDigits?: EnsureEmbedded }).ensureEmbeddedDigits;
  if (typeof ensure !== 'function') {
    throw new UsageError('this @dlcv/core has no embedded MNIST-M (ensureEmbeddedDigits); pass --data hw2_data/digits/mnistm');
  }
  return { root: await ensure('mnistm', { log }), label: 'embedded mnistm' };
}
