import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writePng } from '../image/io';
import { currentCommandLine } from '../run/command-log';
import { openRun } from '../run/open-run';
import { z } from '../zod-issues';
import { metricsChart } from './charts';
import { browserRequired, chromiumPath, openReport } from './chromium';
import { evalTable, readEvalResults, resultInRuns } from './eval-results';
import { epochGrids, readCommandLog, runLabels, timingFacts } from './run-folder';
import { fillTemplate } from './template';
import type { ReportInput } from './types';
import { writeReport } from './write';

/** A run folder as trainers leave it: config, metrics, commands.jsonl, per-epoch grids, a saved grader result. */
async function fakeRun(root: string, name: string, slope: number): Promise<string> {
  const dir = path.join(root, name);
  const run = await openRun({
    runDir: dir,
    config: { lr: slope },
    resume: false,
    models: {},
    initialState: { step: 0, epoch: 0 },
    stateSchema: z.object({ step: z.number(), epoch: z.number() }),
  });
  for (let step = 1; step <= 30; step++) await run.metrics.append({ step, loss: 1 / (1 + slope * step), acc: step % 10 === 0 ? step / 30 : undefined });
  await run.metrics.flush();
  run.close();
  for (let e = 1; e <= 3; e++) {
    await writePng(path.join(dir, 'samples', `epoch-000${e}.png`), { width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(80 * e) });
  }
  await fs.mkdir(path.join(dir, 'eval'));
  const homework = { problem: '2', metric: 'accuracy', value: 0.5 + slope / 10, simple: 0.8, strong: 0.88, higherIsBetter: true, unit: '%' };
  const strict = { problem: '2', metric: 'strict accuracy', value: 0.4 + slope / 10, simple: null, strong: null, higherIsBetter: true, unit: '%' };
  await fs.writeFile(
    path.join(dir, 'eval', 'digits.json'),
    JSON.stringify({ grader: 'digits', total: 1000, command: 'dlcv-eval digits x --save y', homework, otherScores: [strict] }),
  );
  return dir;
}

async function fakeReport(root: string): Promise<{ input: ReportInput; index: string }> {
  const dirs = [await fakeRun(root, 'a', 1), await fakeRun(root, 'b', 3.5)];
  const runs = dirs.map((d) => ({ name: path.basename(d), dir: d }));
  const loss = await metricsChart(runs, { title: 'loss', yLabel: 'MSE', logY: true, series: [{ key: 'loss', name: 'loss' }], emaDecay: 0.9 });
  const acc = await metricsChart(runs, { title: 'accuracy', yLabel: 'accuracy', series: [{ key: 'acc', name: 'held-out' }] });
  const results = (await Promise.all(dirs.map((d) => readEvalResults(path.join(d, 'eval'))))).flat();
  const input: ReportInput = {
    title: 'two fake runs',
    kind: 'test',
    runs: await Promise.all(
      dirs.map(async (d) => {
        const commands = await readCommandLog(d);
        const grids = await epochGrids(path.join(d, 'samples'), 'per-epoch grids');
        return {
          name: path.basename(d),
          dir: d,
          facts: [['steps', '30'], ...timingFacts(commands, 30)] as [string, string][],
          config: { d },
          images: grids ? [grids] : [],
          commands,
        };
      }),
    ),
    charts: [loss!, acc!],
    tables: [evalTable(results, (r) => path.basename(path.dirname(path.dirname(r.file))))!],
  };
  return { input, index: await writeReport(path.join(root, 'report'), input) };
}

