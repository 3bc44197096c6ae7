/**
 * tfjs LayersModel -> ONNX file. The graph is walked from the model's outputs back to its inputs
 * through the layers' inbound nodes, so Sequential models, functional models, shared layers and
 * models nested as layers all convert the same way. Inputs and outputs keep tfjs's layout (NHWC
 * for images), so `OnnxModel.run` takes and returns exactly what `model.predict` does.
 */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { writeFileAtomic } from '../files';
import { OnnxGraph, PRODUCER, type ElemType } from './graph';
import { OnnxModel, type OnnxLoadOptions } from './runtime';
import { findConverter, supportedLayers, type LayerWeight } from './layers';
import { asNative, type Shape, type Val } from './values';

/** Layout note stored in the file, read back by OnnxModel. */
export const LAYOUT_KEY = 'dlcv.layout';

export interface ExportOnnxOptions {
  /** Names of the graph inputs (default: the model's input layer names). */
  inputNames?: string[];
  /** Names of the model's outputs (default: the output layer names). */
  outputNames?: string[];
  /** Further outputs: output name -> name of a (top-level) layer whose output it is. */
  extraOutputs?: Record<string, string>;
  /** Free-form key/values stored in the file's metadata. */
  metadata?: Record<string, string>;
}

/** Internal tfjs structures the walk reads (public at run time, not all typed). */
interface SymTensor {
  id: number;
  name: string;
  dtype: string;
  shape: Shape;
  sourceLayer: tf.layers.Layer;
  nodeIndex: number;
  tensorIndex: number;
}
interface InboundNode {
  inputTensors: SymTensor[];
  outputTensors: SymTensor[];
}
interface WalkableLayer {
  inboundNodes: InboundNode[];
}
interface Container {
  inputs: SymTensor[];
  outputs: SymTensor[];
  layers: tf.layers.Layer[];
}

function isContainer(layer: unknown): layer is Container {
  const c = layer as Partial<Container>;
  return Array.isArray(c.layers) && Array.isArray(c.inputs) && Array.isArray(c.outputs);
}

function layerWeights(layer: tf.layers.Layer): (suffix: string) => LayerWeight | undefined {
  return (suffix) => {
    const w = layer.weights.find((v) => v.originalName.split('/').pop() === suffix || v.originalName.endsWith(`/${suffix}`));
    if (!w) return undefined;
    const t = w.read();
    return { values: Float32Array.from(t.dataSync() as Float32Array), shape: [...t.shape] };
  };
}

function convertLayer(g: OnnxGraph, layer: tf.layers.Layer, inputs: Val[], node: InboundNode): Val[] {
  if (isContainer(layer)) return convertContainer(g, layer, inputs);
  const className = layer.getClassName();
  const converter = findConverter(className);
  if (!converter) {
    throw new Error(
      `layer "${layer.name}" of class ${className} has no ONNX conversion (supported: ${supportedLayers().join(', ')}; packages add theirs with registerOnnxConverter)`,
    );
  }
  const outputShapes = node.outputTensors.map((t) => t.shape);
  const outs = converter({ g, layer, config: layer.getConfig() as Record<string, unknown>, inputs, outputShapes, weight: layerWeights(layer) });
  if (outs.length !== node.outputTensors.length) throw new Error(`layer "${layer.name}": converter gave ${outs.length} outputs, the layer has ${node.outputTensors.length}`);
  return outs;
}

/** Converts a (sub)model given ONNX values for its inputs; returns a resolver of its tensors. */
function walk(g: OnnxGraph, model: Container, inputs: Val[]): (t: SymTensor) => Val {
  if (inputs.length !== model.inputs.length) throw new Error(`model has ${model.inputs.length} inputs, got ${inputs.length}`);
  const known = new Map<number, Val>();
  model.inputs.forEach((t, i) => known.set(t.id, inputs[i] as Val));
  const resolve = (t: SymTensor): Val => {
    const hit = known.get(t.id);
    if (hit) return hit;
    const layer = t.sourceLayer;
    const node = (layer as unknown as WalkableLayer).inboundNodes[t.nodeIndex];
    if (!node) throw new Error(`tensor ${t.name}: its layer "${layer.name}" has no node ${t.nodeIndex}`);
    if (layer.getClassName() === 'InputLayer') throw new Error(`tensor ${t.name} comes from an input layer that is not an input of the model`);
    const outs = convertLayer(g, layer, node.inputTensors.map(resolve), node);
    node.outputTensors.forEach((o, i) => known.set(o.id, outs[i] as Val));
    const v = known.get(t.id);
    if (!v) throw new Error(`tensor ${t.name} was not produced by its layer "${layer.name}"`);
    return v;
  };
  return resolve;
}

function convertContainer(g: OnnxGraph, model: Container, inputs: Val[]): Val[] {
  const resolve = walk(g, model, inputs);
  return model.outputs.map(resolve);
}

function elemType(dtype: string, what: string): ElemType {
  if (dtype === 'float32' || dtype === 'int32') return dtype;
  throw new Error(`${what}: dtype ${dtype} is not supported`);
}

/** Builds the ONNX bytes of a model (see exportOnnx). */
export function toOnnxBytes(model: tf.LayersModel, options: ExportOnnxOptions = {}): Uint8Array {
  const container = model as unknown as Container;
  const g = new OnnxGraph();
  const inputVals = container.inputs.map((t, i): Val => {
    const name = options.inputNames?.[i] ?? t.sourceLayer.name;
    g.addInput({ name, type: elemType(t.dtype, `input ${name}`), shape: t.shape });
    return { name, shape: t.shape, nchw: false };
  });
  const outputs: [string, SymTensor][] = container.outputs.map((t, i) => [options.outputNames?.[i] ?? t.sourceLayer.name, t]);
  for (const [name, layerName] of Object.entries(options.extraOutputs ?? {})) {
    const layer = container.layers.find((l) => l.name === layerName);
    if (!layer) throw new Error(`extra output "${name}": the model has no layer "${layerName}" (layers: ${container.layers.map((l) => l.name).join(', ')})`);
    const t = (layer as unknown as WalkableLayer).inboundNodes[0]?.outputTensors[0];
    if (!t) throw new Error(`extra output "${name}": layer "${layerName}" was never called`);
    outputs.push([name, t]);
  }
  for (const [name] of outputs) g.reserve(name);
  const resolve = walk(g, container, inputVals);
  for (const [name, t] of outputs) {
    const v = asNative(g, resolve(t));
    g.addOutput({ name, type: elemType(t.dtype, `output ${name}`), shape: t.shape }, v.name);
  }
  return g.toModel({
    graphName: model.name,
    docString: `Exported by ${PRODUCER.name} from the tfjs model "${model.name}".`,
    metadata: { [LAYOUT_KEY]: 'tfjs (channels-last inputs and outputs)', ...options.metadata },
  });
}

/** Writes `model` as an ONNX file (atomically). */
export async function exportOnnx(model: tf.LayersModel, file: string, options: ExportOnnxOptions = {}): Promise<void> {
  await writeFileAtomic(path.resolve(file), toOnnxBytes(model, options));
}

/**
 * The model exported and loaded into ONNX Runtime in memory (no file): the fast CPU path for
 * generation and sampling.
 */
export function loadExported(model: tf.LayersModel, options: ExportOnnxOptions & OnnxLoadOptions = {}): Promise<OnnxModel> {
  return OnnxModel.fromBytes(toOnnxBytes(model, options), `${model.name} (exported to ONNX)`, options);
}
