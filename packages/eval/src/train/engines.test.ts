// The digit classifiers' training (train-classifier's step: Adam on cross-entropy with label
// smoothing) on each device engine against the tfjs cpu backend, then their eval-mode logits,
// every kernel of them on the engine. On libtorch that is the condition for training them on
// CUDA, where a kernel that would leave the device for the host is an error.
import * as tf from '@tensorflow/tfjs';
import { maxRelativeDifference, Rng, runOnCpuAndEngine, type DeviceEngineName } from '@dlcv/core';

import { buildDigitClassifier } from '../networks/digit-classifier-model';
import { buildStrictClassifier } from '../networks/strict-digit-classifier-model';

const BATCH = 6;
const ARCHITECTURES = {
  homework: () => buildDigitClassifier({ size: 28, conv1: 3, conv2: 4, fc1: 16, fc2: 8, classes: 10 }, 2),
  // BatchNorm after every convolution: the eval-mode logits read its running statistics
  strict: () => buildStrictClassifier({ size: 28, c1: 4, c2: 4, c3: 8, features: 16, classes: 10 }, 2),
};

/** The losses of two steps and the eval-mode logits after them. */
function trainThenClassify(build: () => tf.LayersModel) {
  return async (): Promise<{ losses: number[]; logits: Float32Array }> => {
    const rng = new Rng(6);
    const model = build();
    const optimizer = tf.train.adam(1e-3);
    const x = tf.tensor4d(rng.uniformArray(BATCH * 28 * 28 * 3, -1, 1), [BATCH, 28, 28, 3]);
    const labels = tf.tidy(() =>
      tf.oneHot(
        tf.tensor1d(
          Int32Array.from({ length: BATCH }, (_, i) => (i * 7) % 10),
          'int32',
        ),
        10,
      ),
    );
    const losses: number[] = [];
    for (let step = 0; step < 2; step++) {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.apply(x, { training: true }) as tf.Tensor2D, undefined, 0.1), true) as tf.Scalar;
      losses.push((await loss.data())[0]!);
      loss.dispose();
    }
    const y = model.predict(x) as tf.Tensor;
    const logits = (await y.data()) as Float32Array;
    tf.dispose([x, labels, y]);
    optimizer.dispose();
    model.dispose();
    return { losses, logits };
  };
}

describe.each<DeviceEngineName>(['native', 'libtorch'])('digit classifiers on the %s engine', (engine) => {
  test.each(Object.entries(ARCHITECTURES))('%s: two training steps, then eval-mode logits: the cpu backend values, no kernel on the host', async (arch, build) => {
    const r = await runOnCpuAndEngine(engine, trainThenClassify(build));
    if (!r.ok) return console.warn(`SKIPPING the ${arch} classifier on ${engine}: ${r.reason}`);
    expect(r.hostKernels).toEqual([]);
    expect(r.left).toEqual({ dataIds: 0, handles: 0 }); // everything it made was disposed
    expect(r.engine.logits).toHaveLength(BATCH * 10);
    expect(maxRelativeDifference(r.engine.losses, r.cpu.losses)).toBeLessThan(1e-4);
    expect(maxRelativeDifference(r.engine.logits, r.cpu.logits)).toBeLessThan(1e-4);
  });
});
