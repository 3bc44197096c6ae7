import * as tf from '@tensorflow/tfjs';
import { defineCommand, flag, Rng, timeTorchReference } from '@dlcv/core';
import { DannNet, REPORT_NET } from '../model';
import { dannStep, makeOptimizer } from '../step';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

export const benchCommand = defineCommand({
  name: 'bench',
  summary: 'Time one DANN training step (report networks, batch 256 source + 256 target) on this engine, beside PyTorch CPU when python3 has torch.',
  flags: {
    batch: flag.int({ help: 'source images per step (and as many target images)', default: 256, min: 2 }),
    steps: flag.int({ help: 'timed steps (the median is shown)', default: 5, min: 1 }),
  },
  async run({ flags, engine }) {
    const { batch, steps } = flags;
    const rng = new Rng(0);
    const net = new DannNet(REPORT_NET, rng);
    const optimizer = makeOptimizer(1e-3);
    const size = REPORT_NET.imageSize;
    const xs = tf.tensor4d(rng.uniformArray(batch * size * size, -1, 1), [batch, size, size, 1]);
    const xt = tf.tensor4d(rng.uniformArray(batch * size * size, -1, 1), [batch, size, size, 1]);
    const ys = tf.tensor1d(
      Int32Array.from({ length: batch }, (_, i) => i % 10),
      'int32',
    );
    await dannStep(net, optimizer, xs, ys, xt, 0.5, rng); // warm-up: kernel setup, first allocations
    const ms: number[] = [];
    for (let s = 0; s < steps; s++) {
      const t = performance.now();
      await dannStep(net, optimizer, xs, ys, xt, 0.5, rng);
      ms.push(performance.now() - t);
    }
    tf.dispose([xs, xt, ys]);
    net.dispose();
    const ours = median(ms);
    const threads = engine?.threads ?? 1;
    console.log(
      `tfjs ${engine?.engine ?? '?'} (${threads} thread${threads === 1 ? '' : 's'}): median ${ours.toFixed(0)} ms/step over ${steps} steps [${ms.map((v) => v.toFixed(0)).join(', ')}]`,
    );
    // Same thread count as the engine, so the ratio compares implementations, not core counts.
    const torch = timeTorchReference(['dann_train'], { batch, steps, warmup: 1, threads });
    const seconds = typeof torch === 'string' ? undefined : torch.cases.dann_train?.seconds;
    if (typeof torch === 'string' || !seconds?.length) {
      console.log(`PyTorch CPU: ${typeof torch === 'string' ? torch : 'no timings returned'}`);
      return;
    }
    const torchMs = seconds.map((sec) => sec * 1000);
    const theirs = median(torchMs);
    console.log(
      `PyTorch ${torch.torch} CPU (${torch.threads} threads, BLAS ${torch.blas.info}, ${torch.python}): median ${theirs.toFixed(0)} ms/step [${torchMs.map((v) => v.toFixed(0)).join(', ')}]`,
    );
    console.log(`ratio tfjs / PyTorch: ${(ours / theirs).toFixed(2)}x (batch ${batch} + ${batch}, same networks, same thread count)`);
  },
});
