import * as tf from '@tensorflow/tfjs';
import { countParams, defineCommand, flag } from '@dlcv/core';
import { buildDiscriminator, buildGenerator, MODEL_NAMES, MODEL_PRESETS, torchRepr } from '../model';

const fmt = (n: number) => n.toLocaleString('en-US');

/** Layer-by-layer output shapes (NHWC, batch omitted) and weight counts. */
export function layerTable(model: tf.LayersModel): string[] {
  return model.layers.map((l, i) => {
    const shape = (l.outputShape as (number | null)[]).slice(1).join('x');
    const params = l.countParams();
    return `  ${String(i).padStart(2)}  ${l.getClassName().padEnd(16)} -> ${shape.padEnd(12)} ${params ? fmt(params) : ''}`;
  });
}

export const summaryCommand = defineCommand({
  name: 'summary',
  summary: "Print model A and/or B as PyTorch would (compare with the report's printout), with parameter counts and output shapes.",
  flags: { model: flag.choice(MODEL_NAMES, { help: 'the model to print', shown: 'both' }) },
  async run({ flags }) {
    for (const name of flags.model === undefined ? MODEL_NAMES : [flags.model]) {
      const config = MODEL_PRESETS[name];
      console.log(`\n=== model ${name}: nz ${config.nz}, ngf ${config.ngf}, ndf ${config.ndf}`);
      for (const [label, model] of [
        ['Generator', buildGenerator(config)],
        ['Discriminator', buildDiscriminator(config)],
      ] as const) {
        const { trainable, nonTrainable } = countParams(model);
        console.log(torchRepr(model, label));
        console.log(layerTable(model).join('\n'));
        console.log(`${label} ${name}: ${fmt(trainable)} parameters (PyTorch's sum of p.numel()), plus ${fmt(nonTrainable)} BatchNorm running statistics\n`);
        model.dispose();
      }
    }
  },
});
