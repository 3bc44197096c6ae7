import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { browserRequired, chromiumPath, openImageFolder, openReport, setupEngine } from '@dlcv/core';
import { makeTrainConfig } from '../config';
import { loadGeneratorFolder } from '../model-io';
import { generateImages } from '../sampling';
import { SMALL_CALIBRATION, tempDir, TINY, writeImageFolder } from '../test-utils/fixtures';
import { train } from '../trainer';
import { slerp } from './live-config';
import { writeGanReport } from './report';

// Training and a browser: minutes on a busy 2-core machine.
jest.setTimeout(600_000);

let root: string;
let runDir: string;

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  root = await tempDir('report');
  await writeImageFolder(path.join(root, 'faces'), 4);
  const faces = await openImageFolder(path.join(root, 'faces'));
  runDir = path.join(root, 'run');
  const config = makeTrainConfig({ gan: TINY, datasetSize: 4, batchSize: 2, epochs: 2, data: 'fixture', calibration: SMALL_CALIBRATION });
  await train({ runDir, config, source: faces, quiet: true, log: () => undefined, warn: () => undefined });
});

afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('gan report', () => {
  it('slerp keeps the ends and the norm between two vectors of one norm', () => {
    const a = Float32Array.from([1, 0, 0]),
      b = Float32Array.from([0, 1, 0]);
    expect(Array.from(slerp(a, b, 0))).toEqual([1, 0, 0]);
    expect(Array.from(slerp(a, b, 1)).map((v) => Math.round(v * 1e6) / 1e6)).toEqual([0, 1, 0]);
    const mid = slerp(a, b, 0.5);
    expect(Math.hypot(...mid)).toBeCloseTo(1, 6);
  });

  (chromiumPath() !== undefined || browserRequired() ? it : it.skip)(
    'in Chromium from file://: no errors, every chart drawn, and faces from a seed equal to `generate --runtime onnx` within 1/255',
    async () => {
      const index = await writeGanReport([runDir], path.join(runDir, 'report'));
      const opened = await openReport(index);
      try {
        const state = await opened.page.evaluate(() => window.dlcvPage);
        expect(state?.charts).toBeGreaterThanOrEqual(2);
        expect(state?.chartsRendered).toBe(state?.charts);
        const images = opened.page.locator('.live .controls label');
        await images.filter({ hasText: 'seed' }).first().locator('input').fill('5');
        await images.filter({ hasText: 'images' }).locator('input').fill('6');
        await opened.page.click('.live button[data-action=sample]');
        await opened.page.waitForFunction(() => (window.dlcvPage?.live.samples as number | undefined) === 1, null, { timeout: 60_000 });
        const pixels = (await opened.page.evaluate(() => window.dlcvPage?.live.pixels)) as number[][];
        const loaded = await loadGeneratorFolder(path.join(runDir, 'model'));
        const want = await generateImages(loaded.g, { count: 6, seed: 5, nz: TINY.nz, preciseStats: loaded.preciseStats, runtime: 'onnx' });
        expect(pixels).toHaveLength(6);
        pixels.forEach((px, i) => expect(Array.from(px).reduce((m, v, k) => Math.max(m, Math.abs(v - (want[i]!.data[k] as number))), 0)).toBeLessThanOrEqual(1));
        await opened.page.click('.live button[data-action=walk]');
        await opened.page.waitForFunction(() => window.dlcvPage?.live.walk === 8, null, { timeout: 60_000 });
        expect(opened.errors).toEqual([]);
        expect((await opened.page.evaluate(() => window.dlcvPage))?.errors).toEqual([]);
      } finally {
        await opened.close();
      }
    },
  );
});
