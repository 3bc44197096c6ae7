/**
 * A small builder for ONNX graphs: unique value names, float32/int64 initializers stored as
 * little-endian raw bytes, nodes with typed attributes, and serialisation to a ModelProto
 * through the generated protobuf code of the npm `onnx-proto` package, which is loaded on the
 * first serialisation (importing @dlcv/core does not load it).
 */
import type { onnx } from 'onnx-proto';

/** Opset 17: every op used here has its final semantics there, and ORT 1.30 runs it. */
export const OPSET = 17;
/** IR version 8 goes with opset 17. */
export const IR_VERSION = 8;

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] };

export type ElemType = 'float32' | 'int32' | 'int64';

/** The producer fields of every exported file: this package and its version. */
export const PRODUCER = { name: '@dlcv/core', version: (require('../../package.json') as { version: string }).version };

type OnnxProto = typeof onnx;
let proto: OnnxProto | undefined;

/** The onnx-proto namespace, required on first use. */
function onnxProto(): OnnxProto {
  return (proto ??= (require('onnx-proto') as typeof import('onnx-proto')).onnx);
}

function elemType(type: ElemType): number {
  const T = onnxProto().TensorProto.DataType;
  return type === 'float32' ? T.FLOAT : type === 'int32' ? T.INT32 : T.INT64;
}

export interface ValueInfo {
  name: string;
  type: ElemType;
  /** null for a dynamic dimension (the batch). */
  shape: (number | null)[];
}

export class OnnxGraph {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly used = new Set<string>();
  private readonly constCache = new Map<string, string>();
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];

  /** A fresh value name starting with `base` (ONNX names must be unique in a graph). */
  name(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = clean;
    for (let k = 1; this.used.has(name); k++) name = `${clean}_${k}`;
    this.used.add(name);
    return name;
  }

  addInput(info: ValueInfo): void {
    this.used.add(info.name);
    this.inputs.push(info);
  }

  /** Keeps a name free for a graph output written later with `addOutput`. */
  reserve(name: string): void {
    if (this.used.has(name)) throw new Error(`onnx: name "${name}" is already used`);
    this.used.add(name);
  }

  /** Declares a graph output `info.name` (reserved earlier) holding the value `source`. */
  addOutput(info: ValueInfo, source: string): void {
    this.nodes.push({ opType: 'Identity', input: [source], output: [info.name], name: this.name(`${info.name}_node`) });
    this.outputs.push(info);
  }

  /** A float32 initializer (weights). */
  float(base: string, values: Float32Array | number[], dims: number[]): string {
    const data = values instanceof Float32Array ? values : Float32Array.from(values);
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new Error(`onnx: initializer ${base} has ${data.length} values for shape [${dims}]`);
    const name = this.name(base);
    this.initializers.push({ name, dims, dataType: elemType('float32'), rawData: littleEndianBytes(data) });
    return name;
  }

  /** An int64 initializer (shapes, pads, axes). Shared between nodes when equal. */
  int64(base: string, values: number[]): string {
    const key = `i64:${values.join(',')}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const name = this.name(base);
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name, dims: [values.length], dataType: elemType('int64'), rawData: bytes });
    this.constCache.set(key, name);
    return name;
  }

  /** A float32 scalar constant, shared when equal. */
  scalar(value: number): string {
    const key = `f32:${value}`;
    const cached = this.constCache.get(key);
    if (cached) return cached;
    const name = this.name('const');
    this.initializers.push({ name, dims: [], dataType: elemType('float32'), rawData: littleEndianBytes(Float32Array.of(value)) });
    this.constCache.set(key, name);
    return name;
  }

  /** Appends a node; returns its output names (one fresh name per requested output). */
  node(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, base = opType, outputCount = 1): string[] {
    const outputs = Array.from({ length: outputCount }, () => this.name(base));
    this.nodes.push({ opType, input: inputs, output: outputs, name: this.name(`${base}_node`), attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
    return outputs;
  }

  /** Single-output shorthand. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, base = opType): string {
    return this.node(opType, inputs, attrs, base)[0] as string;
  }

  /** Serialises the graph as a complete model. */
  toModel(meta: { graphName: string; docString?: string; metadata?: Record<string, string> }): Uint8Array {
    const valueInfo = (v: ValueInfo): onnx.IValueInfoProto => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: elemType(v.type),
          shape: { dim: v.shape.map((d, i) => (d === null ? { dimParam: i === 0 ? 'batch' : `d${i}` } : { dimValue: d })) },
        },
      },
    });
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: PRODUCER.name,
      producerVersion: PRODUCER.version,
      docString: meta.docString ?? '',
      graph: {
        name: meta.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
      metadataProps: Object.entries(meta.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    const { ModelProto } = onnxProto();
    return ModelProto.encode(ModelProto.create(model)).finish();
  }
}

function attribute(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnxProto().AttributeProto.AttributeType;
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`onnx: attribute ${name}=${v} must be an integer (use { float } for floats)`);
    return { name, type: T.INT, i: v };
  }
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  const bytes = new Uint8Array(data.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  return bytes;
}
