/**
 * One converter per tfjs layer class: it receives the layer's ONNX inputs and returns its ONNX
 * outputs. This file holds those of tfjs-layers' own classes; a custom layer registers its
 * converter with `registerOnnxConverter` beside its class (core's BatchNorm2d and Gelu, ddpm's
 * GroupNorm...), so that importing the layer makes it exportable.
 */
import type * as tf from '@tensorflow/tfjs';
import { applyActivation } from './activations';
import type { OnnxGraph } from './graph';
import { asNative, asNchw, onnxAxis, permute, type Shape, type Val } from './values';

export interface LayerWeight {
  values: Float32Array;
  shape: number[];
}

export interface ConvertArgs {
  g: OnnxGraph;
  layer: tf.layers.Layer;
  config: Record<string, unknown>;
  inputs: Val[];
  /** tfjs (channels-last) shapes of the layer's outputs at this call. */
  outputShapes: Shape[];
  /** The layer's weight whose name ends with `/<suffix>`, or undefined. */
  weight(suffix: string): LayerWeight | undefined;
}

export type LayerConverter = (args: ConvertArgs) => Val[];

const converters = new Map<string, LayerConverter>();

/** Adds (or replaces) the converter of a layer class name, e.g. a package's custom layer. */
export function registerOnnxConverter(className: string, converter: LayerConverter): void {
  converters.set(className, converter);
}

export function findConverter(className: string): LayerConverter | undefined {
  return converters.get(className);
}

export function supportedLayers(): string[] {
  return [...converters.keys()].sort();
}

// --- helpers (the exported ones serve converters in other files too) ---------------------

/** The layer's weight named `suffix`; an error naming the layer when it has none. */
export function requireWeight(args: ConvertArgs, suffix: string): LayerWeight {
  const w = args.weight(suffix);
  if (!w) throw new Error(`layer "${args.layer.name}" (${args.layer.getClassName()}) has no weight "${suffix}"`);
  return w;
}

function single(args: ConvertArgs): Val {
  const v = args.inputs[0];
  if (!v || args.inputs.length !== 1) throw new Error(`layer "${args.layer.name}" expects one input, got ${args.inputs.length}`);
  return v;
}

function pair(v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number')) return [v[0] as number, v[1] as number];
  throw new Error(`${what}: expected a number or two numbers, got ${JSON.stringify(v)}`);
}

function channelsLast(args: ConvertArgs): void {
  const fmt = args.config.dataFormat;
  if (fmt !== undefined && fmt !== 'channelsLast') throw new Error(`layer "${args.layer.name}": only channelsLast is supported, got ${String(fmt)}`);
}

/** The layer's `n` ONNX inputs; an error naming the layer when it got another count. */
export function inputsOf(args: ConvertArgs, n: number): Val[] {
  if (args.inputs.length !== n) throw new Error(`layer "${args.layer.name}" (${args.layer.getClassName()}) expects ${n} inputs, got ${args.inputs.length}`);
  return args.inputs;
}

/** tfjs shape of the layer's output `i` at this call. */
export function outputShapeOf(args: ConvertArgs, i = 0): Shape {
  const s = args.outputShapes[i];
  if (!s) throw new Error(`layer "${args.layer.name}": unknown output shape`);
  return s;
}

