import type { EngineInfo } from '../engine/engine';

/**
 * The line a command prints when it starts a job sized for a GPU (ddpm's gpu and report presets,
 * gan's --gpu run) on an engine whose tensors live on the CPU: the job still runs, and the
 * progress line's ETA then says hours. Null on a GPU engine, or without an engine.
 */
export function gpuJobNote(engine: EngineInfo | undefined, job: string): string | null {
  if (engine === undefined || engine.gpu) return null;
  return `note: ${job} is sized for a GPU engine (README "Training on a GPU"); the ${engine.engine} engine runs it on the CPU, where it takes hours (the progress line's ETA says how many)`;
}
