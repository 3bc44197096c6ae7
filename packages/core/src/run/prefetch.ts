/**
 * One batch ahead: while step s trains, batch s + 1 is being decoded. A batch abandoned by an
 * error elsewhere never becomes an unhandled rejection; its own error surfaces when awaited.
 */
export class Prefetcher<B> {
  private pending: { step: number; batch: Promise<B> } | undefined;

  /** `load(step)` makes the batch of a step; `end` is the first step not to load. */
  constructor(
    private readonly load: (step: number) => Promise<B>,
    private readonly end: number,
  ) {}

  /** The batch of `step` (loaded now unless it was prefetched), and starts loading step + 1. */
  async take(step: number): Promise<B> {
    const batch = this.pending?.step === step ? this.pending.batch : this.start(step);
    this.pending = step + 1 < this.end ? { step: step + 1, batch: this.start(step + 1) } : undefined;
    return batch;
  }

  /** Waits for an outstanding prefetch and hands its batch to `release` (e.g. to free tensors). */
  async close(release?: (batch: B) => void): Promise<void> {
    const left = this.pending;
    this.pending = undefined;
    if (!left) return;
    const batch = await left.batch.catch(() => undefined);
    if (batch !== undefined) release?.(batch);
  }

  private start(step: number): Promise<B> {
    const p = this.load(step);
    p.catch(() => undefined);
    return p;
  }
}
