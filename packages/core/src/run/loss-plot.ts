/** The loss curves of a run, drawn from its metrics.jsonl. */
import * as path from 'node:path';
import { readMetrics } from '../metrics';
import { writePlot, type PlotSeries } from '../plot';

/**
 * The value of `key` at each step, in step order. A resumed run may have logged a step twice
 * (after a crash between a log line and the checkpoint): the last record wins.
 */
export async function readStepSeries(metricsFile: string, keys: readonly string[]): Promise<{ steps: number[]; values: Record<string, number[]> }> {
  const { records } = await readMetrics<Record<string, unknown>>(metricsFile);
  const byStep = new Map<number, Record<string, unknown>>();
  for (const r of records) {
    if (typeof r.step === 'number' && keys.some((k) => typeof r[k] === 'number')) byStep.set(r.step, r);
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const values = Object.fromEntries(
    keys.map((k) => [
      k,
      steps.map((s) => {
        const v = byStep.get(s)?.[k];
        return typeof v === 'number' ? v : NaN;
      }),
    ]),
  );
  return { steps, values };
}

/** Means over consecutive buckets so a curve has at most `maxPoints` points (x = bucket's last step). */
export function bucketMeans(xs: readonly number[], ys: readonly number[], maxPoints: number): { x: number[]; y: number[] } {
  const size = Math.max(1, Math.ceil(xs.length / maxPoints));
  const out = { x: [] as number[], y: [] as number[] };
  for (let i = 0; i < xs.length; i += size) {
    const chunk = ys.slice(i, i + size);
    out.x.push(xs[Math.min(i + size, xs.length) - 1] as number);
    out.y.push(chunk.reduce((a, b) => a + b, 0) / chunk.length);
  }
  return out;
}

/** An exponential moving average (the reference's progress-bar loss), NaN-free from the first value. */
export function emaSeries(ys: readonly number[], decay: number): number[] {
  const out: number[] = [];
  ys.forEach((y, i) => out.push(i === 0 ? y : decay * (out[i - 1] as number) + (1 - decay) * y));
  return out;
}

export interface LossPlotSpec {
  title: string;
  yLabel: string;
  /** Curves: a metrics key and its legend name. Keys a run never logged are left out. */
  series: readonly { key: string; name: string }[];
  /** Adds each curve's EMA with this decay (noisy per-step losses). */
  emaDecay?: number;
  logY?: boolean;
  /** Curves longer than this are averaged in buckets (default 1000: more than the figure's pixels). */
  maxPoints?: number;
}

/**
 * The loss plot of a run in progress: `update()` draws it when `minIntervalMs` have passed since
 * the last drawing (the first call draws), `write()` draws it now (a run's end). A drawing holds
 * the host for 65-86 ms at 3,000 steps on the project's 2-core machine (vega's layout and
 * rendering), and a GPU engine's device waits meanwhile; a trainer with short epochs (the ddpm
 * gpu preset's 97 on the embedded set) would otherwise pay it after each one.
 */
export class LossPlotWriter {
  private last = -Infinity;

  constructor(
    private readonly runDir: string,
    private readonly spec: LossPlotSpec,
    private readonly minIntervalMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Draws the plot if `minIntervalMs` have passed since the last drawing; whether it drew. */
  async update(): Promise<boolean> {
    if (this.now() - this.last < this.minIntervalMs) return false;
    await this.write();
    return true;
  }

  async write(): Promise<void> {
    this.last = this.now();
    await writeLossPlot(this.runDir, this.spec);
  }
}

/** Writes `<runDir>/loss.png`; nothing when no step has a loss yet. */
export async function writeLossPlot(runDir: string, spec: LossPlotSpec): Promise<void> {
  const { steps, values } = await readStepSeries(
    path.join(runDir, 'metrics.jsonl'),
    spec.series.map((s) => s.key),
  );
  if (steps.length === 0) return;
  const series: PlotSeries[] = [];
  for (const { key, name } of spec.series) {
    const ys = values[key] as number[];
    if (ys.every(Number.isNaN)) continue;
    series.push({ name, ...bucketMeans(steps, ys, spec.maxPoints ?? 1000) });
    if (spec.emaDecay !== undefined) series.push({ name: `${name} EMA ${spec.emaDecay}`, ...bucketMeans(steps, emaSeries(ys, spec.emaDecay), spec.maxPoints ?? 1000) });
  }
  await writePlot(path.join(runDir, 'loss.png'), { title: spec.title, xLabel: 'step', yLabel: spec.yLabel, logY: spec.logY, series });
}
