import { runCli, setupEngine } from '@dlcv/core';
import { summaryCommand } from './commands/summary';
import { makeTrainConfig, resumeConflicts, TRAIN_PRESETS } from './config';
import { MODEL_PRESETS } from './models';

describe('training presets', () => {
  it("report: the report's table (Adam, D 0.0005, G 0.005, beta1 0.5)", () => {
    expect(TRAIN_PRESETS.report).toMatchObject({ lrD: 0.0005, lrG: 0.005, beta1: 0.5 });
  });
  it('tutorial: 2e-4 for both, beta1 0.5, batch 128', () => {
    expect(TRAIN_PRESETS.tutorial).toEqual({ lrD: 2e-4, lrG: 2e-4, beta1: 0.5, batchSize: 128 });
  });
  it('makeTrainConfig takes the preset, then explicit values, and validates', () => {
    const c = makeTrainConfig({ gan: MODEL_PRESETS.A, datasetSize: 38464, data: 'faces', preset: 'tutorial', lrG: 1e-3 });
    expect(c).toMatchObject({ lrD: 2e-4, lrG: 1e-3, batchSize: 128, epochs: 25 });
    expect(() => makeTrainConfig({ gan: MODEL_PRESETS.A, datasetSize: 100, data: 'x' })).toThrow(/100 images are fewer than one batch of 128/);
    expect(() => makeTrainConfig({ gan: MODEL_PRESETS.A, datasetSize: 1000, data: 'x', lrD: 0 })).toThrow(/lrD must be a positive number/);
    expect(() => makeTrainConfig({ gan: { ...MODEL_PRESETS.A, ngf: 0 }, datasetSize: 1000, data: 'x' })).toThrow(/ngf must be a positive integer/);
  });
  it('resumeConflicts lists what changes the result and ignores what does not', () => {
    const a = makeTrainConfig({ gan: MODEL_PRESETS.A, datasetSize: 1000, data: 'x' });
    expect(resumeConflicts(a, { ...a, epochs: 50, checkpointEvery: 7, data: 'moved' })).toEqual([]);
    expect(resumeConflicts(a, { ...a, gan: MODEL_PRESETS.B, seed: 3 })).toEqual([
      'gan: checkpoint {"nz":100,"ngf":64,"ndf":64,"channels":3}, now {"nz":100,"ngf":128,"ndf":128,"channels":3}',
      'seed: checkpoint 0, now 3',
    ]);
  });
});

describe('summary command', () => {
  it('prints both printouts and the parameter counts', async () => {
    await setupEngine({ engine: 'cpu' });
    const out: string[] = [];
    jest.spyOn(console, 'log').mockImplementation((m: string) => void out.push(m));
    expect(await runCli('dlcv-gan', [summaryCommand], ['summary', '--engine', 'cpu', '--model', 'A'])).toBe(0);
    jest.restoreAllMocks();
    const text = out.join('\n');
    expect(text).toMatch(/Generator A: 3,576,704 parameters/);
    expect(text).toMatch(/Discriminator A: 2,765,568 parameters/);
    expect(text).toMatch(/\(12\): ConvTranspose2d\(64, 3, kernel_size=\(4, 4\), stride=\(2, 2\), padding=\(1, 1\), bias=False\)/);
  });
});
