/**
 * `dlcv-gan report`: the report page of one or more DCGAN run folders (several: one comparison
 * page). Per run: config, loss and D-output curves, the per-epoch grids and the training GIF,
 * the first 32 images of `generate` (seed 0), failure warnings, graders' results saved in
 * <run>/eval/, commands with engine and timing; and the live panel with every run's generator
 * exported to ONNX (precise BatchNorm statistics, as `generate` samples).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  countParams,
  displayPath,
  epochGrids,
  evalCommands,
  evalTable,
  metricsChart,
  readCommandLog,
  readEvalResults,
  readJsonIfAny,
  readMetrics,
  resultInRuns,
  runLabels,
  singleImage,
  timingFacts,
  toOnnxBytes,
  writeGrid,
  writeReport,
  type Fact,
  type LossPlotSpec,
  type ReportChart,
  type ReportRun,
  type SavedEvalResult,
} from '@dlcv/core';
import { loadGeneratorFolder, type LoadedGenerator } from '../model-io';
import { IMAGE_SIZE } from '../model';
import { generateImages, withStats } from '../sampling';
import { LOSS_PLOT } from '../trainer';
import type { LiveConfig, LiveGenerator } from './live-config';

/** The live panel's script, bundled by this package's build. */
export const LIVE_SCRIPT = path.join(__dirname, '..', '..', 'dist', 'report', 'live.js');

const D_OUTPUTS: LossPlotSpec = {
  title: "Discriminator's outputs",
  yLabel: 'mean D output',
  series: [
    { key: 'dReal', name: 'D(x)' },
    { key: 'dFake1', name: 'D(G(z)) before the G step' },
    { key: 'dFake2', name: 'D(G(z)) after' },
  ],
};
const DIVERSITY: LossPlotSpec = { title: 'Diversity of the fakes (mode-collapse detector)', yLabel: 'distance fakes / reals', series: [{ key: 'diversity', name: 'diversity' }] };

async function generatorOf(runDir: string): Promise<LoadedGenerator> {
  try {
    return await loadGeneratorFolder(path.join(runDir, 'model'));
  } catch (err) {
    throw new Error(`${runDir} is not a dlcv-gan run with a model folder: ${(err as Error).message}`, { cause: err });
  }
}

/** Failure warnings the detectors logged in metrics.jsonl. */
async function warnings(runDir: string): Promise<string[]> {
  const file = path.join(runDir, 'metrics.jsonl');
  const { records } = await readMetrics<Record<string, unknown>>(file).catch(() => ({ records: [] as Record<string, unknown>[] }));
  return records.filter((r) => r.started === true && typeof r.message === 'string').map((r) => `step ${String(r.step)}: ${String(r.message)}`);
}

async function facts(loaded: LoadedGenerator, runDir: string): Promise<Fact[]> {
  const cfg = (await readJsonIfAny(path.join(loaded.dir, 'config.json'))) as { training?: Record<string, unknown> } | undefined;
  const t = cfg?.training ?? {};
  const warned = await warnings(runDir);
  return [
    ['model', loaded.model],
    ['nz / ngf / ndf', `${loaded.gan.nz} / ${loaded.gan.ngf} / ${loaded.gan.ndf}`],
    ['G parameters', countParams(loaded.g).trainable.toLocaleString('en-US')],
    ['preset', String(t.preset ?? '-')],
    ['weights of', `step ${loaded.step}, epoch ${String(t.epoch ?? '-')}`],
    ['data', String(t.data ?? '-')],
    ['failure warnings', warned.length ? warned.join('; ') : 'none'],
  ];
}

interface RunParts {
  run: ReportRun;
  live: LiveGenerator;
  onnx: Uint8Array;
  results: SavedEvalResult[];
}

async function runParts(runDir: string, name: string, scratch: string): Promise<RunParts> {
  const loaded = await generatorOf(runDir);
  try {
    const { g, gan, preciseStats } = loaded;
    const grid = path.join(scratch, `${name}-grid.png`);
    await writeGrid(grid, await generateImages(g, { count: 32, seed: 0, nz: gan.nz, preciseStats }), { cols: 8 });
    const onnx = await withStats(g, { nz: gan.nz, preciseStats }, async () => toOnnxBytes(g));
    const training = await readCommandLog(runDir);
    const results = await readEvalResults(path.join(runDir, 'eval'));
    const images = [
      await epochGrids(path.join(runDir, 'samples'), 'Per-epoch grids', 'The same 64 noise vectors after every epoch.'),
      singleImage(path.join(runDir, 'progress.gif'), 'Training GIF', 'progress.gif'),
      singleImage(grid, 'Generated (seed 0)', 'the first 32 images of `generate --seed 0`', undefined, 1),
    ].filter((x) => x !== undefined);
    const model = displayPath(loaded.dir);
    const run: ReportRun = {
      name,
      dir: runDir,
      facts: [...(await facts(loaded, runDir)), ...timingFacts(training, loaded.step)],
      config: (await readJsonIfAny(path.join(runDir, 'config.json'))) ?? null,
      images,
      commands: [...training, { what: 'the generated grid', command: `dlcv-gan grid --model ${model} --count 32 --out grid.png` }, ...evalCommands(results)],
    };
    const live: LiveGenerator = { name, modelDir: model, nz: gan.nz, channels: gan.channels, imageSize: IMAGE_SIZE };
    return { run, live, onnx, results };
  } finally {
    loaded.g.dispose();
    loaded.preciseStats?.forEach((t) => t.dispose());
  }
}

async function charts(runs: readonly ReportRun[]): Promise<ReportChart[]> {
  const chartRuns = runs.map((r) => ({ name: r.name, dir: r.dir }));
  const out: ReportChart[] = [];
  for (const spec of [LOSS_PLOT, D_OUTPUTS, DIVERSITY]) {
    const c = await metricsChart(chartRuns, spec);
    if (c) out.push(c);
  }
  return out;
}

/** Writes the report of `runDirs` into `outDir`; returns the path of its index.html. */
export async function writeGanReport(runDirs: readonly string[], outDir: string): Promise<string> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'gan-report-'));
  try {
    const parts: RunParts[] = [];
    const names = runLabels(runDirs);
    for (const [i, dir] of runDirs.entries()) parts.push(await runParts(dir, names[i]!, scratch));
    const runs = parts.map((p) => p.run);
    const scores = evalTable(
      parts.flatMap((p) => p.results),
      resultInRuns(runs),
    );
    return await writeReport(outDir, {
      title: runs.length > 1 ? `DCGAN runs: ${runs.map((r) => r.name).join(' vs ')}` : `DCGAN run ${runs[0]?.name ?? ''}`,
      subtitle: 'Problem 1: DCGAN',
      kind: 'gan',
      runs,
      charts: await charts(runs),
      tables: scores ? [scores] : [],
      live: { script: LIVE_SCRIPT, models: Object.fromEntries(parts.map((p) => [p.live.name, p.onnx])), config: { models: parts.map((p) => p.live) } satisfies LiveConfig },
    });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
