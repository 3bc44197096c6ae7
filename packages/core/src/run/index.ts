export { openRun, METRICS_FILE, RUN_CONFIG_FILE, type RunSetup, type TrainingRun } from './open-run';
export { configDifferences } from './config-diff';
export { Prefetcher } from './prefetch';
export { ReadBehind } from './read-behind';
export { writeLossPlot, LossPlotWriter, readStepSeries, bucketMeans, emaSeries, type LossPlotSpec } from './loss-plot';
export { assertFinite, InputsFailedError, NonFiniteLossError } from './guards';
export { InterruptedError, watchStopSignals, type StopRequest } from './interrupt';
export { COMMAND_LOG_FILE, commandRecordSchema, currentCommandLine, type CommandRecord } from './command-log';
