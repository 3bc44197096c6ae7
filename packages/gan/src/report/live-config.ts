/** What the report page's live panel knows of each generator (written by report.ts, read by live.ts). */
import { z } from '@dlcv/core';

export const liveGeneratorSchema = z.object({
  /** The run's name, also the ONNX model's name in the report. */
  name: z.string(),
  /** The model folder, for the equivalent `generate` command. */
  modelDir: z.string(),
  nz: z.number().int().min(1),
  channels: z.number().int(),
  imageSize: z.number().int(),
});
export type LiveGenerator = z.infer<typeof liveGeneratorSchema>;

export const liveConfigSchema = z.object({ models: z.array(liveGeneratorSchema).min(1) });
export type LiveConfig = z.infer<typeof liveConfigSchema>;

/** The `dlcv-gan generate` command whose first `count` files (0000.png, ...) the page draws for `seed`. */
export function equivalentCommand(m: LiveGenerator, seed: number, count: number): string {
  return `dlcv-gan generate --out OUT --model ${m.modelDir} --seed ${seed} --count ${count} --runtime onnx`;
}

/**
 * Spherical interpolation between two noise vectors (Shoemake's slerp, as DCGAN papers walk the
 * latent space): keeps the norm a Gaussian vector has, which a straight line would shrink.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  const omega = Math.acos(Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb))));
  const out = new Float32Array(a.length);
  const so = Math.sin(omega);
  const [wa, wb] = so < 1e-6 ? [1 - t, t] : [Math.sin((1 - t) * omega) / so, Math.sin(t * omega) / so];
  for (let i = 0; i < a.length; i++) out[i] = wa * (a[i] as number) + wb * (b[i] as number);
  return out;
}
