import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { browserRequired, chromiumPath, loadExported, openReport, pixelsToFloat, Rng, setupEngine, writePng } from '@dlcv/core';
import { loadDannModel } from '../model-io';
import { fixtureImage, makeDigitsRoot, tinyConfig } from '../test-utils/fixtures';
import { trainAll } from '../train-all';
import { softmax, toGrey } from './live-config';
import { writeDannReport } from './report';

// Training and a browser: minutes on a busy 2-core machine.
jest.setTimeout(600_000);

let root: string;
let runs: string;

beforeAll(async () => {
  await setupEngine({ engine: 'cpu' });
  root = await makeDigitsRoot();
  runs = path.join(root, 'runs');
  await trainAll({ config: tinyConfig({ epochs: 1 }), out: runs, data: { root }, command: 'test', log: () => undefined, quiet: true });
});

afterAll(() => fs.rm(root, { recursive: true, force: true }));

describe('dann report', () => {
  it("reads colour as sharp's grey does (linear-light Rec. 709), grey as it is", () => {
    expect([toGrey(255, 0, 0), toGrey(0, 255, 0), toGrey(0, 0, 255), toGrey(128, 64, 200), toGrey(77, 77, 77)]).toEqual([127, 220, 76, 99, 77]);
    const p = softmax([0, Math.log(3)]);
    expect(p[0]).toBeCloseTo(0.25, 12);
    expect(p[1]).toBeCloseTo(0.75, 12);
  });

  it('makes one page of the five train-all runs: the homework table against the baselines, the matrix, every network live', async () => {
    const index = await writeDannReport([runs], path.join(runs, 'report'));
    const data = await fs.readFile(path.join(path.dirname(index), 'data.js'), 'utf8');
    const report = JSON.parse(data.replace(/^window\.DLCV_REPORT = /, '').replace(/;\n$/, '')) as {
      runs: { name: string }[];
      tables: { title: string; rows: unknown[][] }[];
      live: { models: string[] };
    };
    expect(report.runs.map((r) => r.name)).toEqual(['mnistm-only', 'svhn-only', 'usps-only', 'mnistm-to-svhn-dann', 'mnistm-to-usps-dann']);
    expect(report.tables.map((t) => t.title)).toEqual(['Accuracy on the target val.csv', 'Source x target (rows: trained on; columns: val.csv scored)']);
    expect(report.tables[0]!.rows[3]).toEqual(['Homework baseline (DANN)', null, '40.00%', '76.00%']);
    expect(report.live.models).toEqual(['mnistm-only', 'mnistm-to-svhn-dann', 'mnistm-to-usps-dann']);
  });

  (chromiumPath() !== undefined || browserRequired() ? it : it.skip)(
    "in Chromium from file://: no errors, the charts drawn, and a chosen image's predictions equal to the networks' ONNX outputs in Node",
    async () => {
      const index = await writeDannReport([runs], path.join(root, 'report-browser'));
      const opened = await openReport(index);
      try {
        const state = await opened.page.evaluate(() => window.dlcvPage);
        expect(state?.charts).toBe(2);
        expect(state?.chartsRendered).toBe(2);
        const image = fixtureImage('usps', 7, 8, new Rng(5));
        const file = path.join(root, 'digit.png');
        await writePng(file, image);
        await opened.page.setInputFiles('.live input[type=file]', file);
        await opened.page.waitForFunction(() => (window.dlcvPage?.live.samples as number | undefined) === 1 || window.dlcvPage?.live.error !== undefined, null, {
          timeout: 60_000,
        });
        const live = (await opened.page.evaluate(() => window.dlcvPage?.live)) as { input: number[]; predictions: Record<string, { label: number; probs: number[] }> };
        expect(live.input).toEqual(Array.from(image.data));
        for (const name of ['mnistm-only', 'mnistm-to-usps-dann']) {
          const { net } = await loadDannModel(path.join(runs, name));
          const model = net.inferenceModel('label');
          const ort = await loadExported(model);
          const out = Object.values(await ort.run([{ data: pixelsToFloat(image.data, 1, { range: [-1, 1] }), dims: [1, 8, 8, 1] }]))[0]!;
          const want = softmax(out.data);
          await ort.dispose();
          model.dispose();
          net.dispose();
          expect(live.predictions[name]!.label).toBe(want.indexOf(Math.max(...want)));
          live.predictions[name]!.probs.forEach((p, i) => expect(p).toBeCloseTo(want[i] as number, 5));
        }
        expect(opened.errors).toEqual([]);
        expect((await opened.page.evaluate(() => window.dlcvPage))?.errors).toEqual([]);
      } finally {
        await opened.close();
      }
    },
  );
});