/** Explicit TF "same" padding (extra pixel at the end) for a forward window over `size`. */
function samePads(size: number, kernel: number, stride: number, dilation: number): [number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

/** ONNX window attributes for a tfjs 'valid'/'same' window over an NHWC input of static size. */
function windowAttrs(args: ConvertArgs, input: Val, kernel: [number, number], stride: [number, number], dilation: [number, number]): Record<string, number[] | string> {
  const padding = args.config.padding ?? 'valid';
  if (padding === 'valid') return { pads: [0, 0, 0, 0] };
  if (padding !== 'same') throw new Error(`layer "${args.layer.name}": padding "${String(padding)}" is not supported`);
  const h = input.shape[1],
    w = input.shape[2];
  // Unknown spatial size: ONNX computes the same TF padding itself.
  if (typeof h !== 'number' || typeof w !== 'number') return { auto_pad: 'SAME_UPPER' };
  const [t, b] = samePads(h, kernel[0], stride[0], dilation[0]);
  const [l, r] = samePads(w, kernel[1], stride[1], dilation[1]);
  return { pads: [t, l, b, r] };
}

function withBias(args: ConvertArgs): boolean {
  return args.config.useBias !== false && args.weight('bias') !== undefined;
}

// --- convolution, dense ----------------------------------------------------------------------

registerOnnxConverter('Conv2D', (args) => {
  channelsLast(args);
  const { g, layer } = args;
  const x = asNchw(g, single(args));
  const kernel = requireWeight(args, 'kernel'); // [kh, kw, in, out]
  const k = pair(args.config.kernelSize, 'kernelSize');
  const s = pair(args.config.strides ?? 1, 'strides');
  const d = pair(args.config.dilationRate ?? 1, 'dilationRate');
  const w = permute(kernel.values, kernel.shape, [3, 2, 0, 1]);
  const inputs = [x.name, g.float(`${layer.name}.kernel`, w.data, w.dims)];
  if (withBias(args)) inputs.push(g.float(`${layer.name}.bias`, requireWeight(args, 'bias').values, [kernel.shape[3] as number]));
  const attrs = { kernel_shape: k, strides: s, dilations: d, group: 1, ...windowAttrs(args, x, k, s, d) };
  const y: Val = { name: g.op('Conv', inputs, attrs, layer.name), shape: outputShapeOf(args), nchw: true };
  return [applyActivation(g, args.config.activation as string | undefined, y, `${layer.name}.act`)];
});

registerOnnxConverter('Conv2DTranspose', (args) => {
  channelsLast(args);
  const { g, layer } = args;
  const x = asNchw(g, single(args));
  const kernel = requireWeight(args, 'kernel'); // [kh, kw, out, in]
  const k = pair(args.config.kernelSize, 'kernelSize');
  const s = pair(args.config.strides ?? 1, 'strides');
  const out = outputShapeOf(args);
  const pads: number[] = [0, 0, 0, 0];
  const outputPadding = [0, 0];
  for (let a = 0; a < 2; a++) {
    const inSize = x.shape[1 + a],
      outSize = out[1 + a];
    if (typeof inSize !== 'number' || typeof outSize !== 'number') throw new Error(`layer "${layer.name}": Conv2DTranspose needs static spatial sizes`);
    // tfjs output size is fixed by its padding rule; crop (or extend) the full transposed
    // convolution (in-1)*s + k to it, as TF's gradient of a 'same' conv does: the smaller half
    // of the crop at the start.
    const full = (inSize - 1) * (s[a] as number) + (k[a] as number);
    const total = full - outSize;
    if (total >= 0) {
      pads[a] = Math.floor(total / 2);
      pads[a + 2] = total - Math.floor(total / 2);
    } else {
      outputPadding[a] = -total;
    }
  }
  const w = permute(kernel.values, kernel.shape, [3, 2, 0, 1]);
  const inputs = [x.name, g.float(`${layer.name}.kernel`, w.data, w.dims)];
  if (withBias(args)) inputs.push(g.float(`${layer.name}.bias`, requireWeight(args, 'bias').values, [kernel.shape[2] as number]));
  const attrs = { kernel_shape: k, strides: s, pads, output_padding: outputPadding, group: 1 };
  const y: Val = { name: g.op('ConvTranspose', inputs, attrs, layer.name), shape: out, nchw: true };
  return [applyActivation(g, args.config.activation as string | undefined, y, `${layer.name}.act`)];
});

registerOnnxConverter('Dense', (args) => {
  const { g, layer } = args;
  const x = asNative(g, single(args));
  const kernel = requireWeight(args, 'kernel'); // [in, units]
  const units = kernel.shape[1] as number;
  const wName = g.float(`${layer.name}.kernel`, kernel.values, kernel.shape);
  const bias = withBias(args) ? g.float(`${layer.name}.bias`, requireWeight(args, 'bias').values, [units]) : undefined;
  let y: string;
  if (x.shape.length === 2) {
    y = g.op('Gemm', bias ? [x.name, wName, bias] : [x.name, wName], {}, layer.name);
  } else {
    // tfjs applies Dense to the last axis of any rank.
    y = g.op('MatMul', [x.name, wName], {}, layer.name);
    if (bias) y = g.op('Add', [y, bias], {}, `${layer.name}.bias_add`);
  }
  const v: Val = { name: y, shape: outputShapeOf(args), nchw: false };
  return [applyActivation(g, args.config.activation as string | undefined, v, `${layer.name}.act`)];
});

registerOnnxConverter('Embedding', (args) => {
  const { g, layer } = args;
  const x = asNative(g, single(args));
  const table = requireWeight(args, 'embeddings');
  const idx = g.op('Cast', [x.name], { to: 7 /* INT64 */ });
  const y = g.op('Gather', [g.float(`${layer.name}.embeddings`, table.values, table.shape), idx], { axis: 0 }, layer.name);
  return [{ name: y, shape: outputShapeOf(args), nchw: false }];
});

// --- normalisation ---------------------------------------------------------------------------

function channelAxisIsLast(args: ConvertArgs, x: Val): void {
  const axis = (args.config.axis ?? -1) as number | number[];
  const a = Array.isArray(axis) ? axis : [axis];
  const rank = x.shape.length;
  if (a.length !== 1 || ((a[0] as number) !== -1 && (a[0] as number) !== rank - 1)) {
    throw new Error(`layer "${args.layer.name}": only normalisation over the last (channel) axis is supported, got axis ${JSON.stringify(axis)}`);
  }
}

registerOnnxConverter('BatchNormalization', (args) => {
  const { g, layer } = args;
  const x = asNchw(g, single(args));
  channelAxisIsLast(args, x);
  if (x.shape.length !== 2 && x.shape.length !== 4) throw new Error(`layer "${layer.name}": BatchNormalization needs rank 2 or 4 input, got ${x.shape.length}`);
  const mean = requireWeight(args, 'moving_mean');
  const variance = requireWeight(args, 'moving_variance');
  const c = mean.values.length;
  const gamma = args.config.scale === false ? new Float32Array(c).fill(1) : requireWeight(args, 'gamma').values;
  const beta = args.config.center === false ? new Float32Array(c) : requireWeight(args, 'beta').values;
  const inputs = [
    x.name,
    g.float(`${layer.name}.gamma`, gamma, [c]),
    g.float(`${layer.name}.beta`, beta, [c]),
    g.float(`${layer.name}.mean`, mean.values, [c]),
    g.float(`${layer.name}.var`, variance.values, [c]),
  ];
  const epsilon = (args.config.epsilon ?? 1e-3) as number;
  return [{ name: g.op('BatchNormalization', inputs, { epsilon: { float: epsilon } }, layer.name), shape: outputShapeOf(args), nchw: x.nchw }];
});

/**
 * Group normalisation (Wu & He 2018) over the channel axis: statistics per sample and group of
 * C/G channels, biased variance, then a per-channel affine. Built from InstanceNormalization on
 * an [N, G, rest] view, which every ORT version runs (GroupNormalization-18 had a faulty spec).
 */
export const groupNormConverter: LayerConverter = (args) => {
  const { g, layer, config } = args;
  const x = asNchw(g, single(args));
  channelAxisIsLast(args, x);
  const c = x.shape[x.shape.length - 1];
  if (typeof c !== 'number') throw new Error(`layer "${layer.name}": unknown channel count`);
  const groups = (config.groups ?? config.numGroups) as number | undefined;
  if (typeof groups !== 'number' || c % groups !== 0) throw new Error(`layer "${layer.name}": ${c} channels cannot form ${String(groups)} groups`);
  const epsilon = (config.epsilon ?? 1e-5) as number;
  const grouped = g.op('Reshape', [x.name, g.int64('shape', [0, groups, -1])]);
  const normed = g.op('InstanceNormalization', [grouped, g.float('ones', new Float32Array(groups).fill(1), [groups]), g.float('zeros', new Float32Array(groups), [groups])], {
    epsilon: { float: epsilon },
  });
  let y = g.op('Reshape', [normed, g.op('Shape', [x.name])], {}, layer.name);
  // gamma/beta broadcast over the channel axis: [C, 1, 1] for NCHW images, [C] for [N, C].
  const affineDims = x.shape.length === 4 ? [c, 1, 1] : [c];
  const gamma = config.scale === false ? undefined : args.weight('gamma');
  const beta = config.center === false ? undefined : args.weight('beta');
  if (gamma) y = g.op('Mul', [y, g.float(`${layer.name}.gamma`, gamma.values, affineDims)], {}, `${layer.name}.scale`);
  if (beta) y = g.op('Add', [y, g.float(`${layer.name}.beta`, beta.values, affineDims)], {}, `${layer.name}.shift`);
  return [{ name: y, shape: outputShapeOf(args), nchw: x.nchw }];
};
registerOnnxConverter('GroupNormalization', groupNormConverter);

// --- pooling, resampling ---------------------------------------------------------------------

function pool(op: 'MaxPool' | 'AveragePool'): LayerConverter {
  return (args) => {
    channelsLast(args);
    const { g, layer } = args;
    const x = asNchw(g, single(args));
    const k = pair(args.config.poolSize ?? 2, 'poolSize');
    const s = pair(args.config.strides ?? k, 'strides');
    // count_include_pad 0: TF averages over the valid pixels of a padded window.
    const attrs = { kernel_shape: k, strides: s, ...windowAttrs(args, x, k, s, [1, 1]) };
    return [{ name: g.op(op, [x.name], attrs, layer.name), shape: outputShapeOf(args), nchw: true }];
  };
}
registerOnnxConverter('MaxPooling2D', pool('MaxPool'));
registerOnnxConverter('AveragePooling2D', pool('AveragePool'));

function globalPool(op: 'GlobalAveragePool' | 'GlobalMaxPool'): LayerConverter {
  return (args) => {
    channelsLast(args);
    const { g, layer } = args;
    const x = asNchw(g, single(args));
    const y = g.op(op, [x.name], {}, layer.name);
    if (args.config.keepDims === true) return [{ name: y, shape: outputShapeOf(args), nchw: true }];
    return [{ name: g.op('Flatten', [y], { axis: 1 }, `${layer.name}.flat`), shape: outputShapeOf(args), nchw: false }];
  };
}
registerOnnxConverter('GlobalAveragePooling2D', globalPool('GlobalAveragePool'));
registerOnnxConverter('GlobalMaxPooling2D', globalPool('GlobalMaxPool'));

registerOnnxConverter('UpSampling2D', (args) => {
  channelsLast(args);
  const { g, layer } = args;
  const x = asNchw(g, single(args));
  const [sh, sw] = pair(args.config.size ?? 2, 'size');
  const scales = g.float('scales', [1, 1, sh, sw], [4]);
  // tfjs resizes with alignCorners=false, halfPixelCenters=false: source = floor(dst / scale).
  const nearest = (args.config.interpolation ?? 'nearest') === 'nearest';
  const attrs: Record<string, string> = nearest
    ? { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }
    : { mode: 'linear', coordinate_transformation_mode: 'asymmetric' };
  return [{ name: g.op('Resize', [x.name, '', scales], attrs, layer.name), shape: outputShapeOf(args), nchw: true }];
});

registerOnnxConverter('ZeroPadding2D', (args) => {
  channelsLast(args);
  const { g, layer } = args;
  const x = asNchw(g, single(args));
  const p = args.config.padding as [[number, number], [number, number]];
  const pads = g.int64('pads', [0, 0, p[0][0], p[1][0], 0, 0, p[0][1], p[1][1]]);
  return [{ name: g.op('Pad', [x.name, pads], { mode: 'constant' }, layer.name), shape: outputShapeOf(args), nchw: true }];
});

// --- activations -----------------------------------------------------------------------------

registerOnnxConverter('Activation', (args) => [applyActivation(args.g, args.config.activation as string, single(args), args.layer.name)]);

registerOnnxConverter('ReLU', (args) => {
  const { g, layer } = args;
  const x = single(args);
  const max = args.config.maxValue;
  if (typeof max === 'number') return [{ ...x, name: g.op('Clip', [x.name, g.scalar(0), g.scalar(max)], {}, layer.name) }];
  return [{ ...x, name: g.op('Relu', [x.name], {}, layer.name) }];
});

registerOnnxConverter('LeakyReLU', (args) => {
  const x = single(args);
  const alpha = (args.config.alpha ?? 0.3) as number; // tfjs's default slope is 0.3
  return [{ ...x, name: args.g.op('LeakyRelu', [x.name], { alpha: { float: alpha } }, args.layer.name) }];
});

registerOnnxConverter('ELU', (args) => {
  const x = single(args);
  return [{ ...x, name: args.g.op('Elu', [x.name], { alpha: { float: (args.config.alpha ?? 1) as number } }, args.layer.name) }];
});

registerOnnxConverter('Softmax', (args) => {
  const x = single(args);
  const axis = (args.config.axis ?? -1) as number | number[];
  if (Array.isArray(axis) && axis.length !== 1) throw new Error(`layer "${args.layer.name}": softmax over several axes is not supported`);
  const a = Array.isArray(axis) ? (axis[0] as number) : axis;
  return [{ ...x, name: args.g.op('Softmax', [x.name], { axis: onnxAxis(x, a) }, args.layer.name) }];
});

// Identity at inference time.
for (const name of ['Dropout', 'SpatialDropout1D', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']) {
  registerOnnxConverter(name, (args) => [single(args)]);
}

// --- merging ---------------------------------------------------------------------------------

/** Inputs of an elementwise merge in one common layout (NCHW for rank 4). */
function sameLayout(args: ConvertArgs): Val[] {
  const ranks = new Set(args.inputs.map((v) => v.shape.length));
  if (ranks.size !== 1) throw new Error(`layer "${args.layer.name}": inputs of different ranks (${[...ranks].join(', ')}) are not supported; reshape them first`);
  return args.inputs.map((v) => asNchw(args.g, v));
}

function elementwise(op: 'Add' | 'Mul' | 'Max' | 'Min' | 'Sum', mean = false): LayerConverter {
  return (args) => {
    const xs = sameLayout(args);
    const { g, layer } = args;
    let y =
      op === 'Max' || op === 'Min'
        ? g.op(
            op,
            xs.map((v) => v.name),
            {},
            layer.name,
          )
        : (xs[0] as Val).name;
    if (op === 'Add' || op === 'Mul' || op === 'Sum') {
      for (const v of xs.slice(1)) y = g.op(op === 'Mul' ? 'Mul' : 'Add', [y, v.name], {}, layer.name);
    }
    if (mean) y = g.op('Div', [y, g.scalar(xs.length)], {}, `${layer.name}.mean`);
    return [{ name: y, shape: outputShapeOf(args), nchw: (xs[0] as Val).nchw }];
  };
}
registerOnnxConverter('Add', elementwise('Add'));
registerOnnxConverter('Multiply', elementwise('Mul'));
registerOnnxConverter('Average', elementwise('Sum', true));
registerOnnxConverter('Maximum', elementwise('Max'));
registerOnnxConverter('Minimum', elementwise('Min'));

registerOnnxConverter('Concatenate', (args) => {
  const xs = sameLayout(args);
  const first = xs[0] as Val;
  const axis = onnxAxis(first, (args.config.axis ?? -1) as number);
  return [
    {
      name: args.g.op(
        'Concat',
        xs.map((v) => v.name),
        { axis },
        args.layer.name,
      ),
      shape: outputShapeOf(args),
      nchw: first.nchw,
    },
  ];
});

// --- shapes ----------------------------------------------------------------------------------

/** A native-layout result of rank 4 goes back to NCHW, so images stay channels-first. */
function settle(g: OnnxGraph, v: Val): Val {
  return v.shape.length === 4 ? asNchw(g, v) : v;
}

registerOnnxConverter('Flatten', (args) => {
  const x = asNative(args.g, single(args)); // tfjs flattens in H, W, C order
  return [{ name: args.g.op('Flatten', [x.name], { axis: 1 }, args.layer.name), shape: outputShapeOf(args), nchw: false }];
});

registerOnnxConverter('Reshape', (args) => {
  const { g, layer } = args;
  const x = asNative(g, single(args));
  const target = args.config.targetShape as number[];
  // 0 copies the batch dimension; a -1 in the target is passed through.
  const y: Val = { name: g.op('Reshape', [x.name, g.int64('shape', [0, ...target])], {}, layer.name), shape: outputShapeOf(args), nchw: false };
  return [settle(g, y)];
});

registerOnnxConverter('Permute', (args) => {
  const { g, layer } = args;
  const x = asNative(g, single(args));
  const dims = args.config.dims as number[]; // 1-based, batch excluded
  const y: Val = { name: g.op('Transpose', [x.name], { perm: [0, ...dims] }, layer.name), shape: outputShapeOf(args), nchw: false };
  return [settle(g, y)];
});
