/**
 * Named tensors packed into one binary blob with a JSON index, the storage of checkpoints and
 * model folders. Weights are restored by position and shape (tfjs weight names carry
 * per-process suffixes); names are kept for error messages.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { z } from './json-file';

/**
 * Something whose tensors are saved and restored in a fixed order: a model, variables (saved
 * under their own names), or variables under stable names (when variable names carry
 * per-instance prefixes).
 */
export type WeightsHolder = tf.LayersModel | tf.Variable[] | Readonly<Record<string, tf.Variable>>;

export const tensorEntrySchema = z.object({
  group: z.string(),
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.enum(['float32', 'int32']),
  offset: z.number().int().nonnegative(),
  byteLength: z.number().int().nonnegative(),
});
export type TensorEntry = z.infer<typeof tensorEntrySchema>;

function isLayersModel(holder: WeightsHolder): holder is tf.LayersModel {
  return holder instanceof tf.LayersModel;
}

function holderVariables(holder: tf.Variable[] | Readonly<Record<string, tf.Variable>>): { name: string; tensor: tf.Variable }[] {
  return Array.isArray(holder) ? holder.map((v) => ({ name: v.name, tensor: v })) : Object.entries(holder).map(([name, v]) => ({ name, tensor: v }));
}

/** The holder's tensors in restore order. getWeights() hands out live variables: never dispose them. */
export function holderTensors(holder: WeightsHolder): { name: string; tensor: tf.Tensor }[] {
  if (isLayersModel(holder)) {
    const values = holder.getWeights();
    return holder.weights.map((w, i) => ({ name: w.originalName, tensor: values[i] as tf.Tensor }));
  }
  return holderVariables(holder);
}

/** Accumulates tensors in order into one blob. */
export class TensorPacker {
  readonly entries: TensorEntry[] = [];
  private readonly chunks: Buffer[] = [];
  private offset = 0;

  async add(group: string, name: string, tensor: tf.Tensor): Promise<void> {
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'int32') throw new Error(`${group}/${name} has dtype ${tensor.dtype}; only float32 and int32 tensors are stored`);
    const values = (await tensor.data()) as Float32Array | Int32Array;
    const bytes = Buffer.from(values.buffer, values.byteOffset, values.byteLength);
    this.entries.push({ group, name, shape: tensor.shape, dtype: tensor.dtype, offset: this.offset, byteLength: bytes.length });
    this.chunks.push(Buffer.from(bytes));
    this.offset += bytes.length;
  }

  async addHolder(group: string, holder: WeightsHolder): Promise<void> {
    for (const { name, tensor } of holderTensors(holder)) await this.add(group, name, tensor);
  }

  /** The blob and its SHA-256 (hex). */
  finish(): { bin: Buffer; sha256: string } {
    const bin = Buffer.concat(this.chunks);
    return { bin, sha256: createHash('sha256').update(bin).digest('hex') };
  }
}

export function sha256(bin: Buffer): string {
  return createHash('sha256').update(bin).digest('hex');
}

/** A tensor of the blob (an aligned copy of its bytes). */
export function entryTensor(bin: Buffer, e: TensorEntry): tf.Tensor {
  const copy = new Uint8Array(bin.subarray(e.offset, e.offset + e.byteLength));
  const values = e.dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
  return tf.tensor(values, e.shape, e.dtype);
}

export function groupEntries(entries: readonly TensorEntry[]): Map<string, TensorEntry[]> {
  const byGroup = new Map<string, TensorEntry[]>();
  for (const e of entries) byGroup.set(e.group, [...(byGroup.get(e.group) ?? []), e]);
  return byGroup;
}

/**
 * Loads saved tensors into a holder after checking their count and shapes; `fail` makes the
 * error (it names the file) for a holder of another architecture.
 */
export interface RestoreContext {
  /** The holder as messages name it: `model "unet"`. */
  what: string;
  /** The file as messages name it: `the checkpoint`. */
  source: string;
  fail: (problem: string) => Error;
}

export function restoreHolder(holder: WeightsHolder, saved: readonly TensorEntry[], bin: Buffer, { what, source, fail }: RestoreContext): void {
  const current = holderTensors(holder);
  if (current.length !== saved.length) throw fail(`${what} has ${current.length} weight tensors, ${source} ${saved.length}: a different architecture or config`);
  saved.forEach((e, i) => {
    const want = current[i]?.tensor.shape ?? [];
    if (want.join('x') !== e.shape.join('x')) throw fail(`${what} weight ${i} (${e.name}) has shape [${e.shape}] in ${source}, [${want}] in the model`);
  });
  const tensors = saved.map((e) => entryTensor(bin, e));
  if (isLayersModel(holder)) holder.setWeights(tensors);
  else holderVariables(holder).forEach(({ tensor: v }, i) => v.assign(tensors[i] as tf.Tensor));
  tf.dispose(tensors);
}
