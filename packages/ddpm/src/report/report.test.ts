import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { browserRequired, chromiumPath, openDigits, openReport, readModelConfig, setupEngine, tensorToImages, type OpenedReport } from '@dlcv/core';
import { openSampling } from '../commands/sampling';
import { DDPM_MODEL } from '../model-io';
import { makeDigitsFixture, tempDir, tinyTrainConfig } from '../test-utils/fixtures';
import { train } from '../trainer';
import type { LiveRequest } from './live-config';
import { writeDdpmReport } from './report';

// Two tiny runs (40 images of 12x12, 4 steps: one epoch), on the fastest engine at hand: the
// browser compares ONNX Runtime Web with onnxruntime-node, whatever trained the weights.
const config = (seed: number) => tinyTrainConfig({ epochs: 1, steps: 4, seed, preview: { perClass: 1, sampler: 'ddim', steps: 1, w: 1 } });

// Training, sampling the figures and a browser: minutes on a busy 2-core machine.
jest.setTimeout(600_000);

let root: string;
const runs: string[] = [];

beforeAll(async () => {
  await setupEngine();
  const data = await openDigits(await makeDigitsFixture(), 'train', { size: 12 });
  root = await tempDir('ddpm-report-');
  for (const seed of [0, 1]) {
    const runDir = path.join(root, `run-${seed}`);
    await train({ runDir, config: config(seed), data, quiet: true });
    runs.push(runDir);
  }
});

afterAll(() => fs.rm(root, { recursive: true, force: true }));

/** The images `sample --runtime onnx` makes for a live request (the Node path). */
async function nodeImages(modelDir: string, r: LiveRequest): Promise<Uint8Array[]> {
  const s = await openSampling({
    model: modelDir,
    sampler: r.sampler,
    steps: r.steps,
    w: r.w,
    eta: r.eta,
    seed: r.seed,
    batch: 100,
    runtime: 'onnx',
    arithmetic: 'host',
    'guided-forward': 'full',
    'step-workers': 0,
  });
  try {
    const ids = Array.from({ length: r.count }, (_, i) => r.first - 1 + i);
    const x = await s.pipe.sample({ labels: ids.map(() => r.digit), noiseIds: ids, seed: r.seed, w: r.w });
    return tensorToImages(x, [r.count, 12, 12, 3]).map((i) => i.data);
  } finally {
    await s.close();
  }
}

/** Sets the live panel's controls, presses Sample and returns what the panel published. */
async function liveSample(opened: OpenedReport, r: LiveRequest): Promise<{ pixels: number[][]; samples: number; firstSampleAt: number }> {
  const { page } = opened;
  const before = (await page.evaluate(() => window.dlcvPage?.live.samples as number | undefined)) ?? 0;
  const inputs = page.locator('.live .controls label');
  const set = async (label: string, value: string) => {
    const control = inputs.filter({ hasText: label }).locator('input, select');
    if ((await control.evaluate((e) => e.tagName)) === 'SELECT') await control.selectOption(value);
    else await control.fill(value);
  };
  await set('digit', String(r.digit));
  await set('first image k', String(r.first));
  await set('images', String(r.count));
  await set('sampler', r.sampler);
  await set('steps', String(r.steps));
  await set('guidance w', String(r.w));
  await set('DDIM eta', String(r.eta));
  await set('seed', String(r.seed));
  await page.click('.live button[data-action=sample]');
  await page.waitForFunction((n) => ((window.dlcvPage?.live.samples as number | undefined) ?? 0) > n || window.dlcvPage?.live.error !== undefined, before, { timeout: 120_000 });
  return (await page.evaluate(() => window.dlcvPage?.live)) as { pixels: number[][]; samples: number; firstSampleAt: number };
}

/** Where DLCV_REPORT_SCREENSHOT asks for the README's screenshot (relative to the repository root), if it does. */
const SCREENSHOT = process.env.DLCV_REPORT_SCREENSHOT ? path.resolve(__dirname, '..', '..', '..', '..', process.env.DLCV_REPORT_SCREENSHOT) : undefined;

/** Bytes of every file under `dir`. */
async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await fs.stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] as number))), 0);

