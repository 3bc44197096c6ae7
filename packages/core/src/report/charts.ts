/**
 * The report's charts: the packages' loss-plot specs (the ones behind loss.png) drawn from the
 * runs' metrics.jsonl as interactive Vega-Lite (zoom and pan on the axes, values on hover), with
 * several runs overlaid in one chart.
 */
import * as path from 'node:path';
import { toVegaLite, type PlotSeries } from '../plot';
import { bucketMeans, emaSeries, readStepSeries, type LossPlotSpec } from '../run/loss-plot';
import { exists } from './run-folder';
import type { ReportChart } from './types';

export interface ChartRun {
  /** Prefixes the curve names when several runs share the chart. */
  name: string;
  dir: string;
}

async function runSeries(run: ChartRun, spec: LossPlotSpec, prefix: string): Promise<PlotSeries[]> {
  const file = path.join(run.dir, 'metrics.jsonl');
  if (!exists(file)) return [];
  const { steps, values } = await readStepSeries(
    file,
    spec.series.map((s) => s.key),
  );
  const out: PlotSeries[] = [];
  const maxPoints = spec.maxPoints ?? 1000;
  for (const { key, name } of spec.series) {
    const ys = values[key] as number[];
    if (steps.length === 0 || ys.every(Number.isNaN)) continue;
    out.push({ name: `${prefix}${name}`, ...bucketMeans(steps, ys, maxPoints) });
    if (spec.emaDecay !== undefined) out.push({ name: `${prefix}${name} EMA ${spec.emaDecay}`, ...bucketMeans(steps, emaSeries(ys, spec.emaDecay), maxPoints) });
  }
  return out;
}

/** The chart of `spec` over `runs` (curves of every run in one chart), or undefined when no run logged its keys. */
export async function metricsChart(runs: readonly ChartRun[], spec: LossPlotSpec): Promise<ReportChart | undefined> {
  const series: PlotSeries[] = [];
  for (const run of runs) series.push(...(await runSeries(run, spec, runs.length > 1 ? `${run.name}: ` : '')));
  if (series.length === 0) return undefined;
  const vl = toVegaLite({ title: spec.title, xLabel: 'step', yLabel: spec.yLabel, logY: spec.logY, series, width: 760, height: 380 }) as unknown as Record<string, unknown>;
  const encoding = vl.encoding as Record<string, unknown>;
  return {
    title: spec.title,
    spec: {
      ...vl,
      // Drag to pan, wheel to zoom; hover a point for its values (points are invisible, the line is drawn).
      mark: { ...(vl.mark as Record<string, unknown>), point: { opacity: 0, size: 40 }, tooltip: true },
      params: [{ name: 'zoom', select: 'interval', bind: 'scales' }],
      encoding: {
        ...encoding,
        tooltip: [
          { field: 's', type: 'nominal', title: 'curve' },
          { field: 'x', type: 'quantitative', title: 'step' },
          { field: 'y', type: 'quantitative', title: spec.yLabel, format: '.4g' },
        ],
      },
    },
  };
}
