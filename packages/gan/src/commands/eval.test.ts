import { runCli } from '@dlcv/core';
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
    const errors: string[] = [];
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    jest.spyOn(console, 'error').mockImplementation((m: string) => void errors.push(m));
    expect(await runCli('dlcv-gan', [evalCommand], ['eval', '--engine', 'cpu', '--reference', 'x'])).toBe(2);
    expect(await runCli('dlcv-gan', [evalCommand], ['eval', '--engine', 'cpu', '--out', 'x'])).toBe(2);
    expect(errors.join('\n')).toMatch(/--out DIR is required[\s\S]*--reference is required: the validation faces \(hw2_data\/face\/val\)/);
  });
});
