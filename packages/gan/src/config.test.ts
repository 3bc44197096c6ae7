import { configDifferences, setupEngine } from '@dlcv/core';
import { summaryCommand } from './commands/summary';
import { DEFAULT_DETECTOR, GPU_RUN, makeTrainConfig, RESUMABLE_CHANGES, TRAIN_PRESETS, validateTrainConfig } from './config';
import { collapseRepr, MODEL_PRESETS } from './model';
import * as report from './test-utils/report-printouts';

describe('training presets', () => {
  it("report: the report's table (Adam, D 0.0005, G 0.005, beta1 0.5)", () => {
    expect(TRAIN_PRESETS.report).toMatchObject({ lrD: 0.0005, lrG: 0.005, beta1: 0.5 });
  });
  it('tutorial: 2e-4 for both, beta1 0.5, batch 128', () => {
    expect(TRAIN_PRESETS.tutorial).toEqual({ lrD: 2e-4, lrG: 2e-4, beta1: 0.5, batchSize: 128 });
  });
  it("the GPU run: the report's model B and optimizer, batch 128, 20 epochs of the faces (6,000 steps)", () => {
    expect(GPU_RUN).toEqual({ model: 'B', preset: 'report', epochs: 20 });
    const c = makeTrainConfig({ model: GPU_RUN.model, gan: MODEL_PRESETS[GPU_RUN.model], preset: GPU_RUN.preset, epochs: GPU_RUN.epochs, datasetSize: 38464, data: 'faces' });
    expect(validateTrainConfig(c)).toEqual(c);
    expect(c).toMatchObject({ model: 'B', gan: { nz: 100, ngf: 128, ndf: 128, channels: 3 }, lrD: 5e-4, lrG: 5e-3, beta1: 0.5, batchSize: 128, epochs: 20 });
    expect(c.epochs * Math.floor(c.datasetSize / c.batchSize)).toBe(6000);
  });
  it('makeTrainConfig takes the preset, then explicit values, and validates', () => {
    const c = makeTrainConfig({ gan: MODEL_PRESETS.A, datasetSize: 38464, data: 'faces', preset: 'tutorial', lrG: 1e-3 });
    expect(c).toMatchObject({ lrD: 2e-4, lrG: 1e-3, batchSize: 128, epochs: 25, saveEvery: 500 });
    expect(() => makeTrainConfig({ gan: MODEL_PRESETS.A, datasetSize: 100, data: 'x' })).toThrow(/datasetSize: 100 images are fewer than one batch of 128/);
    expect(() => makeTrainConfig({ gan: MODEL_PRESETS.A, datasetSize: 1000, data: 'x', lrD: 0 })).toThrow(/lrD: must be a positive number/);
    expect(() => makeTrainConfig({ gan: { ...MODEL_PRESETS.A, ngf: 0 }, datasetSize: 1000, data: 'x' })).toThrow(/gan\.ngf: must be a positive integer/);
  });
  it('validateTrainConfig names the field of each problem, nested ones dotted', () => {
    const c = makeTrainConfig({ gan: MODEL_PRESETS.A, datasetSize: 1000, data: 'x' });
    expect(validateTrainConfig(c)).toEqual(c);
    const bad = (over: object) => () => validateTrainConfig({ ...c, ...over } as typeof c);
    expect(bad({ gan: { ...MODEL_PRESETS.A, channels: 2 } })).toThrow('training config: gan.channels: must be 1 or 3');
    expect(bad({ detector: { ...DEFAULT_DETECTOR, window: 0 } })).toThrow('training config: detector.window: must be a positive integer');
    expect(bad({ calibration: { batches: 1.5, batchSize: 8 } })).toThrow('training config: calibration.batches: must be a positive integer');
    expect(bad({ beta1: 1 })).toThrow('training config: beta1: must be in [0, 1)');
    expect(bad({ seed: -1 })).toThrow('training config: seed: must be a non-negative integer');
    expect(bad({ saveEvery: 0 })).toThrow('training config: saveEvery: must be a positive integer');
  });
  it('a resumed run may change what does not change the result, and nothing else', () => {
    expect([...RESUMABLE_CHANGES].sort()).toEqual([
      'calibration',
      'checkpointEvery',
      'data',
      'detector',
      'diversityEvery',
      'epochs',
      'model',
      'preset',
      'saveEvery',
      'stopOnFailure',
    ]);
    const a = makeTrainConfig({ gan: MODEL_PRESETS.A, datasetSize: 1000, data: 'x' });
    expect(configDifferences(a, { ...a, epochs: 50, saveEvery: 7, data: 'moved' }, RESUMABLE_CHANGES)).toEqual([]);
    expect(configDifferences(a, { ...a, gan: MODEL_PRESETS.B, seed: 3 }, RESUMABLE_CHANGES)).toEqual(['gan.ngf: 64 -> 128', 'gan.ndf: 64 -> 128', 'seed: 0 -> 3']);
  });
});

describe('summary command', () => {
  it('prints both printouts as the report has them, and the parameter counts', async () => {
    await setupEngine({ engine: 'cpu' });
    const out: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((m: string) => void out.push(m));
    await summaryCommand.invoke(['--engine', 'cpu', '--model', 'A']);
    jest.restoreAllMocks();
    const text = out.join('\n');
    expect(text).toMatch(/Generator A: 3,576,704 parameters/);
    expect(text).toMatch(/Discriminator A: 2,765,568 parameters/);
    expect(text).toMatch(/\(12\): ConvTranspose2d\(64, 3, kernel_size=\(4, 4\), stride=\(2, 2\), padding=\(1, 1\), bias=False\)/);
    const printout = (cls: string) => collapseRepr((text.match(new RegExp(`^${cls}\\(\\n[\\s\\S]*?\\n\\)$`, 'm')) ?? [''])[0]);
    expect(printout('Generator')).toBe(report.generatorA);
    expect(printout('Discriminator')).toBe(report.discriminatorA);
  });
});
