// BatchNorm2d's running statistics queued by deferRunningStats, on every engine: applied after the
// step in as few runningAverages kernels as keep each layer's updates in order, with the bits of
// one update per call.
import * as tf from '@tensorflow/tfjs';

import { RUNNING_AVERAGES } from '../engine/kernels/fused/names';
import { rand } from '../engine/kernels/test-utils/compare';
import { describeEachEngine } from '../engine/kernels/test-utils/engines';
import { BatchNorm2d, deferRunningStats, setRunningStatsDeferral } from './batch-norm';

/** Three built layers: two with momentum 0.1 and 4 channels, one with momentum 0.3 and 3. */
function layers(): BatchNorm2d[] {
  return [4, 4, 3].map((c, i) => {
    const bn = new BatchNorm2d({ numFeatures: c, momentum: i === 2 ? 0.3 : 0.1, inputShape: [3, 2, c] });
    tf.sequential({ layers: [bn] });
    return bn;
  });
}

const runningStats = (bns: BatchNorm2d[]) =>
  bns.flatMap((bn) =>
    bn
      .getWeights()
      .slice(2)
      .map((w) => Array.from(new Uint32Array(w.dataSync().buffer))),
  );

/** The calls of a step: layer 0 twice, around layer 1, then layer 2. */
const CALLS: [number, number][] = [
  [0, 1],
  [1, 2],
  [0, 3],
  [2, 4],
];

describeEachEngine('deferRunningStats', (engine) => {
  const inputs = (bns: BatchNorm2d[]) => CALLS.map(([layer, seed]) => tf.tensor(rand([2, 3, 2, bns[layer]!.numFeatures], seed).data, [2, 3, 2, bns[layer]!.numFeatures]));

  test('the updates after the step, in 3 kernels for 4 calls, the bits of one update per call', async () => {
    tf.setBackend(engine.backend);
    const now = layers();
    const later = layers();
    const xs = inputs(now);
    CALLS.forEach(([layer], i) => tf.dispose(now[layer]!.apply(xs[i]!, { training: true }) as tf.Tensor));
    const untouched = runningStats(later);
    let inside: number[][] = [];
    const { kernels } = await tf.profile(() =>
      deferRunningStats(() => {
        CALLS.forEach(([layer], i) => tf.dispose(later[layer]!.apply(xs[i]!, { training: true }) as tf.Tensor));
        inside = runningStats(later);
      }),
    );
    expect(inside).toEqual(untouched);
    // rounds: layers 0 and 1; layer 0 again; layer 2 (another momentum)
    expect(kernels.filter((k) => k.name === RUNNING_AVERAGES)).toHaveLength(3);
    expect(runningStats(later)).toEqual(runningStats(now));
    expect(runningStats(later)).not.toEqual(untouched);
    tf.dispose(xs);
  });

  test('a step that throws moves no running statistic and leaves nothing behind', () => {
    tf.setBackend(engine.backend);
    const bns = layers();
    const xs = inputs(bns);
    const before = runningStats(bns);
    const tensors = tf.memory().numTensors;
    expect(() =>
      deferRunningStats(() => {
        tf.dispose(bns[0]!.apply(xs[0]!, { training: true }) as tf.Tensor);
        throw new Error('the step failed');
      }),
    ).toThrow('the step failed');
    expect(runningStats(bns)).toEqual(before);
    expect(tf.memory().numTensors).toBe(tensors);
    // and calls after it update at once again
    tf.dispose(bns[0]!.apply(xs[0]!, { training: true }) as tf.Tensor);
    expect(runningStats(bns)).not.toEqual(before);
    tf.dispose(xs);
  });

  test("nested: the outer call applies the inner one's updates", () => {
    tf.setBackend(engine.backend);
    const bns = layers();
    const xs = inputs(bns);
    const before = runningStats(bns);
    deferRunningStats(() => {
      deferRunningStats(() => tf.dispose(bns[1]!.apply(xs[1]!, { training: true }) as tf.Tensor));
      expect(runningStats(bns)).toEqual(before);
    });
    expect(runningStats(bns)).not.toEqual(before);
    tf.dispose(xs);
  });

  test('with the deferral off (setRunningStatsDeferral), each call updates at once: one kernel a call', async () => {
    tf.setBackend(engine.backend);
    const bns = layers();
    const xs = inputs(bns);
    const before = runningStats(bns);
    setRunningStatsDeferral(false);
    try {
      const { kernels } = await tf.profile(() =>
        deferRunningStats(() => {
          tf.dispose(bns[1]!.apply(xs[1]!, { training: true }) as tf.Tensor);
          expect(runningStats(bns)).not.toEqual(before);
          tf.dispose(bns[0]!.apply(xs[0]!, { training: true }) as tf.Tensor);
        }),
      );
      expect(kernels.filter((k) => k.name === RUNNING_AVERAGES)).toHaveLength(2);
    } finally {
      setRunningStatsDeferral(true);
    }
    tf.dispose(xs);
  });
});
