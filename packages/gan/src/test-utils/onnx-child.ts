// Child process of sampling.test.ts: the same seeded generator sampled through tfjs (cpu) and
// through ONNX Runtime, into folders given as arguments. A child because onnxruntime-node checks
// `instanceof Float32Array`, which fails across jest's sandbox boundary.
import * as path from 'node:path';
import { Rng, setupEngine } from '@dlcv/core';
import { createGenerator } from '../model';
import { generateToFolder } from '../sampling';
import { SMALL_CALIBRATION, TINY } from './fixtures';

async function main(): Promise<void> {
  const out = process.argv[2] as string;
  await setupEngine({ engine: 'cpu' });
  const g = createGenerator(TINY, new Rng(21));
  const common = { count: 6, seed: 3, nz: TINY.nz, calibration: SMALL_CALIBRATION };
  await generateToFolder(g, path.join(out, 'tfjs'), { ...common, batchSize: 6 });
  await generateToFolder(g, path.join(out, 'onnx-a'), { ...common, batchSize: 6, runtime: 'onnx' });
  await generateToFolder(g, path.join(out, 'onnx-b'), { ...common, batchSize: 4, runtime: 'onnx' });
}
main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
