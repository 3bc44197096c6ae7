/**
 * `dlcv-dann report`: the report page of DANN runs: a train-all folder (its five runs, the
 * homework's table against the baselines, the source x target matrix, the t-SNE figures) or run
 * folders. Curves of all runs overlaid (losses, held-out accuracy per epoch), facts side by side,
 * commands with engine and timing, and the live panel with every run's network exported to ONNX.
 */
import { existsSync } from 'node:fs';

import * as path from 'node:path';
import {
  formatSeconds,
  listFiles,
  metricsChart,
  readCommandLog,
  readJsonIfAny,
  shortEngine,
  toOnnxBytes,
  writeReport,
  type Cell,
  type ReportChart,
  type ReportImageSet,
  type ReportRun,
  type ReportTable,
} from '@dlcv/core';
import { runName } from '../config';
import { DOMAINS, SCALING, SCENARIOS } from '../data';
import { loadDannModel } from '../model-io';
import { readResult, type RunResult } from '../result';
import { ALL_RUNS } from '../train-all';
import { lossPlot } from '../trainer';
import type { LiveConfig, LiveNet } from './live-config';
import { BASELINES, buildTables, NAMES, pct, type DannTables } from './tables';

/** The live panel's script, bundled by this package's build. */
export const LIVE_SCRIPT = path.join(__dirname, '..', '..', 'dist', 'report', 'live.js');

interface FoundRun {
  dir: string;
  result: RunResult;
}

/** The finished runs a folder stands for: itself (it has result.json) or its train-all runs, in the homework's order. */
async function findRuns(dir: string): Promise<FoundRun[]> {
  const own = await readResult(dir);
  if (own) return [{ dir, result: own }];
  const found: FoundRun[] = [];
  for (const { spec } of ALL_RUNS) {
    const runDir = path.join(dir, runName(spec));
    const result = await readResult(runDir);
    if (result) found.push({ dir: runDir, result });
  }
  if (found.length === 0) throw new Error(`${dir}: neither a finished dlcv-dann run (result.json) nor a train-all folder with finished runs`);
  return found;
}

export function roleOf(r: RunResult): string {
  const { labelled, unlabelled } = r.spec;
  if (unlabelled) return `DANN: ${NAMES[labelled]} -> ${NAMES[unlabelled]}`;
  return labelled === 'mnistm' ? 'source only (lower bound)' : `target only (upper bound for ${NAMES[labelled]})`;
}

/** The t-SNE figures `tsne` wrote beside the runs, for the DANN run of their scenario. */
async function tsneImages(found: FoundRun): Promise<ReportImageSet[]> {
  const target = found.result.spec.unlabelled;
  if (!target) return [];
  const files = await listFiles(path.join(path.dirname(found.dir), 'tsne'), new RegExp(`^tsne-${target}-(class|domain)\\.png$`));
  return files.length
    ? [
        {
          title: `t-SNE, MNIST-M -> ${NAMES[target]}`,
          caption: 'Features of the DANN network coloured by class and by domain.',
          images: files.map((f) => ({ src: f, label: path.basename(f) })),
        },
      ]
    : [];
}

async function reportRun(found: FoundRun): Promise<ReportRun> {
  const r = found.result;
  const commands = await readCommandLog(found.dir);
  const engine = commands[commands.length - 1]?.engine;
  return {
    name: r.name,
    dir: found.dir,
    facts: [
      ['what it is', roleOf(r)],
      ...DOMAINS.filter((d) => r.accuracy[d] !== undefined).map((d): [string, string] => [`accuracy on ${NAMES[d]} val`, pct(r.accuracy[d] as number)]),
      ['chosen epoch', `${r.bestEpoch} of ${r.config.epochs} (held-out accuracy ${pct(r.heldOutAccuracy)})`],
      ['training steps', r.steps.toLocaleString('en-US')],
      ['training time', formatSeconds(r.trainSeconds)],
      ['data', Object.values(r.data).join('; ')],
      ...(engine ? [['engine', shortEngine(engine)] as [string, string]] : []),
    ],
    config: (await readJsonIfAny(path.join(found.dir, 'config.json'))) ?? r.config,
    images: await tsneImages(found),
    commands,
  };
}

