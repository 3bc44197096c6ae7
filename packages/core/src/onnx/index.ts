// tfjs -> ONNX export and ONNX Runtime. Importing this module loads neither onnx-proto nor
// onnxruntime-node: the first export or model load does.
export { exportOnnx, loadExported, toOnnxBytes, LAYOUT_KEY, type ExportOnnxOptions } from './export';
export { onnxRelativeError } from './compare';
export { OnnxModel, type OnnxTensor, type OnnxValueInfo, type OnnxLoadOptions } from './runtime';
export {
  registerOnnxConverter,
  supportedLayers,
  groupNormConverter,
  inputsOf,
  outputShapeOf,
  requireWeight,
  type LayerConverter,
  type ConvertArgs,
  type LayerWeight,
} from './layers';
export { applyActivation } from './activations';
export { OnnxGraph, OPSET } from './graph';
export { asNchw, asNative, onnxAxis, permute, type Val, type Shape } from './values';
