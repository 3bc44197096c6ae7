import { Rng } from '@dlcv/core';
import type { DetectorConfig } from './config';
import { FailureDetector, meanPairwiseDistance, median } from './detectors';

const CONFIG: DetectorConfig = { window: 10, dLossFloor: 0.05, gLossCeil: 6, diversityRatio: 0.2, warmupSteps: 100 };

describe('meanPairwiseDistance', () => {
  it('averages the distances of all pairs (a 3-4-5 triangle: mean 4)', () => {
    // (0,0), (3,0), (3,4): distances 3, 4, 5
    expect(meanPairwiseDistance([0, 0, 3, 0, 3, 4], 3, 2)).toBeCloseTo(4, 12);
  });
  it('is 0 for identical vectors and checks its sizes', () => {
    expect(meanPairwiseDistance([1, 2, 1, 2, 1, 2], 3, 2)).toBe(0);
    expect(() => meanPairwiseDistance([1, 2, 3], 2, 2)).toThrow(/needs 4 values, got 3/);
    expect(() => meanPairwiseDistance([1, 2], 1, 2)).toThrow(/at least 2 vectors/);
  });
});

describe('median', () => {
  it('of odd and even lengths', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});

describe('discriminator collapse', () => {
  it('fires at the step where the window median crosses, once, and reports the end', () => {
    const det = new FailureDetector(CONFIG);
    const events = [];
    // 30 healthy steps (D ~0.7, G ~2), then D wins: D ~0.001, G ~12.
    for (let step = 1; step <= 60; step++) {
      const collapsed = step > 30 && step <= 50;
      const e = det.observeLosses(step, collapsed ? 0.001 : 0.7, collapsed ? 12 : 2);
      if (e) events.push(e);
    }
    // A 10-step window's median (mean of the middle two) is collapsed once 6 of its values are
    // (window 27-36), and healthy again once 5 are (window 46-55).
    expect(events.map((e) => [e.kind, e.step, e.started])).toEqual([
      ['discriminator-collapse', 36, true],
      ['discriminator-collapse', 55, false],
    ]);
    expect(events[0]?.message).toMatch(/discriminator collapse at step 36: median D loss 0\.00100, G loss 12\.0/);
  });

  it('does not fire while G keeps up (D loss low, G loss moderate) or on a single bad batch', () => {
    const det = new FailureDetector(CONFIG);
    for (let step = 1; step <= 40; step++) expect(det.observeLosses(step, 0.01, 3)).toBeUndefined();
    const det2 = new FailureDetector(CONFIG);
    for (let step = 1; step <= 40; step++) expect(det2.observeLosses(step, step === 20 ? 0 : 0.8, step === 20 ? 50 : 1.5)).toBeUndefined();
    expect(det2.failing).toEqual([]);
  });

  it('carries its window through getState/setState (resume)', () => {
    const a = new FailureDetector(CONFIG);
    for (let step = 1; step <= 35; step++) a.observeLosses(step, step > 30 ? 0.001 : 0.7, step > 30 ? 12 : 2);
    const b = new FailureDetector(CONFIG);
    b.setState(JSON.parse(JSON.stringify(a.getState())));
    expect(b.observeLosses(36, 0.001, 12)?.step).toBe(36);
    expect(a.observeLosses(36, 0.001, 12)?.step).toBe(36);
  });
});

describe('mode collapse', () => {
  const dim = 64 * 64 * 3;
  const rng = new Rng(3);
  // Real batch: 16 independent images. Collapsed batch: one image plus tiny per-sample noise.
  const realBatch = rng.uniformArray(16 * dim, -1, 1);
  const base = rng.uniformArray(dim, -1, 1);
  const collapsed = new Float32Array(16 * dim);
  for (let i = 0; i < 16; i++) for (let k = 0; k < dim; k++) collapsed[i * dim + k] = (base[k] as number) + 0.02 * rng.normal();
  const healthy = rng.uniformArray(16 * dim, -1, 1);
  const realD = meanPairwiseDistance(realBatch, 16, dim);

  it('flags near-identical samples and not diverse ones', () => {
    const det = new FailureDetector(CONFIG);
    expect(det.observeDiversity(200, meanPairwiseDistance(healthy, 16, dim), realD)).toBeUndefined();
    const e = det.observeDiversity(250, meanPairwiseDistance(collapsed, 16, dim), realD);
    expect(e).toMatchObject({ kind: 'mode-collapse', step: 250, started: true });
    expect(e?.message).toMatch(/mode collapse at step 250: generated samples are \d+\.\d% as far apart as real ones/);
    expect(det.failing).toEqual(['mode-collapse']);
    expect(det.observeDiversity(300, meanPairwiseDistance(healthy, 16, dim), realD)).toMatchObject({ started: false, step: 300 });
  });

  it('waits for the warm-up: an untrained G is allowed to be monotonous', () => {
    const det = new FailureDetector(CONFIG);
    expect(det.observeDiversity(99, meanPairwiseDistance(collapsed, 16, dim), realD)).toBeUndefined();
    expect(det.observeDiversity(100, meanPairwiseDistance(collapsed, 16, dim), realD)?.started).toBe(true);
  });
});
