/**
 * Values flowing through an export and their layout. tfjs is channels-last (NHWC) while ONNX
 * Conv, pooling and normalisation ops are channels-first (NCHW), so every rank-4 value is kept
 * NCHW inside the graph and converted back only where a layer's meaning depends on the order of
 * the dimensions (Flatten, Reshape, Dense on images, the graph's outputs).
 */
import type { OnnxGraph } from './graph';

export type Shape = (number | null)[];

export interface Val {
  name: string;
  /** The tfjs (channels-last) shape, batch first (null = dynamic). */
  shape: Shape;
  /** True when the ONNX value holds the rank-4 tensor as NCHW. */
  nchw: boolean;
}

export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

/** The ONNX value in channels-first layout (rank 4) or unchanged (other ranks). */
export function asNchw(g: OnnxGraph, v: Val): Val {
  if (v.shape.length !== 4 || v.nchw) return v;
  return { name: g.op('Transpose', [v.name], { perm: TO_NCHW }, 'to_nchw'), shape: v.shape, nchw: true };
}

/** The ONNX value in tfjs's own layout. */
export function asNative(g: OnnxGraph, v: Val): Val {
  if (!v.nchw) return v;
  return { name: g.op('Transpose', [v.name], { perm: TO_NHWC }, 'to_nhwc'), shape: v.shape, nchw: false };
}

/** Where tfjs axis `axis` (may be negative) of a value of rank `rank` sits in the ONNX value. */
export function onnxAxis(v: Val, axis: number): number {
  const rank = v.shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return v.nchw ? TO_NCHW.indexOf(a) : a;
}

/** Permutes a dense row-major array: out[i_perm] = in[i], with out dims = dims[perm[k]]. */
export function permute(data: Float32Array, dims: number[], perm: number[]): { data: Float32Array; dims: number[] } {
  const rank = dims.length;
  if (perm.length !== rank) throw new Error(`permute: ${perm.length} axes for rank ${rank}`);
  const outDims = perm.map((p) => dims[p] as number);
  const outStrides = strides(outDims);
  const out = new Float32Array(data.length);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < data.length; i++) {
    // idx is the multi-index of element i in the input.
    let o = 0;
    for (let k = 0; k < rank; k++) o += (idx[perm[k] as number] as number) * (outStrides[k] as number);
    out[o] = data[i] as number;
    for (let k = rank - 1; k >= 0; k--) {
      idx[k] = (idx[k] as number) + 1;
      if ((idx[k] as number) < (dims[k] as number)) break;
      idx[k] = 0;
    }
  }
  return { data: out, dims: outDims };
}

function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let k = dims.length - 2; k >= 0; k--) s[k] = (s[k + 1] as number) * (dims[k + 1] as number);
  return s;
}
