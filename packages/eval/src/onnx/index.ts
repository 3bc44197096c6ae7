export { exportOnnx, loadExported, toOnnxBytes, LAYOUT_KEY, type ExportOnnxOptions } from './export';
export { OnnxModel, type OnnxTensor, type OnnxValueInfo, type OnnxLoadOptions } from './runtime';
export { registerOnnxConverter, supportedLayers, groupNormConverter, type LayerConverter, type ConvertArgs, type LayerWeight } from './layers';
export { OnnxGraph, OPSET } from './graph';
export { asNchw, asNative, onnxAxis, permute, type Val, type Shape } from './values';
