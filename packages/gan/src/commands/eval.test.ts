import { UsageError } from '@dlcv/core';
import { BASELINES, evalCommand, verdict } from './eval';

describe('eval verdicts against the assignment baselines', () => {
  it('FID: lower is better (30 simple, 27 strong)', () => {
    expect(verdict(24.19, BASELINES.fid, true)).toBe('passes the strong baseline');
    expect(verdict(27, BASELINES.fid, true)).toBe('passes the strong baseline');
    expect(verdict(28.5, BASELINES.fid, true)).toBe('passes the simple baseline only');
    expect(verdict(30.01, BASELINES.fid, true)).toBe('below the simple baseline');
  });
  it('face rate: higher is better (85% simple, 90% strong)', () => {
    expect(verdict(0.903, BASELINES.faceRate, false)).toBe('passes the strong baseline');
    expect(verdict(0.891, BASELINES.faceRate, false)).toBe('passes the simple baseline only');
    expect(verdict(0.8, BASELINES.faceRate, false)).toBe('below the simple baseline');
  });
});

describe('eval command', () => {
  afterEach(() => jest.restoreAllMocks());
  it('needs the output folder and the reference faces', async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    await expect(evalCommand.invoke(['--engine', 'cpu', '--reference', 'x'])).rejects.toThrow(new UsageError('--out is required'));
    await expect(evalCommand.invoke(['--engine', 'cpu', '--out', 'x'])).rejects.toThrow(/^--reference is required$/);
    await expect(evalCommand.invoke(['--engine', 'cpu', '--out', 'x', '--reference', 'y', '--features', 'pixels'])).rejects.toThrow(
      '--features must be one of inception, face-descriptor, got "pixels"',
    );
  });
});
