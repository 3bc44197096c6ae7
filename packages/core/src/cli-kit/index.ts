export * as flag from './flags';
export { UsageError, type Flag, type FlagSpecs, type FlagValues } from './flags';
export { defineCommand, runCli, type Command, type CommandSpec, type PositionalSpec, type ProgramInfo } from './command';
export { isOutOfMemory, outOfMemoryHint } from './out-of-memory';
export { userPath } from './paths';
export { gpuJobNote } from './gpu-job';
