import { PRESETS, presetConfig, validateTrainConfig } from './config';
import { DEFAULT_UNET_CONFIG } from './model';

describe('presets', () => {
  test.each(Object.keys(PRESETS))('%s passes the training config schema', (name) => {
    const c = presetConfig(name);
    expect(validateTrainConfig(c)).toEqual(c);
    expect(c.preset).toBe(name);
  });

  test("gpu: the report's network, batch and sampler, a fixed number of steps", () => {
    const { gpu, report } = PRESETS;
    expect(gpu.unet).toEqual({ ...DEFAULT_UNET_CONFIG, nFeat: 128 });
    expect(gpu.unet).toEqual(report.unet);
    expect(gpu.scheduler).toEqual(report.scheduler);
    expect(gpu.batchSize).toBe(report.batchSize);
    expect(gpu.sampling).toEqual(report.sampling);
    expect(gpu.sampling).toEqual({ sampler: 'ddpm', steps: 400, w: 2, eta: 0 });
    expect(gpu).toMatchObject({ steps: 3000, lr: 5e-4, emaDecay: 0.999, pUncond: 0.1, seed: 0, saveEvery: 1000 });
    // epochs is what 3,000 steps of 256 make of the homework's 44,800 digits: 175 steps each
    expect(gpu.epochs).toBe(Math.ceil(gpu.steps / Math.floor(44800 / gpu.batchSize)));
    // a grid every 10 epochs: 10 of the embedded data's 97 epochs
    expect(gpu.preview).toEqual({ perClass: 4, sampler: 'ddim', steps: 10, w: 2, every: 10 });
  });

  test('the report and cpu presets keep their settings', () => {
    expect(PRESETS.report).toMatchObject({ epochs: 100, batchSize: 256, lr: 1e-4, emaDecay: 0.9995, saveEvery: 1000 });
    expect(PRESETS.report).not.toHaveProperty('steps');
    expect(PRESETS.cpu).toMatchObject({ unet: { nFeat: 64 }, epochs: 8, steps: 4000, batchSize: 16, lr: 5e-4, emaDecay: 0.999, saveEvery: 200 });
    expect(PRESETS.cpu.sampling).toEqual({ sampler: 'ddim', steps: 10, w: 4, eta: 1 });
    // a grid every epoch, and no preview.every key: their runs' saved configs are as before
    expect(PRESETS.cpu.preview).not.toHaveProperty('every');
    expect(PRESETS.report.preview).not.toHaveProperty('every');
  });

  test('presetConfig returns a copy and names an unknown preset', () => {
    const c = presetConfig('gpu');
    c.unet.nFeat = 8;
    expect(PRESETS.gpu.unet.nFeat).toBe(128);
    expect(() => presetConfig('tpu')).toThrow('unknown preset "tpu"; choose one of report, cpu, gpu');
  });
});
