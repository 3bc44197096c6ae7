import * as path from 'node:path';
import { defineCommand, flag, tensorToImages, UsageError, writeGif, writeGrid, writePng, type RawImage } from '@dlcv/core';
import { openSampling, outputArgument, outputFrom, SAMPLING_FLAGS, type SamplingSetup } from './sampling';

const OUT = outputArgument('out_dir', 'folder for the strip, its frames and the GIF', 'DIR');

/**
 * The report's time labels are the reference's 1-based ones: t = T is the initial noise, t = 0
 * the final image, and the step at 0-based timestep tau yields the state labelled prev(tau) + 1.
 */
export function reverseLabels(timesteps: readonly number[]): number[] {
  return [(timesteps[0] as number) + 1, ...timesteps.map((_, i) => (i + 1 < timesteps.length ? (timesteps[i + 1] as number) + 1 : 0))];
}

/** For each wanted t, the index of the recorded state whose label is nearest (ties: the noisier). */
export function nearestStates(labels: readonly number[], wanted: readonly number[]): number[] {
  return wanted.map((t) => {
    let best = 0;
    labels.forEach((l, i) => {
      const d = Math.abs(l - t),
        bd = Math.abs((labels[best] as number) - t);
      if (d < bd || (d === bd && l > (labels[best] as number))) best = i;
    });
    return best;
  });
}

export const reverseCommand = defineCommand({
  name: 'reverse',
  summary: 'The reverse process of the first "0" (the noise of 0_001.png) at t = 0, 5, 20, 80, 160, 400: a strip, its frames and a GIF.',
  positionals: [OUT.positional],
  flags: {
    ...SAMPLING_FLAGS,
    out: OUT.flag,
    digit: flag.int({ help: 'the digit whose reverse process is shown', default: 0, min: 0 }),
    t: flag.intList({ help: "the reference's time labels to show (t = T is the noise, t = 0 the image)", shown: "0,5,20,80,160,400 (those within the model's timesteps)" }),
  },
  async run({ flags, positionals, engine }) {
    const outDir = outputFrom(flags.out, positionals, 'output folder');
    const s = await openSampling(flags, engine);
    const { nClasses } = s.pipe.unet;
    const { digit } = flags;
    if (digit >= nClasses) throw new UsageError(`--digit must be an integer in 0..${nClasses - 1}`);
    const T = s.pipe.scheduler.config.num_train_timesteps;
    const wanted = flags.t ?? [0, 5, 20, 80, 160, 400].filter((t) => t <= T);
    for (const t of wanted) if (t > T) throw new UsageError(`--t: ${t} is beyond the model's ${T} timesteps`);
    console.log(`reverse process of digit ${digit}: ${s.describe}`);

    let written: { shown: number[]; states: number };
    try {
      written = await writeReverse(outDir, s, digit, wanted);
    } finally {
      await s.close();
    }
    const { shown } = written;
    const note = shown.some((t, i) => t !== wanted[i]) ? ` (nearest states of this ${s.steps}-step schedule to t = ${wanted.join(', ')})` : '';
    console.log(`wrote ${outDir}/reverse.png with t = ${shown.join(', ')}${note}, its frames and reverse.gif (${written.states} states)`);
  },
});

/**
 * Runs the reverse process of `digit` from noise 0 and writes reverse.png (the states nearest to
 * the `wanted` time labels), their frames and reverse.gif into `outDir`. Returns the time labels
 * shown and the number of states.
 */
export async function writeReverse(outDir: string, s: SamplingSetup, digit: number, wanted: readonly number[]): Promise<{ shown: number[]; states: number }> {
  const { imageSize, inChannels } = s.pipe.unet;
  const toImage = (x: Float32Array): RawImage => tensorToImages(x, [1, imageSize, imageSize, inChannels])[0]!;
  const labels = reverseLabels(s.pipe.scheduler.timesteps);
  const states: RawImage[] = [];
  await s.sample({
    labels: [digit],
    noiseIds: [0],
    seed: s.seed,
    w: s.w,
    onStart: (x) => void states.push(toImage(x)),
    onStep: (_t, x) => void states.push(toImage(x)),
  });
  const picks = nearestStates(labels, wanted);
  await writeGrid(
    path.join(outDir, 'reverse.png'),
    picks.map((i) => states[i]!),
    { cols: picks.length },
  );
  await Promise.all(picks.map((i) => writePng(path.join(outDir, `reverse_t${String(labels[i]).padStart(3, '0')}.png`), states[i]!)));
  await writeGif(path.join(outDir, 'reverse.gif'), states, { delayMs: Math.max(20, Math.round(6000 / states.length / 10) * 10), lastDelayMs: 2000 });
  return { shown: picks.map((i) => labels[i] as number), states: states.length };
}
