/**
 * A trainer's step results read one step behind: the trainer issues step k, then reads step
 * k - 1's results (losses, metrics), so on an engine whose ops run behind the host (a GPU, the
 * libtorch op queue) the host issues a step while the device still runs the one before, instead
 * of waiting for the device at the end of every step. `record` reads, checks and logs one step;
 * it runs once per step, in step order. Before anything that must see every step's results (a
 * checkpoint, an evaluation, the end of the run) the trainer calls `drain()`.
 *
 * `record` returns false to stop the run at that step (a detected failure); a step issued after
 * it is then `drop()`ped, unrecorded. A step's result that is never read never becomes an
 * unhandled rejection; a read one throws its error from `record`.
 */
export class ReadBehind<S extends { result: Promise<unknown> }> {
  private unread: S | undefined;

  constructor(private readonly record: (step: S) => Promise<boolean | void>) {}

  /** Takes a step just issued and records the one before it; false when that one stopped the run. */
  async issued(step: S): Promise<boolean> {
    step.result.catch(() => undefined);
    const previous = this.unread;
    this.unread = step;
    return previous ? (await this.record(previous)) !== false : true;
  }

  /** Records the newest step, if it is not yet; false when it stopped the run. */
  async drain(): Promise<boolean> {
    const newest = this.unread;
    this.unread = undefined;
    return newest ? (await this.record(newest)) !== false : true;
  }

  /** The unrecorded step, if any, once its result has settled (the caller frees its inputs); it is not recorded. */
  async drop(): Promise<S | undefined> {
    const left = this.unread;
    this.unread = undefined;
    if (left) await left.result.catch(() => undefined);
    return left;
  }
}
