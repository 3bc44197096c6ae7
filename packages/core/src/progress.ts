/**
 * Progress for long loops (epochs, sampling, evaluation): a live cli-progress bar with ETA on a
 * terminal, and plain, sparse lines when the output is a file or a pipe (CI logs, `tee`), where
 * a redrawn bar would turn into thousands of carriage-return fragments.
 */
import { SingleBar } from 'cli-progress';

export type ProgressMetrics = Record<string, number | string>;

export interface ProgressOptions {
  /** Number of steps the loop will make. */
  total: number;
  /** Steps already done (resuming); the rate and ETA count only steps made from here. Default 0. */
  start?: number;
  /** Shown before the bar and at the start of each plain line. */
  label?: string;
  /** Stream to write to. Default process.stderr, so stdout stays clean for results. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Print nothing at all (counting still works). */
  quiet?: boolean;
  /** Draw the live bar; default: whether `stream` is a terminal. */
  tty?: boolean;
  /** Plain mode: print a line each time this many percent more are done. Default 10. */
  everyPercent?: number;
  /** Plain mode: also print a line when this many seconds passed since the last one. Default 30. */
  everySeconds?: number;
  /** Clock in ms, for tests. Default Date.now. */
  now?: () => number;
}

export interface Progress {
  /** Advance by `n` steps (default 1) and merge `metrics` into the values shown. */
  tick(n?: number, metrics?: ProgressMetrics): void;
  /** Set the absolute step count (e.g. when resuming). */
  update(value: number, metrics?: ProgressMetrics): void;
  /** Final line, and release the terminal; always call it (the live bar holds a redraw timer). */
  stop(): void;
  readonly value: number;
  readonly total: number;
}

export function progress(options: ProgressOptions): Progress {
  const { total, start = 0, label = '', quiet = false, everyPercent = 10, everySeconds = 30, now = Date.now } = options;
  if (!Number.isFinite(total) || total < 0) throw new Error(`progress: total must be a non-negative number, got ${total}`);
  if (!Number.isFinite(start) || start < 0) throw new Error(`progress: start must be a non-negative number, got ${start}`);
  if (!(everyPercent > 0)) throw new Error(`progress: everyPercent must be positive, got ${everyPercent}`);
  if (!(everySeconds > 0)) throw new Error(`progress: everySeconds must be positive, got ${everySeconds}`);
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  if (quiet) return new Counter(total, start);
  if (tty) return new LiveBar(total, start, label, stream);
  return new PlainLines(total, start, label, stream, everyPercent, everySeconds * 1000, now);
}

/** `loss=0.1234 acc=0.9` style; 4 significant digits is what a glance at a loss needs. */
export function formatMetrics(metrics: ProgressMetrics): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k}=${typeof v === 'number' && !Number.isInteger(v) && Number.isFinite(v) ? v.toPrecision(4) : String(v)}`)
    .join(' ');
}

/** Seconds as `45s`, `3m05s`, `2h07m`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

class Counter implements Progress {
  value: number;
  protected metrics: ProgressMetrics = {};
  constructor(
    readonly total: number,
    protected readonly initial: number,
  ) {
    this.value = initial;
  }

  tick(n = 1, metrics?: ProgressMetrics): void {
    this.update(this.value + n, metrics);
  }

  update(value: number, metrics?: ProgressMetrics): void {
    if (!Number.isFinite(value)) throw new Error(`progress: value must be finite, got ${value}`);
    this.value = value;
    if (metrics) Object.assign(this.metrics, metrics);
    this.changed();
  }

  stop(): void {}

  protected changed(): void {}
}

class LiveBar extends Counter {
  private readonly bar: SingleBar;
  private stopped = false;

  constructor(total: number, initial: number, label: string, stream: NodeJS.WritableStream) {
    super(total, initial);
    this.bar = new SingleBar({
      stream,
      format: `${label ? `${label} ` : ''}{bar} {percentage}% | {value}/{total} | ETA {eta_formatted} | {duration_formatted} {metrics}`,
      barsize: 30,
      // A longer ETA window: training steps vary (checkpoints, eval), 10 samples jump around.
      etaBuffer: 100,
      // Keep the cursor: a killed run must not leave the user's terminal without one.
      hideCursor: false,
      clearOnComplete: false,
      stopOnComplete: false,
      gracefulExit: false,
    });
    this.bar.start(total, initial, { metrics: '' });
  }

  protected override changed(): void {
    if (!this.stopped) this.bar.update(this.value, { metrics: formatMetrics(this.metrics) });
  }

  override stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bar.stop();
  }
}

class PlainLines extends Counter {
  private readonly start: number;
  private lastTime: number;
  private lastBucket: number;
  private lastPrinted: number;
  private stopped = false;

  constructor(
    total: number,
    initial: number,
    private readonly label: string,
    private readonly stream: NodeJS.WritableStream,
    private readonly everyPercent: number,
    private readonly everyMs: number,
    private readonly now: () => number,
  ) {
    super(total, initial);
    this.start = now();
    this.lastTime = this.start;
    this.lastBucket = this.bucket();
    // Nothing to report at stop() if no step was made.
    this.lastPrinted = initial;
  }

  private bucket(): number {
    return this.total > 0 ? Math.floor((100 * this.value) / this.total / this.everyPercent) : 0;
  }

  protected override changed(): void {
    if (this.stopped) return;
    const t = this.now();
    const bucket = this.bucket();
    if (bucket > this.lastBucket || t - this.lastTime >= this.everyMs) {
      this.lastBucket = Math.max(bucket, this.lastBucket);
      this.print(t);
    }
  }

  override stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.value !== this.lastPrinted) this.print(this.now());
  }

  private print(t: number): void {
    this.lastTime = t;
    this.lastPrinted = this.value;
    const elapsed = (t - this.start) / 1000;
    const rate = elapsed > 0 ? (this.value - this.initial) / elapsed : 0;
    const parts = [`${this.label ? `${this.label} ` : ''}${this.value}/${this.total}`];
    if (this.total > 0) parts[0] += ` ${Math.floor((100 * this.value) / this.total)}%`;
    parts.push(rate > 0 ? `${rate >= 10 ? rate.toFixed(0) : rate.toPrecision(2)} it/s` : '- it/s');
    parts.push(`elapsed ${formatDuration(elapsed)}`);
    if (this.value < this.total) parts.push(`ETA ${rate > 0 ? formatDuration((this.total - this.value) / rate) : '?'}`);
    const m = formatMetrics(this.metrics);
    if (m) parts.push(m);
    this.stream.write(`${parts.join(' | ')}\n`);
  }
}
