import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { findTorchPython, intFlag, Rng, UsageError, type Command } from '@dlcv/core';
import { DannNet, REPORT_NET } from '../model';
import { dannStep, makeOptimizer } from '../step';

const run = promisify(execFile);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

interface TorchResult { torch: string; threads: number; ms: number[] }

/** The PyTorch reference, or why there is none (core's findTorchPython picks the interpreter). */
async function torchBench(batch: number, steps: number, threads: number): Promise<{ ok: true; python: string; result: TorchResult } | { ok: false; reason: string }> {
  const script = path.join(__dirname, '..', '..', 'scripts', 'bench_torch.py');
  const { python, tried } = findTorchPython();
  if (!python) return { ok: false, reason: `no torch in ${tried.join(', ')}` };
  const { stdout } = await run(python, [script, '--batch', String(batch), '--steps', String(steps), '--threads', String(threads)], { timeout: 1_800_000 });
  return { ok: true, python, result: JSON.parse(stdout.trim().split('\n').pop() as string) as TorchResult };
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Time one DANN training step (report networks, batch 256 source + 256 target) on this engine, beside PyTorch CPU when python3 has torch.',
  usage: 'bench [--batch 256] [--steps 5] [--engine native|cpu|...]',
  flags: { batch: { type: 'string' }, steps: { type: 'string' } },
  async run({ flags, engine }) {
    const batch = intFlag(flags.batch, 'batch', 256);
    const steps = intFlag(flags.steps, 'steps', 5);
    if (batch < 2 || steps < 1) throw new UsageError('--batch must be >= 2 and --steps >= 1');
    const rng = new Rng(0);
    const net = new DannNet(REPORT_NET, rng);
    const optimizer = makeOptimizer(1e-3);
    const size = REPORT_NET.imageSize;
    const xs = tf.tensor4d(rng.uniformArray(batch * size * size, -1, 1), [batch, size, size, 1]);
    const xt = tf.tensor4d(rng.uniformArray(batch * size * size, -1, 1), [batch, size, size, 1]);
    const ys = tf.tensor1d(Int32Array.from({ length: batch }, (_, i) => i % 10), 'int32');
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
    console.log(`tfjs ${engine?.engine ?? '?'} (${threads} thread${threads === 1 ? '' : 's'}): median ${ours.toFixed(0)} ms/step over ${steps} steps [${ms.map((v) => v.toFixed(0)).join(', ')}]`);
    const torch = await torchBench(batch, steps, threads);
    if (!torch.ok) {
      console.log(`PyTorch CPU: absent (${torch.reason})`);
      return;
    }
    const theirs = median(torch.result.ms);
    console.log(`PyTorch ${torch.result.torch} CPU (${torch.result.threads} threads, ${torch.python}): median ${theirs.toFixed(0)} ms/step [${torch.result.ms.map((v) => v.toFixed(0)).join(', ')}]`);
    console.log(`ratio tfjs / PyTorch: ${(ours / theirs).toFixed(2)}x (batch ${batch} + ${batch}, same networks, same thread count)`);
  },
};
