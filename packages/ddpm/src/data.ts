/**
 * Where training images come from: the user's `hw2_data/digits/mnistm` (the homework layout),
 * or by default the embedded MNIST-M that @dlcv/core builds into its cache on first use.
 */
import { ensureEmbeddedDigits } from '@dlcv/core';

export async function resolveMnistm(dataFlag: string | undefined, log: (m: string) => void): Promise<{ root: string; label: string }> {
  if (dataFlag) return { root: dataFlag, label: dataFlag };
  return { root: await ensureEmbeddedDigits('mnistm', { log }), label: 'embedded mnistm' };
}
