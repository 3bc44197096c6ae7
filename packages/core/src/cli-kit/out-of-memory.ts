/**
 * A command that ran out of memory (the GPU's, most often: a batch that fits one card and not
 * another) gets a hint after its error line: the flags that size its batches, with the values it
 * ran with. The messages are the allocators' own, as they reach a command: CUDA's caching
 * allocator and runtime ("CUDA out of memory. Tried to allocate ...", "CUDA error: out of
 * memory"), cuBLAS and cuDNN ("..._STATUS_ALLOC_FAILED"), ATen's CPU allocator ("can't allocate
 * memory"), C++'s std::bad_alloc, and V8's ("Array buffer allocation failed").
 */
import type { FlagSpecs } from './flags';

const OUT_OF_MEMORY = /out of memory|can't allocate memory|cannot allocate memory|ALLOC_FAILED|bad_alloc|Array buffer allocation failed/i;

/** Whether an error message says that an allocation failed. */
export function isOutOfMemory(message: string): boolean {
  return OUT_OF_MEMORY.test(message);
}

/** The flags that size a command's batches: `--batch` and any `--<what>-batch`. */
function batchFlags(flags: FlagSpecs): string[] {
  return Object.keys(flags).filter((name) => name === 'batch' || name.endsWith('-batch'));
}

/**
 * The hint for an out-of-memory error of a command with these flags and values, or null (another
 * error, or a command with no batch flag).
 */
export function outOfMemoryHint(message: string, flags: FlagSpecs, values: Record<string, unknown>): string | null {
  if (!isOutOfMemory(message)) return null;
  const names = batchFlags(flags);
  if (names.length === 0) return null;
  const given = names.map((name) => `--${name} ${values[name] ?? flags[name]?.shown ?? 'unset'}`);
  return `out of memory: this run had ${given.join(', ')}; a smaller value needs less (on a GPU, other processes' memory counts too: nvidia-smi lists them)`;
}
