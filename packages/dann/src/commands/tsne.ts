import * as path from 'node:path';
import { defineCommand, flag, makeDir, Rng, writeFileAtomic } from '@dlcv/core';
import { runName, specFor } from '../config';
import { openDomain, resolveDomain, SCENARIOS, SOURCE_DOMAIN, type DataLocation, type Scenario } from '../data';
import { extractFeatures } from '../evaluate';
import { loadDannModel } from '../model-io';
import { writeScatter } from '../scatter';
import { tsne2d } from '../tsne';
import { dataLocation, DATA_FLAGS, OUT_FLAG, runsDir } from './common';

/** A seeded sample of `k` indices out of n, sorted (all of them when k >= n). */
export function sampleIndices(n: number, k: number, seed: number, stream: number): number[] {
  const perm = new Rng(seed, stream).permutation(n);
  return perm.slice(0, Math.min(k, n)).sort((a, b) => a - b);
}

interface Sampled {
  /** n x features, row-major: the source's points, then the target's. */
  features: Float32Array;
  dim: number;
  labels: number[];
  /** 0 source, 1 target. */
  domains: number[];
  names: string[];
}

/** Features of `perDomain` seeded val images of the source and of the target, by the scenario's DANN model. */
async function sampleFeatures(runDir: string, scenario: Scenario, data: DataLocation, perDomain: number, seed: number): Promise<Sampled> {
  const { net } = await loadDannModel(runDir);
  const out: Sampled = { features: new Float32Array(0), dim: net.config.features, labels: [], domains: [], names: [] };
  const chunks: Float32Array[] = [];
  try {
    for (const [k, domain] of ([SOURCE_DOMAIN, scenario] as const).entries()) {
      const val = await openDomain(await resolveDomain(domain, data), 'val', net.config.imageSize);
      const idx = sampleIndices(val.length, perDomain, seed, 300 + k);
      chunks.push(await extractFeatures(net, val, idx));
      for (const i of idx) {
        out.labels.push(val.labels?.[i] as number);
        out.domains.push(k);
        out.names.push(`${domain}/${path.basename(val.files[i] as string)}`);
      }
    }
  } finally {
    net.dispose();
  }
  out.features = new Float32Array(out.labels.length * out.dim);
  let offset = 0;
  for (const c of chunks) {
    out.features.set(c, offset);
    offset += c.length;
  }
  return out;
}

export const tsneCommand = defineCommand({
  name: 'tsne',
  summary: 't-SNE of the DANN feature extractor on source and target val images, coloured by class and by domain: 2 PNGs per scenario.',
  flags: {
    scenario: flag.choice(SCENARIOS, { help: 'one scenario', shown: 'both' }),
    ...OUT_FLAG,
    figures: flag.path({ help: 'where the figures and coordinates go', metavar: 'DIR', shown: 'OUT/tsne' }),
    'per-domain': flag.int({ help: 'val images per domain', default: 500, min: 2 }),
    perplexity: flag.float({ help: 't-SNE perplexity', default: 30 }),
    iterations: flag.int({ help: 't-SNE iterations', default: 1000, min: 1 }),
    seed: flag.int({ help: 'seed of the sample and of the initial layout', default: 0, min: 0 }),
    ...DATA_FLAGS,
  },
  async run({ flags }) {
    const scenarios: Scenario[] = flags.scenario ? [flags.scenario] : [...SCENARIOS];
    const runs = runsDir(flags);
    const out = flags.figures ?? path.join(runs, 'tsne');
    const { perplexity, iterations, seed } = flags;
    const data = dataLocation(flags);
    await makeDir(out);
    for (const scenario of scenarios) {
      const s = await sampleFeatures(path.join(runs, runName(specFor(scenario, 'dann'))), scenario, data, flags['per-domain'], seed);
      const n = s.labels.length;
      const started = Date.now();
      const xy = tsne2d(s.features, n, s.dim, { perplexity, iterations, seed });
      console.log(`t-SNE ${scenario}: ${n} points, ${iterations} iterations in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      const title = `DANN MNIST-M -> ${scenario.toUpperCase()}: val features`;
      const byClass = path.join(out, `tsne-${scenario}-class.png`);
      const byDomain = path.join(out, `tsne-${scenario}-domain.png`);
      await writeScatter(byClass, { title: `${title} by class`, points: xy, category: s.labels, categories: Array.from({ length: 10 }, (_, d) => `digit ${d}`) });
      await writeScatter(byDomain, { title: `${title} by domain`, points: xy, category: s.domains, categories: [`source: ${SOURCE_DOMAIN}`, `target: ${scenario}`] });
      const csv =
        [
          'image,domain,label,x,y',
          ...s.names.map(
            (nm, i) => `${nm},${s.domains[i] === 0 ? SOURCE_DOMAIN : scenario},${s.labels[i]},${(xy[2 * i] as number).toFixed(6)},${(xy[2 * i + 1] as number).toFixed(6)}`,
          ),
        ].join('\n') + '\n';
      await writeFileAtomic(path.join(out, `tsne-${scenario}.csv`), csv);
      console.log(`wrote ${byClass}, ${byDomain} and tsne-${scenario}.csv`);
    }
  },
});
