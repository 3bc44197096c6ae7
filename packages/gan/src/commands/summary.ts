import * as tf from '@tensorflow/tfjs';
import { UsageError, type Command } from '@dlcv/core';
import { buildDiscriminator, buildGenerator, countParams, MODEL_PRESETS, torchRepr, type ModelName } from '../models';

const fmt = (n: number) => n.toLocaleString('en-US');

/** Layer-by-layer output shapes (NHWC, batch omitted) and weight counts. */
export function layerTable(model: tf.LayersModel): string[] {
  return model.layers.map((l, i) => {
    const shape = (l.outputShape as (number | null)[]).slice(1).join('x');
    const params = l.countParams();
    return `  ${String(i).padStart(2)}  ${l.getClassName().padEnd(16)} -> ${shape.padEnd(12)} ${params ? fmt(params) : ''}`;
  });
}

export const summaryCommand: Command = {
  name: 'summary',
  summary: "Print model A and/or B as PyTorch would (compare with the report's printout), with parameter counts and output shapes.",
  usage: 'summary [--model A|B]',
  flags: { model: { type: 'string' } },
  async run({ flags }) {
    const which = flags.model === undefined ? (['A', 'B'] as ModelName[]) : [flags.model as ModelName];
    for (const name of which) {
      if (!(name in MODEL_PRESETS)) throw new UsageError(`--model must be A or B, got "${name}"`);
      const config = MODEL_PRESETS[name];
      console.log(`\n=== model ${name}: nz ${config.nz}, ngf ${config.ngf}, ndf ${config.ndf}`);
      for (const [label, model] of [['Generator', buildGenerator(config)], ['Discriminator', buildDiscriminator(config)]] as const) {
        const { trainable, nonTrainable } = countParams(model);
        console.log(torchRepr(model, label));
        console.log(layerTable(model).join('\n'));
        console.log(`${label} ${name}: ${fmt(trainable)} parameters (PyTorch's sum of p.numel()), plus ${fmt(nonTrainable)} BatchNorm running statistics\n`);
        model.dispose();
      }
    }
  },
};
