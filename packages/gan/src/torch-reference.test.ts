/**
 * The training step against PyTorch itself: the same weights and inputs through the tutorial's
 * networks and loop (scripts/torch_reference_step.py, float64), two steps. Runs where a Python
 * with torch is found (Debian: python3-torch), and says so in its name where not.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { findTorchPython, TORCH_REFERENCE_SCRIPT } from '@dlcv/core';
import { tempDir, TS_REGISTER } from './test-utils/fixtures';

const run = promisify(execFile);
const { python } = findTorchPython();
const maybe = python ? it : it.skip;

interface TorchOut {
  steps: { lossD: number; lossG: number }[];
  diffs: Record<'g' | 'd', { kind: string; maxAbsDiff: number }[]>;
}

maybe(`matches PyTorch's DCGAN step: losses, weights and running statistics${python ? '' : ' (skipped: no Python with torch)'}`, async () => {
  const dir = await tempDir('torch');
  try {
    const file = path.join(dir, 'tfjs.json');
    const here = path.join(__dirname, 'test-utils');
    await run(process.execPath, ['-r', TS_REGISTER, path.join(here, 'reference-child.ts'), file]);
    const { stdout } = await run(python as string, ['-B', path.join(__dirname, '..', 'scripts', 'torch_reference_step.py'), file], {
      maxBuffer: 1 << 24,
      env: { ...process.env, PYTHONPATH: path.dirname(TORCH_REFERENCE_SCRIPT) },
    });
    const torch = JSON.parse(stdout) as TorchOut;
    const ours = (JSON.parse(await fs.readFile(file, 'utf8')) as { results: { lossD: number; lossG: number }[] }).results;
    expect(ours).toHaveLength(2);
    torch.steps.forEach((t, i) => {
      expect(ours[i]?.lossD).toBeCloseTo(t.lossD, 4);
      expect(ours[i]?.lossG).toBeCloseTo(t.lossG, 4);
    });
    for (const net of ['g', 'd'] as const) {
      for (const { kind, maxAbsDiff } of torch.diffs[net]) {
        // Running statistics (once per step, unbiased variance, momentum 0.1) agree to float32
        // precision. Weights: a wrong layer or loss moves them by a whole Adam step (lr 5e-3 for
        // G); float32 against float64 leaves ~1e-4 after Adam amplifies tiny gradients.
        const tolerance = kind.startsWith('bn.running') ? 1e-5 : 1e-3;
        expect([net, kind, maxAbsDiff < tolerance]).toEqual([net, kind, true]);
      }
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
