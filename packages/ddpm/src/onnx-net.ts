/**
 * The U-Net through ONNX Runtime on the CPU, the fast path for sampling: exported by core's
 * exporter (this package's layers register their converters beside their classes) and loaded in
 * memory. Its float rounding differs from tfjs's, so its images may differ from the tfjs path's
 * by a level here and there; each path is deterministic on its own.
 */
import type * as tf from '@tensorflow/tfjs';
import { loadExported } from '@dlcv/core';
import type { NoiseNet } from './pipeline';
import type { UnetConfig } from './model';

export interface OnnxNoiseNet extends NoiseNet {
  dispose(): Promise<void>;
}

export async function onnxNoiseNet(model: tf.LayersModel, unet: UnetConfig): Promise<OnnxNoiseNet> {
  const session = await loadExported(model);
  const { imageSize: s, inChannels: ch, nClasses } = unet;
  return {
    async predict(x, cond) {
      const n = cond.t.length;
      // input order of the functional model: x, t, c, context_mask
      const outputs = await session.run([
        { data: x, dims: [n, s, s, ch] },
        { data: cond.t, dims: [n, 1] },
        { data: cond.c, dims: [n, nClasses] },
        { data: cond.mask, dims: [n, 1] },
      ]);
      const out = Object.values(outputs)[0];
      if (!out || !(out.data instanceof Float32Array) || out.data.length !== x.length) {
        throw new Error(`ddpm onnx: unexpected output [${out?.dims.join(', ') ?? 'none'}] from the exported U-Net (expected [${n}, ${s}, ${s}, ${ch}])`);
      }
      return out.data;
    },
    dispose: () => session.dispose(),
  };
}
