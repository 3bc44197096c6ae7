/**
 * `dlcv-ddpm report`: the report page of one or more DDPM run folders (several give one
 * comparison page: loss curves overlaid, facts side by side). Per run: its config, the loss
 * curves, the per-epoch grids, the 10x10 grid and the reverse-process strip (sampled here by the
 * same code as `grid` and `reverse`, with the model's defaults), the graders' results saved in
 * <run>/eval/, the commands with engine and timing; and the live panel with every run's U-Net
 * exported to ONNX.
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
  resultInRuns,
  runLabels,
  singleImage,
  timingFacts,
  toOnnxBytes,
  writeGrid,
  type Fact,
  type ReportCommand,
  type ReportRun,
  type SavedEvalResult,
  writeReport,
} from '@dlcv/core';
import { gridImages } from '../commands/grid';
import { writeReverse } from '../commands/reverse';
import { openSampling, type SamplingSetup } from '../commands/sampling';
import { loadModelFolder, type LoadedModel } from '../model-io';
import { lossPlot } from '../trainer';
import type { LiveConfig, LiveModel } from './live-config';

/** The run's model folder, or an error saying what is missing. */
async function modelOf(runDir: string): Promise<LoadedModel> {
  const modelDir = path.join(runDir, 'model');
  try {
    return await loadModelFolder(modelDir);
  } catch (err) {
    throw new Error(`${runDir} is not a finished dlcv-ddpm run: ${(err as Error).message}`, { cause: err });
  }
}

/** Sampling with the model's defaults, seed 0, on tfjs: what `grid` and `reverse` do unless told otherwise. */
function defaultSampling(modelDir: string): Promise<SamplingSetup> {
  return openSampling({
    model: modelDir,
    seed: 0,
    batch: 100,
    runtime: 'tfjs',
    sampler: undefined,
    steps: undefined,
    w: undefined,
    eta: undefined,
    arithmetic: 'host',
    'guided-forward': 'full',
    'step-workers': 0,
  });
}

/** The 10x10 grid and the reverse strip of a run, into `dir`; returns the commands that write the same files and the strip's time labels. */
async function sampleFigures(loaded: LoadedModel, dir: string, log: (m: string) => void): Promise<{ commands: ReportCommand[]; shown: number[] }> {
  const s = await defaultSampling(loaded.dir);
  log(`${loaded.dir}: the 10x10 grid and the reverse process (${s.describe})`);
  let shown: number[];
  try {
    await writeGrid(path.join(dir, 'grid.png'), await gridImages(s, 10), { cols: 10 });
    const T = s.pipe.scheduler.config.num_train_timesteps;
    shown = (
      await writeReverse(
        dir,
        s,
        0,
        [0, 5, 20, 80, 160, 400].filter((t) => t <= T),
      )
    ).shown;
  } finally {
    await s.close();
  }
  const model = displayPath(loaded.dir);
  const commands = [
    { what: 'the 10x10 grid', command: `dlcv-ddpm grid grid.png --model ${model}` },
    { what: 'the reverse-process strip and GIF', command: `dlcv-ddpm reverse reverse --model ${model}` },
  ];
  return { commands, shown };
}

function modelFacts(loaded: LoadedModel): Fact[] {
  const t = loaded.training ?? {};
  const s = loaded.sampling;
  const fact = (k: string, v: unknown): Fact | null =>
    v === undefined || v === null ? null : [k, typeof v === 'number' ? v.toLocaleString('en-US', { maximumFractionDigits: 4 }) : String(v)];
  return [
    fact('preset', t.preset),
    fact('U-Net n_feat', loaded.unet.nFeat),
    fact('parameters', countParams(loaded.model).trainable),
    fact('training steps', t.steps),
    fact('batch size', t.batch_size),
    fact('learning rate', t.lr),
    fact('final loss (EMA 0.95)', t.final_loss_ema),
    fact('data', t.data),
    fact('sampling defaults', `${s.sampler} ${s.steps} steps, w ${s.w}${s.sampler === 'ddim' ? `, eta ${s.eta}` : ''}`),
  ].filter((f): f is Fact => f !== null);
}

interface RunParts {
  run: ReportRun;
  live: LiveModel;
  onnx: Uint8Array;
  results: SavedEvalResult[];
}

