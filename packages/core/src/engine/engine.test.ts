import * as tf from '@tensorflow/tfjs';
import { describeEngine, parseEngineName, setupEngine } from './engine';

describe('engine selection', () => {
  const saved = process.env.DLCV_ENGINE;
  afterEach(() => {
    if (saved === undefined) delete process.env.DLCV_ENGINE;
    else process.env.DLCV_ENGINE = saved;
  });

  it('rejects unknown engine names, naming the source', () => {
    expect(() => parseEngineName('cuda', 'DLCV_ENGINE')).toThrow(/DLCV_ENGINE: unknown engine "cuda"/);
  });

  it('errors (no silent fallback) when a forced engine is missing', async () => {
    await expect(setupEngine({ engine: 'tfjs-node-gpu' })).rejects.toThrow(/tfjs-node-gpu.*cannot be used: not installed/);
  });

  it('picks the best available engine and explains what it passed over', async () => {
    const info = await setupEngine({ engine: undefined });
    // tfjs-node(-gpu) are optional and absent on CI machines: they must be listed as passed over.
    const skippedNames = info.skipped.map((s) => s.engine);
    if (info.engine !== 'tfjs-node-gpu') expect(skippedNames).toContain('tfjs-node-gpu');
    expect(tf.getBackend()).toBe(info.backend);
  });
  it('activates the forced cpu engine and says so in one line', async () => {
    const info = await setupEngine({ engine: 'cpu' });
    expect(info.engine).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(describeEngine(info)).toMatch(/^engine: cpu \[tfjs backend "cpu"\], 1 thread, /);
  });
});
