import * as path from 'node:path';
import { defineCommand, flag, formatLabelCsv, openImageFolder, UsageError, userPath, writeFileAtomic } from '@dlcv/core';
import { runName, specFor } from '../config';
import { SCENARIOS, type Scenario } from '../data';
import { predictLabels } from '../evaluate';
import { loadDannModel } from '../model-io';
import { OUT_FLAG, runsDir } from './common';

/**
 * hw2_3.sh is given `hw2_data/digits/svhn/data` or `.../usps/data`: the path names the scenario.
 * The path as given is looked at first, so a parent folder of the working directory cannot
 * decide it; the absolute path only when the given one says nothing (e.g. ".").
 */
export function scenarioFromPath(folder: string): Scenario | undefined {
  const find = (p: string) => {
    const parts = p.toLowerCase().split(/[\\/]+/);
    return SCENARIOS.filter((s) => parts.some((part) => part.includes(s)));
  };
  let hits = find(folder);
  if (hits.length === 0) hits = find(userPath(folder));
  return hits.length === 1 ? hits[0] : undefined;
}

export const predictCommand = defineCommand({
  name: 'predict',
  summary: 'Label every image of a folder with a trained DANN model; writes the hw2_3.sh CSV (image_name,label, sorted by name).',
  // The image folder is resolved in run(): scenarioFromPath looks at the path as the user typed it.
  positionals: [
    { name: 'image folder', help: "the images to label (.png/.jpg); a path naming svhn or usps picks that scenario's DANN run" },
    { name: 'out.csv', help: 'the CSV to write', path: true },
  ],
  flags: {
    model: flag.path({ help: 'a model folder, or a run folder (its model/)', metavar: 'DIR', shown: 'OUT/mnistm-to-<scenario>-dann' }),
    scenario: flag.choice(SCENARIOS, { help: 'whose DANN run in --out to use', shown: 'named by the image folder path' }),
    ...OUT_FLAG,
  },
  async run({ flags, positionals }) {
    const [folder, outCsv] = positionals as [string, string];
    let modelDir = flags.model;
    if (!modelDir) {
      const scenario = flags.scenario ?? scenarioFromPath(folder);
      if (!scenario) throw new UsageError(`cannot tell from "${folder}" whether it is SVHN or USPS: pass --scenario svhn|usps or --model DIR`);
      modelDir = path.join(runsDir(flags), runName(specFor(scenario, 'dann')));
    }
    const { net, dir } = await loadDannModel(modelDir);
    try {
      // Sorted by file name; a file of another size fails here, naming it.
      const images = await openImageFolder(userPath(folder), { size: net.config.imageSize, channels: 1 });
      await images.preload();
      const labels = await predictLabels(net, images);
      const rows = images.files.map((f, i) => ({ imageName: path.basename(f), label: labels[i] as number }));
      await writeFileAtomic(outCsv, formatLabelCsv(rows));
      console.log(`${rows.length} predictions by ${dir} -> ${outCsv}`);
    } finally {
      net.dispose();
    }
  },
});
