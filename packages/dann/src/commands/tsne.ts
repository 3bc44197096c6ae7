import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { floatFlag, intFlag, Rng, UsageError, writeFileAtomic, type Command } from '@dlcv/core';
import { runName, specFor } from '../config';
import { openDomain, resolveDomain, SCENARIOS, SOURCE_DOMAIN, type Scenario } from '../data';
import { extractFeatures } from '../evaluate';
import { loadRunModel } from '../load';
import { writeScatter } from '../scatter';
import { tsne2d } from '../tsne';
import { dataLocation, DATA_FLAGS, DEFAULT_RUNS, parseScenario } from './common';

/** A seeded sample of `k` indices out of n, sorted (all of them when k >= n). */
export function sampleIndices(n: number, k: number, seed: number, stream: number): number[] {
  const perm = new Rng(seed, stream).permutation(n);
  return perm.slice(0, Math.min(k, n)).sort((a, b) => a - b);
}

export const tsneCommand: Command = {
  name: 'tsne',
  summary: 't-SNE of the DANN feature extractor on source and target val images, coloured by class and by domain: 2 PNGs per scenario.',
  usage: 'tsne [--scenario svhn|usps (default both)] [--runs runs/dann] [--out RUNS/tsne] [--per-domain 500] [--perplexity 30] [--iterations 1000] [--seed 0] [--data-root hw2_data/digits] [--cache-dir DIR]',
  flags: {
    ...DATA_FLAGS, scenario: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' }, 'per-domain': { type: 'string' },
    perplexity: { type: 'string' }, iterations: { type: 'string' }, seed: { type: 'string' },
  },
  async run({ flags }) {
    const scenarios: Scenario[] = flags.scenario !== undefined ? [parseScenario(flags.scenario, 'scenario')] : [...SCENARIOS];
    const runs = path.resolve((flags.runs as string | undefined) ?? DEFAULT_RUNS);
    const out = path.resolve((flags.out as string | undefined) ?? path.join(runs, 'tsne'));
    const perDomain = intFlag(flags['per-domain'], 'per-domain', 500);
    if (perDomain < 2) throw new UsageError('--per-domain must be at least 2');
    const perplexity = floatFlag(flags.perplexity, 'perplexity', 30);
    const iterations = intFlag(flags.iterations, 'iterations', 1000);
    const seed = intFlag(flags.seed, 'seed', 0);
    const data = dataLocation(flags);
    await fs.mkdir(out, { recursive: true });
    for (const scenario of scenarios) {
      const { net, config } = await loadRunModel(path.join(runs, runName(specFor(scenario, 'dann'))));
      const labels: number[] = [];
      const domains: number[] = [];
      const names: string[] = [];
      const chunks: Float32Array[] = [];
      for (const [k, domain] of ([SOURCE_DOMAIN, scenario] as const).entries()) {
        const folder = await resolveDomain(domain, data);
        const val = await openDomain(folder, 'val', config.net.imageSize);
        const idx = sampleIndices(val.length, perDomain, seed, 300 + k);
        chunks.push(await extractFeatures(net, val, idx));
        for (const i of idx) {
          labels.push(val.labels?.[i] as number);
          domains.push(k);
          names.push(`${domain}/${path.basename(val.files[i] as string)}`);
        }
      }
      net.dispose();
      const n = labels.length, dim = config.net.features;
      const features = new Float32Array(n * dim);
      let offset = 0;
      for (const c of chunks) {
        features.set(c, offset);
        offset += c.length;
      }
      const started = Date.now();
      const xy = tsne2d(features, n, dim, { perplexity, iterations, seed });
      console.log(`t-SNE ${scenario}: ${n} points, ${iterations} iterations in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const title = `DANN MNIST-M -> ${scenario.toUpperCase()}: val features`;
      const byClass = path.join(out, `tsne-${scenario}-class.png`);
      const byDomain = path.join(out, `tsne-${scenario}-domain.png`);
      await writeScatter(byClass, { title: `${title} by class`, points: xy, category: labels, categories: Array.from({ length: 10 }, (_, d) => `digit ${d}`) });
      await writeScatter(byDomain, { title: `${title} by domain`, points: xy, category: domains, categories: [`source: ${SOURCE_DOMAIN}`, `target: ${scenario}`] });
      const csv = ['image,domain,label,x,y', ...names.map((nm, i) => `${nm},${domains[i] === 0 ? SOURCE_DOMAIN : scenario},${labels[i]},${(xy[2 * i] as number).toFixed(6)},${(xy[2 * i + 1] as number).toFixed(6)}`)].join('\n') + '\n';
      await writeFileAtomic(path.join(out, `tsne-${scenario}.csv`), csv);
      console.log(`wrote ${byClass}, ${byDomain} and tsne-${scenario}.csv`);
    }
  },
};
