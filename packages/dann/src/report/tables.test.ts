import { buildTables, tablesMarkdown } from './tables';
import { tinyConfig } from '../test-utils/fixtures';
import type { RunResult } from '../result';
import type { Domain, RunSpec } from '../index';

const run = (spec: RunSpec, accuracy: Partial<Record<Domain, number>>): RunResult => ({
  name: spec.unlabelled ? `${spec.labelled}-to-${spec.unlabelled}-dann` : `${spec.labelled}-only`,
  spec,
  config: tinyConfig(),
  data: { mnistm: 'mnistm', svhn: 'svhn (embedded syndigits stand-in)', usps: 'usps' },
  selection: 'held-out',
  bestEpoch: 2,
  heldOutAccuracy: 0.9,
  accuracy,
  epochs: [],
  steps: 8,
  trainSeconds: 1,
});

describe('report tables', () => {
  const results = [
    run({ labelled: 'mnistm' }, { mnistm: 0.9, svhn: 0.35, usps: 0.7 }),
    run({ labelled: 'svhn' }, { mnistm: 0.5, svhn: 0.91, usps: 0.6 }),
    run({ labelled: 'usps' }, { mnistm: 0.3, svhn: 0.2, usps: 0.98 }),
    run({ labelled: 'mnistm', unlabelled: 'svhn' }, { svhn: 0.42, mnistm: 0.88 }),
    run({ labelled: 'mnistm', unlabelled: 'usps' }, { usps: 0.8, mnistm: 0.89 }),
  ];

  it('puts every accuracy in its cell', () => {
    const t = buildTables(results, { usps: 0.75 });
    expect(t.table.lowerBound).toEqual([0.9, 0.35, 0.7]);
    expect(t.table.sourceBn).toEqual([null, null, 0.75]);
    expect(t.table.dann).toEqual([null, 0.42, 0.8]);
    expect(t.table.upperBound).toEqual([0.9, 0.91, 0.98]);
    expect(t.matrix.svhn).toEqual({ mnistm: 0.5, svhn: 0.91, usps: 0.6 });
    expect(t.matrix.usps.mnistm).toBe(0.3);
  });

  it('leaves runs that were not made empty', () => {
    const t = buildTables(results.slice(0, 1));
    expect(t.table.dann).toEqual([null, null, null]);
    expect(t.table.upperBound).toEqual([0.9, null, null]);
  });

  it('renders markdown as the report lays it out', () => {
    const md = tablesMarkdown(buildTables(results, { svhn: 0.4, usps: 0.75 }), 'dlcv-dann train-all --epochs 2');
    expect(md).toContain('| Trained on source (lower bound) | 90.00% | 35.00% | 70.00% |');
    expect(md).toContain('| Source, BN statistics re-estimated on target (no labels) | x | 40.00% | 75.00% |');
    expect(md).toContain('| Adaptation (DANN) | x | 42.00% | 80.00% |');
    expect(md).toContain('| Trained on target (upper bound) | 90.00% | 91.00% | 98.00% |');
    expect(md).toContain('| Homework baseline (DANN) | x | 40.00% | 76.00% |');
    expect(md).toContain('| SVHN | 50.00% | 91.00% | 60.00% |');
    expect(md).toContain('`dlcv-dann train-all --epochs 2`');
    expect(md).toContain('SVHN = svhn (embedded syndigits stand-in)');
  });
});