async function runParts(runDir: string, name: string, scratch: string, log: (m: string) => void): Promise<RunParts> {
  const loaded = await modelOf(runDir);
  try {
    const figures = path.join(scratch, name);
    await fs.mkdir(figures, { recursive: true });
    const sampled = await sampleFigures(loaded, figures, log);
    const strip = `The first 0 (the noise of 0_001.png) at t = ${sampled.shown.join(', ')}: the schedule's states nearest to t = 0, 5, 20, 80, 160, 400.`;
    const training = await readCommandLog(runDir);
    const results = await readEvalResults(path.join(runDir, 'eval'));
    const images = [
      await epochGrids(path.join(runDir, 'samples'), 'Per-epoch grids', 'EMA weights after each epoch; rows are digits 0-9.'),
      singleImage(path.join(figures, 'grid.png'), '10x10 grid', 'grid.png', "Rows: digits 0-9; column k: every digit's k-th noise (the files <digit>_00k.png of `sample`).", 2),
      singleImage(path.join(figures, 'reverse.png'), 'Reverse process', 'reverse.png', strip, 4),
      singleImage(path.join(figures, 'reverse.gif'), 'Reverse process, every step', 'reverse.gif', undefined, 4),
    ].filter((x) => x !== undefined);
    const run: ReportRun = {
      name,
      dir: runDir,
      facts: [...modelFacts(loaded), ...timingFacts(training, loaded.training?.steps as number | undefined)],
      config: (await readJsonIfAny(path.join(runDir, 'config.json'))) ?? null,
      images,
      commands: [...training, ...sampled.commands, ...evalCommands(results)],
    };
    const live: LiveModel = { name, modelDir: displayPath(loaded.dir), unet: loaded.unet, scheduler: loaded.scheduler, sampling: loaded.sampling };
    return { run, live, onnx: toOnnxBytes(loaded.model), results };
  } finally {
    loaded.model.dispose();
  }
}

export interface DdpmReportParts {
  runs: ReportRun[];
  live: LiveModel[];
  models: Record<string, Uint8Array>;
  results: SavedEvalResult[];
}

/** Everything the report of `runDirs` shows; the sampled figures go to `scratch`. */
export async function ddpmReportParts(runDirs: readonly string[], scratch: string, log: (m: string) => void): Promise<DdpmReportParts> {
  const parts: RunParts[] = [];
  const names = runLabels(runDirs);
  for (const [i, dir] of runDirs.entries()) parts.push(await runParts(dir, names[i]!, scratch, log));
  return {
    runs: parts.map((p) => p.run),
    live: parts.map((p) => p.live),
    models: Object.fromEntries(parts.map((p) => [p.live.name, p.onnx])),
    results: parts.flatMap((p) => p.results),
  };
}

/** The live panel's script, bundled by this package's build. */
export const LIVE_SCRIPT = path.join(__dirname, '..', '..', 'dist', 'report', 'live.js');

/** Writes the report of `runDirs` into `outDir`; returns the path of its index.html. */
export async function writeDdpmReport(runDirs: readonly string[], outDir: string, log: (m: string) => void = () => undefined): Promise<string> {
  const scratch = await fs.mkdtemp(path.join(os.tmpdir(), 'ddpm-report-'));
  try {
    const parts = await ddpmReportParts(runDirs, scratch, log);
    const chartRuns = parts.runs.map((r) => ({ name: r.name, dir: r.dir }));
    const preset = (parts.runs[0]?.config as { preset?: string } | null)?.preset ?? 'custom';
    const chart = await metricsChart(chartRuns, lossPlot({ preset }));
    const scores = evalTable(parts.results, resultInRuns(parts.runs));
    const several = parts.runs.length > 1;
    return await writeReport(outDir, {
      title: several ? `DDPM runs: ${parts.runs.map((r) => r.name).join(' vs ')}` : `DDPM run ${parts.runs[0]?.name ?? ''}`,
      subtitle: 'Problem 2: class-conditional diffusion on MNIST-M digits',
      kind: 'ddpm',
      runs: parts.runs,
      charts: chart ? [chart] : [],
      tables: scores ? [scores] : [],
      live: { script: LIVE_SCRIPT, models: parts.models, config: { models: parts.live } satisfies LiveConfig },
    });
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}
