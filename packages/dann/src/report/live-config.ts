/** What the report page's live panel knows of each DANN run (written by report.ts, read by live.ts). */
import { z } from '@dlcv/core';

export const liveNetSchema = z.object({
  /** The run's name (mnistm-only, mnistm-to-svhn-dann, ...), also its ONNX model's name. */
  name: z.string(),
  /** What the run is in the homework's table ("source only (lower bound)", ...). */
  role: z.string(),
  imageSize: z.number().int(),
  inChannels: z.number().int(),
  classes: z.number().int(),
});
export type LiveNet = z.infer<typeof liveNetSchema>;

export const liveConfigSchema = z.object({
  nets: z.array(liveNetSchema).min(1),
  /** uint8 -> float as training and `predict` scale pixels (data.ts SCALING). */
  range: z.tuple([z.number(), z.number()]),
});
export type LiveConfig = z.infer<typeof liveConfigSchema>;

/** sRGB to grey as libvips (sharp's 'b-w', what `predict` reads colour images as): Rec. 709 luminance in linear light. */
export function toGrey(r: number, g: number, b: number): number {
  if (r === g && g === b) return r;
  const lin = (v: number) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const y = 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
  const v = 255 * (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055);
  return Math.min(255, Math.max(0, Math.round(v)));
}

/** Softmax of logits, in double precision. */
export function softmax(logits: ArrayLike<number>): number[] {
  const xs = Array.from(logits);
  const m = Math.max(...xs);
  const e = xs.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
