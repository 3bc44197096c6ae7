// The libtorch engine's Adam: one addon call a step, without device reads, by ATen's fused kernel
// where the device has one (CUDA; the CPU from libtorch 2.4) or by tfjs's arithmetic in foreach
// ops (Debian's 1.13 on the CPU), as DLCV_TORCH_ADAM picks. Beside it, every engine's Adam
// against tfjs's: kernels/test/model.test.ts.
import * as tf from '@tensorflow/tfjs';

import { rand, relErr } from '../kernels/test-utils/compare';
import { describeEngine, ENGINES } from '../kernels/test-utils/engines';
import { adamFusedWanted, setTorchAdamFused, torchAddon, torchAdamFused } from './index';
import type { TorchBackend } from './backend';
import { recordAddonCalls } from './test-utils/torch-steps';

const entry = ENGINES.find((e) => e.name === 'libtorch')!;

describeEngine(entry, 'libtorch Adam', (engine) => {
  beforeEach(() => tf.setBackend(engine.backend));

  test('a variable that starts as a constant (zeros) trains under Adam; a tensor of the same value is untouched', () => {
    const zeros = tf.zeros([3]);
    const w = tf.variable(tf.zeros([3]), true, 'constant_start_w');
    const opt = tf.train.adam(0.5);
    opt.applyGradients([{ name: w.name, tensor: tf.ones([3]) }]);
    expect(Array.from(w.dataSync()).every((v) => v < 0)).toBe(true);
    expect(Array.from(zeros.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(tf.add(zeros, 0).dataSync())).toEqual([0, 0, 0]);
    tf.dispose([zeros, w]);
    opt.dispose();
  });

  test('Adam never reads the device for its beta powers (they start as constants, read on the host), and its powers match the device bit for bit', () => {
    const { calls: reads, restore } = recordAddonCalls(['download', 'downloadAsync']);
    const w = tf.variable(tf.tensor1d([0.5, -1, 2]), true, 'adam_reads_w');
    const g = tf.tensor1d([0.1, 0.2, -0.3]);
    const opt = tf.train.adam(0.01, 0.9, 0.999);
    const perStep: number[] = [];
    try {
      for (let i = 0; i < 4; i++) {
        const before = reads.length;
        opt.applyGradients([{ name: w.name, tensor: g }]);
        perStep.push(reads.length - before);
      }
    } finally {
      restore();
    }
    expect(perStep).toEqual([0, 0, 0, 0]);
    // 0.9^5 and 0.999^5 as ATen's float32 multiplies made them on the device
    const internals = opt as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    let p1 = Math.fround(0.9),
      p2 = Math.fround(0.999);
    for (let i = 0; i < 4; i++) [p1, p2] = [Math.fround(p1 * Math.fround(0.9)), Math.fround(p2 * Math.fround(0.999))];
    expect([internals.accBeta1.dataSync()[0], internals.accBeta2.dataSync()[0]]).toEqual([p1, p2]);
    tf.dispose([w, g]);
    opt.dispose();
  });

  test("Adam takes ATen's fused kernel by default where the engine's device has one, stepping as the foreach ops do (step counts moved by setWeights included); elsewhere asking for it is an error that names it", async () => {
    const addon = torchAddon()!;
    const backend = tf.backend() as unknown as TorchBackend;
    const onCuda = backend.onCuda;
    const hasKernel = addon.fusedAdamKernels()[onCuda ? 'cuda' : 'cpu'] === 1;
    const wasFused = torchAdamFused();
    if (process.env.DLCV_TORCH_ADAM === undefined) expect(wasFused).toBe(hasKernel);
    // DLCV_TORCH_ADAM's values
    expect(adamFusedWanted(addon, onCuda, undefined)).toBe(hasKernel);
    expect(adamFusedWanted(addon, onCuda, 'foreach')).toBe(false);
    expect(() => adamFusedWanted(addon, onCuda, 'fast')).toThrow('DLCV_TORCH_ADAM must be fused or foreach, not "fast"');
    // two steps, the state restored as if at step 9, a third: the weights and both moments
    const run = async (fused: boolean) => {
      setTorchAdamFused(fused);
      const w = tf.variable(tf.tensor(rand([40, 30], 11).data, [40, 30]), true, `adam_paths_w_${fused}`);
      const b = tf.variable(tf.tensor(rand([30], 12).data, [30]), true, `adam_paths_b_${fused}`);
      const opt = tf.train.adam(0.05, 0.9, 0.99);
      const grads = [13, 14, 15].map((seed) => [tf.tensor(rand([40, 30], seed).data, [40, 30]), tf.tensor(rand([30], seed + 10).data, [30])]);
      const step = (k: number) =>
        opt.applyGradients([
          { name: w.name, tensor: grads[k]![0]! },
          { name: b.name, tensor: grads[k]![1]! },
        ]);
      step(0);
      step(1);
      const saved = await opt.getWeights();
      saved[0]!.tensor.dispose();
      saved[0] = { name: saved[0]!.name, tensor: tf.scalar(9, 'int32') };
      await opt.setWeights(saved);
      step(2);
      const state = (await opt.getWeights()).slice(1).map((nt) => nt.tensor.dataSync().slice() as Float32Array);
      const r = [w.dataSync().slice() as Float32Array, b.dataSync().slice() as Float32Array, ...state];
      tf.dispose([w, b, ...grads.flat(), ...saved.map((nt) => nt.tensor)]);
      opt.dispose();
      return r;
    };
    try {
      const foreach = await run(false);
      expect(foreach).toHaveLength(6); // w, b, and their two moments
      if (hasKernel) {
        expect(adamFusedWanted(addon, onCuda, 'fused')).toBe(true);
        const fused = await run(true);
        // the same update; _fused_adam_ computes the bias corrections in double from the step number
        fused.forEach((values, i) => expect(relErr(values, foreach[i]!)).toBeLessThan(1e-5));
        // the fused kernel takes its bias corrections from t alone, the foreach ops from the
        // 1 - b^t they are given: one call with t 5 and the corrections of step 1 is step 5
        const n = 64;
        const upload = (seed: number, f: (value: number) => number) => addon.upload(rand([n], seed).data.map(f), [n], 0);
        const [x, g, m, v] = [upload(21, (e) => e), upload(22, (e) => e), upload(23, (e) => 0.1 * e), upload(24, (e) => 0.01 * Math.abs(e))];
        const acc = addon.upload(new Float32Array([0.5]), [], 0);
        const corrections = (t: number) => [Math.fround(1 - 0.9 ** t), Math.fround(1 - 0.99 ** t)] as const;
        const stepped = (fusedArg: number, t: number, [c1, c2]: readonly [number, number]) => {
          const out = addon.adam([x], [g], [m], [v], acc, acc, 0.05, 0.9, 0.99, 1e-7, c1, c2, fusedArg, t);
          const values = new Float32Array(n);
          addon.download(out[0]!, values);
          out.forEach((h) => addon.free(h));
          return values;
        };
        const step5 = stepped(0, 5, corrections(5));
        expect(relErr(stepped(1, 5, corrections(1)), step5)).toBeLessThan(1e-5);
        expect(relErr(stepped(0, 5, corrections(1)), step5)).toBeGreaterThan(1e-3);
        [x, g, m, v, acc].forEach((h) => addon.free(h));
      } else {
        const named = `libtorch ${addon.info().torch} has no fused Adam kernel (_fused_adam_) for ${onCuda ? 'CUDA' : 'the CPU'}`;
        expect(() => setTorchAdamFused(true)).toThrow(named);
        expect(() => adamFusedWanted(addon, onCuda, 'fused')).toThrow(`DLCV_TORCH_ADAM=fused, but ${named}`);
        expect(torchAdamFused()).toBe(false);
        // the addon refuses the call itself, before anything is queued
        const x = tf.ones([2]);
        const h = backend.handle(x);
        const live = addon.info().handles;
        expect(() => addon.adam([h], [h], [h], [h], h, h, 0.1, 0.9, 0.99, 1e-7, 0.1, 0.01, 1, 1)).toThrow(
          new RegExp(`^adam: libtorch ${addon.info().torch.replace(/\./g, '\\.')} has no fused Adam kernel \\(_fused_adam_\\) for ${onCuda ? 'cuda' : 'cpu'}$`),
        );
        expect(addon.info().handles).toBe(live);
        x.dispose();
      }
    } finally {
      setTorchAdamFused(wasFused);
    }
  });
});