describe('report', () => {
  let root: string;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'report-'));
  });
  afterAll(() => fs.rm(root, { recursive: true, force: true }));

  it('fills templates, escaping text and refusing unmatched slots', () => {
    expect(fillTemplate('<h1>{{t}}</h1>{{s}}', { text: { t: 'a<b & "c"' }, html: { s: '<script src="x.js"></script>' } })).toBe(
      '<h1>a&#60;b &#38; &#34;c&#34;</h1><script src="x.js"></script>',
    );
    expect(() => fillTemplate('{{a}}', {})).toThrow('no value for {{a}}');
    expect(() => fillTemplate('x', { text: { a: '1' } })).toThrow('no slot for {{a}}');
  });

  it('names runs by their folders, priming a name an earlier run has', () => {
    expect(runLabels(['runs/a', '/x/b/', 'other/a', 'third/a'])).toEqual(['a', 'b', "a'", "a''"]);
  });

  it('names a saved result by the run folder holding it, else by its file', () => {
    const runOf = resultInRuns([
      { name: 'a', dir: '/r/a' },
      { name: 'ab', dir: '/r/ab' },
    ]);
    const result = (file: string) => ({ file, grader: 'digits', command: '' }) as unknown as Parameters<typeof runOf>[0];
    expect([runOf(result('/r/ab/eval/digits.json')), runOf(result('/r/a/eval/x.json')), runOf(result('/elsewhere/fid.json'))]).toEqual(['ab', 'a', 'fid.json']);
  });

  it('quotes the command line as a shell would need it', () => {
    expect(currentCommandLine(['node', '/x/bin/dlcv-ddpm.js', 'train', '--out', 'runs/a b', "it's"])).toBe(`dlcv-ddpm train --out 'runs/a b' 'it'\\''s'`);
  });

  it('writes a self-contained folder: page, data, vendored scripts, copied images', async () => {
    const { input, index } = await fakeReport(root);
    const dir = path.dirname(index);
    const html = await fs.readFile(index, 'utf8');
    for (const f of ['vendor/vega.min.js', 'vendor/vega-lite.min.js', 'vendor/vega-embed.min.js', 'data.js', 'page.js']) {
      expect(html).toContain(`<script src="${f}"></script>`);
      await expect(fs.stat(path.join(dir, f))).resolves.toBeTruthy();
    }
    expect(html).not.toMatch(/https?:\/\//);
    const data = await fs.readFile(path.join(dir, 'data.js'), 'utf8');
    const parsed = JSON.parse(data.replace(/^window\.DLCV_REPORT = /, '').replace(/;\n$/, '')) as ReportInput;
    expect(parsed.runs[1]!.images[0]!.images.map((i) => i.src)).toEqual(['assets/r1/0-0-epoch-0001.png', 'assets/r1/0-1-epoch-0002.png', 'assets/r1/0-2-epoch-0003.png']);
    expect(parsed.runs[0]!.commands[0]!.command).toMatch(/^\S+/);
    expect(parsed.runs[0]!.commands[0]!.seconds).toBeGreaterThanOrEqual(0);
    // Two runs overlaid: each run's curve and its EMA in one chart.
    const domain = (input.charts[0]!.spec.encoding as { color: { scale: { domain: string[] } } }).color.scale.domain;
    expect(domain).toEqual(['a: loss', 'a: loss EMA 0.9', 'b: loss', 'b: loss EMA 0.9']);
    // Each run's result gives a row per score: the homework's, then the other (no baseline).
    expect(input.tables[0]!.rows.map((r) => [r[0], r[2], r[3], r[6]])).toEqual([
      ['a', 'accuracy', '60.00%', 'below simple'],
      ['a', 'strict accuracy', '50.00%', 'no baseline'],
      ['b', 'accuracy', '85.00%', 'above simple'],
      ['b', 'strict accuracy', '75.00%', 'no baseline'],
    ]);
  });

  (chromiumPath() !== undefined || browserRequired() ? it : it.skip)('opens from file:// in Chromium with no errors and every chart drawn', async () => {
    const { input, index } = await fakeReport(await fs.mkdtemp(path.join(root, 'browser-')));
    const opened = await openReport(index);
    try {
      const state = await opened.page.evaluate(() => window.dlcvPage);
      expect(opened.errors).toEqual([]);
      expect(state?.errors).toEqual([]);
      expect(state?.charts).toBe(input.charts.length);
      expect(state?.chartsRendered).toBe(input.charts.length);
      expect(await opened.page.locator('.chart[data-rendered] canvas').count()).toBe(input.charts.length);
      // Every image loaded; the slider shows the other epochs.
      expect(await opened.page.evaluate(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0))).toBe(true);
      const slider = opened.page.locator('[data-images="per-epoch grids"] input[type=range]').first();
      await slider.fill('0');
      expect(await opened.page.locator('[data-images="per-epoch grids"] figcaption').first().textContent()).toBe('epoch 1');
      expect(await opened.page.locator('td.pass, td.fail').count()).toBeGreaterThan(0);
    } finally {
      await opened.close();
    }
  });
});
