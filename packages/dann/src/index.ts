export { gradientReversal, grlLambda } from './grl';
export { DannNet, REPORT_NET, dannNetConfigSchema, type DannNetConfig, type ForwardOptions } from './model';
export {
  DEFAULT_CONFIG,
  MODES,
  RESUMABLE_CHANGES,
  runName,
  runSpecSchema,
  specFor,
  selectionNote,
  trainConfigSchema,
  validateTrainConfig,
  type Mode,
  type RunSpec,
  type TrainConfig,
} from './config';
export { DOMAINS, SCENARIOS, SOURCE_DOMAIN, resolveDomain, openDomain, holdOut, withoutLabels, type DataLocation, type Domain, type Scenario } from './data';
export { trainRun, epochOrder, targetIndices, type StoppedRun, type TrainOptions } from './trainer';
export { readResult, writeResult, runResultSchema, RESULT_FILE, type RunResult, type EpochRecord } from './result';
export { accuracy, predictLabels, extractFeatures } from './evaluate';
export { DANN_MODEL, MODEL_DIR, loadDannModel, resolveModelDir, saveDannModel, type LoadedDannModel } from './model-io';
export { tsne2d, type TsneOptions } from './tsne';
export { scatterSvg, writeScatter, type ScatterSpec } from './scatter';
export { buildTables, tablesMarkdown, BASELINES, type DannTables } from './report/tables';
export { trainAll, sourceWithTargetBn, ALL_RUNS, type TrainAllOptions } from './train-all';
export { reestimateBatchNorm, type BnAdaptOptions } from './bn-adapt';
export { dannStep, labelledStep, makeOptimizer, queueDannStep, queueLabelledStep, readStepLosses, type StepLosses } from './step';
