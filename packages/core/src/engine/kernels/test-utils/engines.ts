// The engines the kernel specs run on, each compared with the tfjs cpu backend. An engine is a
// tfjs backend whose kernels come from ../register-all.ts over its DeviceOps; a new engine runs
// every spec by adding itself to ENGINES.
import * as tf from '@tensorflow/tfjs';

import { DEVICE_ENGINES, type DeviceEngine } from '../../engine-parity';
import type { KernelStats } from '../kernel';
import { check, type Spec } from './compare';

export interface EngineEntry extends DeviceEngine {
  /** Label in test names. */
  name: string;
  /**
   * Makes every kernel output start as NaN (so an element a kernel leaves unwritten fails the
   * comparisons); for engines whose kernels write into outputs they allocate or recycle.
   */
  setOutputPoison?(on: boolean): void;
}

// Loading an engine's module does nothing until its load() is called: a spec file loads only
// the addons its engines need.
export const ENGINES: EngineEntry[] = [
  {
    name: 'native',
    ...DEVICE_ENGINES.native,
    setOutputPoison: (on) => (require('../../native/alloc') as typeof import('../../native/alloc')).setOutputPoison(on),
  },
  // Every output is a tensor ATen made (no buffers are recycled): nothing to poison. A kernel
  // without an ATen version is an error here (DLCV_TORCH_STRICT), as it is on CUDA, so a spec
  // that would make a host trip fails on the CPU too.
  {
    name: 'libtorch',
    ...DEVICE_ENGINES.libtorch,
    load: () => {
      process.env.DLCV_TORCH_STRICT ??= '1';
      return DEVICE_ENGINES.libtorch.load();
    },
  },
];

/** An engine that loaded, as the specs see it. */
export interface EngineUnderTest {
  name: string;
  /** Its tfjs backend name. */
  backend: string;
  kernelStats(): KernelStats;
  /** compare.ts's check() on this engine. */
  check(name: string, inputs: Spec[], fn: (...xs: tf.Tensor[]) => tf.Tensor, opts?: { grad?: boolean; tol?: number }): void;
}

/**
 * describe(title) for one engine, with `fn` declaring its specs. Where the engine does not load,
 * one test says why (and fails when its requireEnv is 1).
 */
export function describeEngine(entry: EngineEntry, title: string, fn: (engine: EngineUnderTest) => void): void {
  const loaded = entry.load();
  if (!loaded.ok) {
    console.warn(`SKIPPING ${title} on ${entry.name}: ${loaded.reason}`);
    describe(`${title} [${entry.name}]`, () => {
      test(`${entry.name} engine not available (kernel tests skipped)`, () => {
        // CI sets the variable where the engine must exist, so a broken build fails loudly.
        if (process.env[entry.requireEnv] === '1') throw new Error(`${entry.requireEnv}=1 but ${loaded.reason}`);
        expect(loaded.ok).toBe(false);
      });
    });
    return;
  }
  describe(`${title} [${entry.name}]`, () => {
    beforeAll(() => entry.setOutputPoison?.(true));
    afterAll(() => {
      entry.setOutputPoison?.(false);
      tf.setBackend('cpu');
    });
    const backend = loaded.backendName;
    fn({
      name: entry.name,
      backend,
      kernelStats: () => entry.kernelStats(),
      check: (name, inputs, f, opts) => check(backend, name, inputs, f, opts),
    });
  });
}

/** describeEngine for every engine in ENGINES. */
export function describeEachEngine(title: string, fn: (engine: EngineUnderTest) => void): void {
  for (const entry of ENGINES) describeEngine(entry, title, fn);
}

/** Expects no fallbacks so far for `kernels` on the engine. */
export function expectNoFallbacks(engine: EngineUnderTest, kernels: string[]): void {
  const stats = engine.kernelStats();
  for (const k of kernels) expect(stats.get(k)?.fallback ?? 0).toBe(0);
}