describe('ddpm report', () => {
  it('writes one page for a run: curves, grids, the 10x10 grid, the reverse process, commands, the live model', async () => {
    const index = await writeDdpmReport([runs[0]!], path.join(runs[0]!, 'report'));
    const data = await fs.readFile(path.join(path.dirname(index), 'data.js'), 'utf8');
    for (const title of ['Per-epoch grids', '10x10 grid', 'Reverse process', 'noise-prediction MSE']) expect(data).toContain(title);
    expect(data).toContain('dlcv-ddpm grid grid.png --model');
    expect(data).toMatch(/"what":"training","command":"[^"]+"/);
    const models = await fs.readFile(path.join(path.dirname(index), 'models.js'), 'utf8');
    expect(models).toMatch(/^window\.DLCV_MODELS = \{"run-0":"H4sI/);
  });

  (chromiumPath() !== undefined || browserRequired() ? it : it.skip)(
    'in Chromium from file://: no errors, the chart drawn, and live samples equal to the Node ONNX path within 1/255',
    async () => {
      const index = await writeDdpmReport(runs, path.join(root, 'compare'));
      const opened = await openReport(index);
      try {
        const state = await opened.page.evaluate(() => window.dlcvPage);
        expect(state?.chartsRendered).toBe(1);
        expect(await opened.page.locator('.live select').first().locator('option').allTextContents()).toEqual(['run-0', 'run-1']);
        // DDIM with guidance, then DDPM (noise at every step) on another digit, noise and seed.
        const requests: LiveRequest[] = [
          { model: 'run-0', digit: 3, first: 2, count: 3, sampler: 'ddim', steps: 5, w: 2, eta: 0, seed: 7 },
          { model: 'run-0', digit: 8, first: 1, count: 2, sampler: 'ddpm', steps: 4, w: 0.5, eta: 0, seed: 3 },
        ];
        for (const r of requests) {
          const live = await liveSample(opened, r);
          const want = await nodeImages(path.join(runs[0]!, 'model'), r);
          expect(live.pixels).toHaveLength(r.count);
          live.pixels.forEach((px, i) => expect(maxDiff(px, want[i]!)).toBeLessThanOrEqual(1));
        }
        expect(opened.errors).toEqual([]);
        expect((await opened.page.evaluate(() => window.dlcvPage))?.errors).toEqual([]);
      } finally {
        await opened.close();
      }
    },
  );

  // The README's picture: the report of DLCV_REPORT_SCREENSHOT_RUN (a real run, e.g. the demo's
  // runs/ddpm-cpu; else this test's first run) after one live sample, only when asked.
  (SCREENSHOT ? it : it.skip)('takes the README screenshot of a report after a live sample (DLCV_REPORT_SCREENSHOT)', async () => {
    const run = process.env.DLCV_REPORT_SCREENSHOT_RUN ? path.resolve(__dirname, '..', '..', '..', '..', process.env.DLCV_REPORT_SCREENSHOT_RUN) : runs[0]!;
    const index = await writeDdpmReport([run], path.join(root, 'screenshot'));
    const opened = await openReport(index, { width: 1200, height: 1000 });
    try {
      // The model's own sampling defaults, as the panel opens with them.
      const { sampling } = await readModelConfig(path.join(run, 'model'), DDPM_MODEL);
      const live = await liveSample(opened, { model: path.basename(run), digit: 7, first: 1, count: 8, ...sampling, seed: 0 });
      expect(live.pixels).toHaveLength(8);
      const size = await folderBytes(path.dirname(index));
      const ms = (await opened.page.evaluate(() => window.dlcvPage?.live.ms)) as number;
      // The README's figures for this page: its size on disk, and when the first live sample
      // was drawn (ms since navigation: page load, the click, loading the model, sampling).
      console.log(
        `report of ${run}: ${(size / 2 ** 20).toFixed(1)} MiB; page ready ${opened.loadMs} ms, first live sample (8 images, ${sampling.sampler} ${sampling.steps} steps, eta ${sampling.eta}) at ${Math.round(live.firstSampleAt)} ms after navigation, sampling itself ${Math.round(ms)} ms`,
      );
      await opened.page.screenshot({ path: SCREENSHOT as string });
      expect(opened.errors).toEqual([]);
    } finally {
      await opened.close();
    }
  });
});