/** The homework's table (rows: lower bound, DANN, upper bound; columns: targets) and the source x target matrix. */
export function dannTables(t: DannTables): ReportTable[] {
  const heads = DOMAINS.map((d) => `MNIST-M -> ${NAMES[d]}`);
  const cells = (xs: (number | null)[]) => xs.map((v) => (v === null ? null : pct(v)));
  const pass = (xs: (number | null)[]) => [
    null,
    ...DOMAINS.map((d, i) => (d === 'mnistm' || xs[i] === null ? null : (xs[i] as number) >= BASELINES[d as 'svhn' | 'usps'] ? 'pass' : 'fail')),
  ];
  const main: ReportTable = {
    title: 'Accuracy on the target val.csv',
    columns: ['', ...heads],
    rows: [
      ['Trained on source (lower bound)', ...cells(t.table.lowerBound)],
      ['Adaptation (DANN)', ...cells(t.table.dann)],
      ['Trained on target (upper bound)', ...cells(t.table.upperBound)],
      ['Homework baseline (DANN)', null, ...SCENARIOS.map((s) => pct(BASELINES[s]))],
    ] as Cell[][],
    marks: [null, pass(t.table.dann) as ('pass' | 'fail' | null)[], null, null],
    note: 'DANN cells are green when they reach the baseline, red when they do not.',
  };
  const matrix: ReportTable = {
    title: 'Source x target (rows: trained on; columns: val.csv scored)',
    columns: ['', ...DOMAINS.map((d) => NAMES[d])],
    rows: DOMAINS.map((s) => [NAMES[s], ...DOMAINS.map((d) => (t.matrix[s][d] === null ? null : pct(t.matrix[s][d])))]),
  };
  return [main, matrix];
}

async function charts(runs: readonly ReportRun[]): Promise<ReportChart[]> {
  const chartRuns = runs.map((r) => ({ name: r.name, dir: r.dir }));
  const losses = await metricsChart(chartRuns, { ...lossPlot(runs.length > 1 ? 'DANN runs' : (runs[0]?.name ?? 'DANN')), maxPoints: 1000 });
  const held = await metricsChart(chartRuns, {
    title: 'Held-out accuracy per epoch (model selection)',
    yLabel: 'accuracy',
    series: [{ key: 'heldOutAccuracy', name: 'held-out' }],
  });
  return [losses, held].filter((c): c is ReportChart => c !== undefined);
}

async function liveNet(found: FoundRun): Promise<{ net: LiveNet; onnx: Uint8Array }> {
  const { net } = await loadDannModel(found.dir);
  const model = net.inferenceModel('label');
  try {
    const { imageSize, inChannels, classes } = net.config;
    return { net: { name: found.result.name, role: roleOf(found.result), imageSize, inChannels, classes }, onnx: toOnnxBytes(model) };
  } finally {
    model.dispose();
    net.dispose();
  }
}

/** Writes the report of `dirs` (train-all folders or run folders) into `outDir`; returns the path of its index.html. */
export async function writeDannReport(dirs: readonly string[], outDir: string): Promise<string> {
  const found = (await Promise.all(dirs.map(findRuns))).flat();
  const runs = await Promise.all(found.map(reportRun));
  // Live: the networks trained on MNIST-M (source only and DANN), what the issue's question is
  // about; each is ~13 MB of float32 weights, so the target-only ones stay out unless alone.
  const withModel = found.filter((f) => existsSync(path.join(f.dir, 'model')));
  const fromSource = withModel.filter((f) => f.result.spec.labelled === 'mnistm');
  const live = await Promise.all((fromSource.length ? fromSource : withModel).map(liveNet));
  const tableFile = dirs.length === 1 && !existsSync(path.join(dirs[0] as string, 'result.json')) ? path.join(dirs[0] as string, 'table.md') : undefined;
  const config: LiveConfig = { nets: live.map((l) => l.net), range: SCALING.range ?? [-1, 1] };
  return writeReport(outDir, {
    title: runs.length > 1 ? `DANN: ${runs.length} runs` : `DANN run ${runs[0]?.name ?? ''}`,
    subtitle: `Problem 3: domain adaptation from MNIST-M${tableFile && existsSync(tableFile) ? ` (train-all tables: ${tableFile})` : ''}`,
    kind: 'dann',
    runs,
    charts: await charts(runs),
    tables: dannTables(buildTables(found.map((f) => f.result))),
    live: live.length ? { script: LIVE_SCRIPT, models: Object.fromEntries(live.map((l) => [l.net.name, l.onnx])), config } : undefined,
  });
}
