import * as tf from '@tensorflow/tfjs';

import { maxRelativeDifference, runOnCpuAndEngine } from './engine-parity';
import { loadTorchBackend } from './torch';

describe('maxRelativeDifference', () => {
  test('|a - b| relative to |b| above 1, absolute below; Infinity for NaN; lengths must match', () => {
    expect(maxRelativeDifference([1, 200, 0.5], [1, 100, 0.25])).toBe(1);
    expect(maxRelativeDifference([0.5], [0.25])).toBe(0.25);
    expect(maxRelativeDifference(new Float32Array([1, NaN]), new Float32Array([1, 2]))).toBe(Infinity);
    expect(() => maxRelativeDifference([1], [1, 2])).toThrow('1 values against 2');
  });
});

describe('runOnCpuAndEngine on libtorch', () => {
  test('both results, and the kernels that ran on the host during the engine run (Floor has no ATen kernel); cpu is active after', async () => {
    const run = async () => {
      const x = tf.tensor1d([1.5, -0.5, 2.25]);
      const y = tf.tidy(() => tf.floor(tf.mul(x, 2)));
      const values = Array.from(await y.data());
      tf.dispose([x, y]);
      return { backend: tf.getBackend(), values };
    };
    const torch = loadTorchBackend();
    if (torch.ok && (torch.onCuda || process.env.DLCV_TORCH_STRICT === '1')) {
      // where a host trip is an error, the engine run fails naming the kernel
      await expect(runOnCpuAndEngine('libtorch', run)).rejects.toThrow(/kernel Floor has no ATen implementation/);
      expect(tf.getBackend()).toBe('cpu');
      return;
    }
    const r = await runOnCpuAndEngine('libtorch', run);
    if (!r.ok) {
      expect(process.env.DLCV_REQUIRE_TORCH).not.toBe('1');
      return console.warn(`SKIPPING runOnCpuAndEngine on libtorch: ${r.reason}`);
    }
    expect(r.cpu).toEqual({ backend: 'cpu', values: [3, -1, 4] });
    expect(r.engine).toEqual({ backend: 'dlcv-torch', values: [3, -1, 4] });
    expect(r.hostKernels).toEqual(['Floor x1']);
    expect(tf.getBackend()).toBe('cpu');
  });
});
