export * from './rng';
export * from './image/io';
export * from './files';
export { makeGrid, writeGrid, tensorToImages, type GridOptions } from './image/grid';
export { encodeGif, writeGif, type GifOptions } from './image/gif';
export { plotCurves, plotCurvesPng, writePlot, type PlotSpec, type PlotSeries, type PlotPngOptions } from './plot';
export { progress, formatMetrics, formatDuration, type Progress, type ProgressOptions, type ProgressMetrics } from './progress';
export { MetricsLog, readMetrics, MetricsFileError, type MetricsRecord, type MetricsRead } from './metrics';
export * from './engine/engine';
export { useFastCpuKernels, conv2dBackpropFilterNhwc } from './engine/cpu-kernels';
export { setTensorInfoStore, tensorInfoStoreInstalled } from './engine/tensor-info-store';
export * from './data/csv';
export * from './data/dataset';
export * from './data/digits';
export * from './data/image-folder';
export * from './checkpoint';
export * from './run';
export * from './cli-kit';
export * from './nn';
export { readJsonFile, checkJson, describeIssues, JsonFileError, z, type FileErrorFactory, type ReadJsonOptions } from './json-file';
export { infoCommand } from './commands/info';
export { resizeBilinear } from './image/resize';
export * from './embedded/build';
export * from './embedded/sample-sheet';
export { loadMnist, mnistSplit, type DigitSample } from './embedded/common';
export { mnistmSamples, type MnistmSample } from './embedded/mnistm';
export { syndigitsSamples, type SyndigitsSample } from './embedded/syndigits';
export { uspsLikeSamples, type UspsLikeSample } from './embedded/usps-like';
export {
  loadNativeBackend,
  nativeKernelStats,
  gelu,
  binaryCrossEntropyWithLogits,
  sigmoidCrossEntropy,
  softmaxCrossEntropy,
  batchNormTrain,
  groupNorm,
  runningAverage,
  runningAverages,
  dropoutMask,
  NATIVE_BACKEND,
} from './engine/native';
export { loadTorchBackend, referenceBlas, setTorchAdamFused, torchAdamFused, torchKernelStats } from './engine/torch';
export { logStepReplay, replayableStep, stepReplayWanted, type ReplayableStep, type ReplayableStepOptions } from './engine/torch/replayable-step';
export { activeRecording, StepValue, type ReplayContext, type ReplayHook } from './engine/torch/step-replay';
export { fusedOpsRunDirect } from './engine/kernels/fused/direct-fused-ops';
export { runOnCpuAndEngine, maxRelativeDifference, type DeviceEngineName, type EngineParity } from './engine/engine-parity';
export { applyRunningStats, BatchNorm2d, deferRunningStats, setRunningStatsDeferral, type BatchNorm2dArgs, type RunningStat, type RunningStatsUpdate } from './layers/batch-norm';
export { Gelu } from './layers/gelu';
export {
  findTorchPython,
  timeTorchReference,
  torchPythonEnv,
  TORCH_MALLOC_ENV,
  TORCH_REFERENCE_SCRIPT,
  type TorchCase,
  type TorchTimingOptions,
  type TorchTimings,
} from './torch-python';
export {
  saveModelFolder,
  readModelConfig,
  readModelFile,
  loadModelWeights,
  ModelFolderError,
  MODEL_FILES,
  type ModelFolderKind,
  type SaveModelFolderOptions,
} from './model-folder';
export * from './onnx';
export * from './report';
