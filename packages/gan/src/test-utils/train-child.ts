// Child process of trainer.test.ts: one `train()` run on a fixture face folder, described by a
// JSON argument; prints one JSON line with the result, the warnings and any error.
import * as tf from '@tensorflow/tfjs';
import { openImageFolder, setupEngine } from '@dlcv/core';
import { makeTrainConfig, type TrainConfig } from '../config';
import { train, type BatchSource } from '../trainer';
import { SMALL_CALIBRATION, TINY } from './fixtures';

export interface ChildSpec {
  runDir: string;
  faces: string;
  config: Partial<TrainConfig>;
  stopAtStep?: number;
  resume?: boolean;
  /** Replace the n-th batch asked for (1-based) by NaNs. */
  poisonBatch?: number;
  /** Make the n-th batch asked for (1-based) fail to load, as an unreadable image does. */
  failBatch?: number;
  /** Batches with labels too, as a labelled dataset (the demo digits) gives them. */
  labelled?: boolean;
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] as string) as ChildSpec;
  await setupEngine({ engine: 'cpu' });
  const faces = await openImageFolder(spec.faces);
  let reads = 0;
  const source: BatchSource = {
    length: faces.length,
    async getBatch(indices, scaling) {
      // Counted when asked for, not when decoded: two loads may be in flight at once.
      const n = ++reads;
      if (n === spec.failBatch) throw new Error(`${spec.faces}/0003.png: not a readable image (truncated)`);
      const batch = await faces.getBatch(indices, scaling);
      if (spec.labelled) batch.y = tf.tensor1d(Int32Array.from(indices), 'int32');
      if (n !== spec.poisonBatch) return batch;
      batch.x.dispose();
      return { x: tf.fill([indices.length, 64, 64, 3], NaN) as tf.Tensor4D };
    },
  };
  const config = makeTrainConfig({ gan: TINY, datasetSize: faces.length, data: spec.faces, calibration: SMALL_CALIBRATION, ...spec.config });
  const warnings: string[] = [];
  const logs: string[] = [];
  try {
    const result = await train({
      runDir: spec.runDir,
      config,
      source,
      resume: spec.resume,
      stopAtStep: spec.stopAtStep,
      quiet: true,
      log: (l) => logs.push(l),
      warn: (l) => warnings.push(l),
    });
    // the tensors the run keeps when it ends (its networks and optimizers): as many whatever its length
    const tensors = tf.memory().numTensors;
    process.stdout.write(`${JSON.stringify({ result, warnings, logs, tensors })}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: (err as Error).message, warnings, logs })}\n`);
  }
}
void main();
