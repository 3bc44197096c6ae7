import * as path from 'node:path';
import { formatLabelCsv, openImageFolder, UsageError, writeFileAtomic, type Command } from '@dlcv/core';
import { runName, specFor } from '../config';
import { predictLabels } from '../evaluate';
import { loadRunModel } from '../load';
import { DEFAULT_RUNS, parseScenario } from './common';
import type { Scenario } from '../data';

/**
 * hw2_3.sh is given `hw2_data/digits/svhn/data` or `.../usps/data`: the path names the scenario.
 * The path as given is looked at first, so a parent folder of the working directory cannot
 * decide it; the absolute path only when the given one says nothing (e.g. ".").
 */
export function scenarioFromPath(folder: string): Scenario | undefined {
  const find = (p: string) => {
    const parts = p.toLowerCase().split(/[\\/]+/);
    const hits = (['svhn', 'usps'] as const).filter((s) => parts.some((part) => part.includes(s)));
    return hits;
  };
  let hits = find(folder);
  if (hits.length === 0) hits = find(path.resolve(folder));
  return hits.length === 1 ? hits[0] : undefined;
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'Label every image of a folder with a trained DANN model; writes the hw2_3.sh CSV (image_name,label, sorted by name).',
  usage: 'predict <image folder> <out.csv> [--model RUN_DIR | --scenario svhn|usps] [--runs runs/dann]',
  flags: { model: { type: 'string' }, scenario: { type: 'string' }, runs: { type: 'string' } },
  async run({ flags, positionals }) {
    if (positionals.length !== 2) throw new UsageError(`expected <image folder> <out.csv>, got ${positionals.length} argument(s)`);
    const [folder, outCsv] = positionals as [string, string];
    let runDir = flags.model as string | undefined;
    if (!runDir) {
      const scenario = flags.scenario !== undefined ? parseScenario(flags.scenario, 'scenario') : scenarioFromPath(folder);
      if (!scenario) throw new UsageError(`cannot tell from "${folder}" whether it is SVHN or USPS: pass --scenario svhn|usps or --model RUN_DIR`);
      runDir = path.join((flags.runs as string | undefined) ?? DEFAULT_RUNS, runName(specFor(scenario, 'dann')));
    }
    const { net, config, checkpoint } = await loadRunModel(path.resolve(runDir));
    const size = config.net.imageSize;
    // Sorted by file name; a file of another size fails here, naming it.
    const images = await openImageFolder(folder, { size, channels: 1 });
    await images.preload();
    const labels = await predictLabels(net, images);
    net.dispose();
    const rows = images.files.map((f, i) => ({ imageName: path.basename(f), label: labels[i] as number }));
    await writeFileAtomic(outCsv, formatLabelCsv(rows));
    console.log(`${rows.length} predictions by ${checkpoint} -> ${outCsv}`);
  },
};
