/**
 * Running ONNX files with onnxruntime-node (its bundled CPU build): the graders' reference
 * networks, and the fast CPU path for generation from exported models. onnxruntime-node is a
 * native library: it is required when the first model loads, never on import.
 */
import { promises as fs } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';

let ortModule: typeof Ort | undefined;

/** onnxruntime-node, loaded on first use; a failure to load says so when a model is loaded. */
function onnxRuntime(): typeof Ort {
  if (!ortModule) {
    try {
      ortModule = require('onnxruntime-node') as typeof Ort;
    } catch (err) {
      throw new Error(`onnxruntime-node failed to load (${(err as Error).message.split('\n')[0]}); it runs every ONNX model`, { cause: err });
    }
  }
  return ortModule;
}

export interface OnnxTensor {
  data: Float32Array | Int32Array;
  dims: number[];
}

export interface OnnxValueInfo {
  name: string;
  /** Element type as ORT names it ('float32', 'int64'...). */
  type: string;
  /** Dimensions; a string for a symbolic one (e.g. 'batch'). */
  shape: (number | string)[];
}

export interface OnnxLoadOptions {
  /** Threads for one op (default: ORT's choice, the physical cores). */
  threads?: number;
}

export class OnnxModel {
  private constructor(
    readonly file: string,
    private readonly session: Ort.InferenceSession,
    readonly inputs: OnnxValueInfo[],
    readonly outputs: OnnxValueInfo[],
  ) {}

  get inputNames(): string[] {
    return this.inputs.map((i) => i.name);
  }

  get outputNames(): string[] {
    return this.outputs.map((o) => o.name);
  }

  static async load(file: string, options: OnnxLoadOptions = {}): Promise<OnnxModel> {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new Error(`${file}: ${code === 'ENOENT' ? 'ONNX file not found' : `cannot read (${code ?? String(err)})`}`, { cause: err });
    }
    return OnnxModel.fromBytes(bytes, file, options);
  }

  /** A model from ONNX bytes in memory; `file` names it in errors (its file, or what made it). */
  static async fromBytes(bytes: Uint8Array, file: string, options: OnnxLoadOptions = {}): Promise<OnnxModel> {
    const ort = onnxRuntime();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        executionProviders: ['cpu'],
        ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
        executionMode: 'sequential',
      });
    } catch (err) {
      throw new Error(`${file}: not a loadable ONNX model (${(err as Error).message.split('\n')[0]})`, { cause: err });
    }
    const info = (m: Ort.InferenceSession.ValueMetadata): OnnxValueInfo =>
      m.isTensor ? { name: m.name, type: m.type, shape: m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d))) } : { name: m.name, type: 'non-tensor', shape: [] };
    return new OnnxModel(file, session, session.inputMetadata.map(info), session.outputMetadata.map(info));
  }

  /**
   * Runs the model. Inputs by name, or positionally (an array or, for one-input models, a
   * single tensor). Returns every output (or those named) by name.
   */
  async run(inputs: Record<string, OnnxTensor> | OnnxTensor[] | OnnxTensor, outputNames?: string[]): Promise<Record<string, OnnxTensor>> {
    const named = this.nameInputs(inputs);
    const { Tensor } = onnxRuntime();
    const feeds: Record<string, Ort.Tensor> = {};
    for (const info of this.inputs) {
      const t = named[info.name];
      if (!t) throw new Error(`${this.file}: input "${info.name}" not given (inputs: ${this.inputNames.join(', ')})`);
      this.checkDims(info, t.dims);
      feeds[info.name] = new Tensor(t.data instanceof Int32Array ? 'int32' : 'float32', t.data, t.dims);
    }
    for (const n of outputNames ?? []) {
      if (!this.outputNames.includes(n)) throw new Error(`${this.file}: no output "${n}" (outputs: ${this.outputNames.join(', ')})`);
    }
    const results = await this.session.run(feeds, outputNames ?? this.outputNames);
    const out: Record<string, OnnxTensor> = {};
    for (const [name, t] of Object.entries(results)) {
      if (!(t.data instanceof Float32Array) && !(t.data instanceof Int32Array))
        throw new Error(`${this.file}: output "${name}" has type ${t.type}; only float32 and int32 are read`);
      out[name] = { data: t.data, dims: [...t.dims] };
      t.dispose();
    }
    return out;
  }

  /** `model.predict` lookalike: tfjs tensors in, tfjs tensors out (outputs in file order). */
  async predict(x: tf.Tensor | tf.Tensor[]): Promise<tf.Tensor[]> {
    const xs = Array.isArray(x) ? x : [x];
    const inputs = await Promise.all(
      xs.map(async (t) => {
        // By dtype, not by array class: a cast tensor may still hold its old array type.
        const values = await t.data();
        const data = t.dtype === 'int32' ? Int32Array.from(values as Int32Array) : values instanceof Float32Array ? values : Float32Array.from(values as Int32Array);
        return { data, dims: [...t.shape] };
      }),
    );
    const out = await this.run(inputs);
    return this.outputNames.map((n) => {
      const o = out[n] as OnnxTensor;
      return tf.tensor(o.data, o.dims, o.data instanceof Int32Array ? 'int32' : 'float32');
    });
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  private nameInputs(inputs: Record<string, OnnxTensor> | OnnxTensor[] | OnnxTensor): Record<string, OnnxTensor> {
    if (Array.isArray(inputs)) {
      if (inputs.length !== this.inputs.length) throw new Error(`${this.file}: ${this.inputs.length} inputs expected, got ${inputs.length}`);
      return Object.fromEntries(inputs.map((t, i) => [this.inputNames[i] as string, t]));
    }
    if (isTensor(inputs)) {
      if (this.inputs.length !== 1) throw new Error(`${this.file}: ${this.inputs.length} inputs expected, got one tensor`);
      return { [this.inputNames[0] as string]: inputs };
    }
    return inputs;
  }

  private checkDims(info: OnnxValueInfo, dims: number[]): void {
    const bad = dims.length !== info.shape.length || info.shape.some((d, i) => typeof d === 'number' && d !== dims[i]);
    if (bad) throw new Error(`${this.file}: input "${info.name}" wants shape [${info.shape.join(', ')}], got [${dims.join(', ')}]`);
  }
}

function isTensor(x: unknown): x is OnnxTensor {
  const t = x as Partial<OnnxTensor>;
  return Array.isArray(t.dims) && (t.data instanceof Float32Array || t.data instanceof Int32Array);
}
