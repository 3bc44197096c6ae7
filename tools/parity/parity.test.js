/* global describe, it, expect, afterAll */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { summarize, verdict, parityTable, percent } = require('./stats');
const { readResult, writeResult, resultFile, runParity } = require('./runner');
const gan = require('./gan');
const { detectorSummary, pixelDistance, writeSeedRows } = gan;
const dann = require('./dann');
const { firstDeparture } = require('./gan-trajectory');
const { compareFolders } = require('./gan-cross-sample');
const { drawList } = require('./gan-redraw');

describe('summarize', () => {
  it('gives the mean, the sample standard deviation (n - 1) and the range', () => {
    // values 2, 4, 9: mean 5, squared deviations 9 + 1 + 16 = 26, / 2 = 13
    const s = summarize([2, 4, 9]);
    expect(s).toMatchObject({ n: 3, mean: 5, min: 2, max: 9 });
    expect(s.sd).toBeCloseTo(Math.sqrt(13), 12);
    expect(summarize([7]).sd).toBe(0);
  });

  it('refuses an empty list and non-finite values', () => {
    expect(() => summarize([])).toThrow(/no values/);
    expect(() => summarize([1, NaN])).toThrow(/NaN is not a finite number/);
  });
});

describe('verdict', () => {
  it('is within when the project mean lies inside PyTorch mean +- 2 sd', () => {
    // PyTorch 0.70, 0.72, 0.74: mean 0.72, sd 0.02, band 0.68 - 0.76
    const v = verdict([0.75, 0.76, 0.755], [0.7, 0.72, 0.74]);
    expect(v.low).toBeCloseTo(0.68, 12);
    expect(v.high).toBeCloseTo(0.76, 12);
    expect(v.within).toBe(true);
    expect(verdict([0.77, 0.77], [0.7, 0.72, 0.74]).within).toBe(false);
    expect(verdict([0.6], [0.7, 0.72, 0.74]).within).toBe(false);
  });

  it('needs two PyTorch seeds for a spread', () => {
    expect(() => verdict([0.5, 0.6], [0.5])).toThrow(/PyTorch has 1 seed/);
  });
});

describe('parityTable', () => {
  const metrics = [
    { key: 'a', label: 'metric a', format: percent },
    { key: 'b', label: 'metric b', format: percent },
  ];
  it('writes a row per metric both sides have and names the others', () => {
    const results = {
      ours: [
        { seed: 0, metrics: { a: 0.5, b: 0.1 } },
        { seed: 1, metrics: { a: 0.52, b: 0.2 } },
      ],
      torch: [
        { seed: 0, metrics: { a: 0.51 } },
        { seed: 1, metrics: { a: 0.49 } },
      ],
    };
    const t = parityTable(metrics, results);
    expect(t.missing).toEqual(['b']);
    expect(Object.keys(t.verdicts)).toEqual(['a']);
    expect(t.markdown).toContain('| metric a | 51.00% +- 1.41% (50.00%, 52.00%) | 50.00% +- 1.41% (51.00%, 49.00%) | 47.17% - 52.83% | within |');
  });
});

describe('result files', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reuses a result of the same recipe only', async () => {
    const file = resultFile(dir, 'dann', 'torch', 2);
    expect(path.relative(dir, file)).toBe(path.join('dann', 'torch-seed2.json'));
    expect(readResult(file, { epochs: 10 })).toBeUndefined();
    await writeResult(file, { seed: 2, recipe: { epochs: 10 }, metrics: { x: 1 } });
    expect(readResult(file, { epochs: 10 })).toMatchObject({ seed: 2, metrics: { x: 1 } });
    expect(readResult(file, { epochs: 5 })).toBeUndefined();
  });

  it('names a damaged result file', () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{"seed": ');
    expect(() => readResult(file, {})).toThrow(/bad\.json: not a parity result/);
  });
});

describe("the gan run's detector summary", () => {
  it('counts D-collapse steps, mode-collapse episodes and the last epoch diversity from metrics.jsonl', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-gan-'));
    const lines = [
      ...Array.from({ length: 20 }, (_, i) => ({ step: i + 1, lossD: 1, lossG: 1 })),
      { step: 5, event: 'discriminator-collapse', started: true },
      { step: 9, event: 'discriminator-collapse', started: false },
      { step: 10, fakeDistance: 1, realDistance: 2, diversity: 0.5 },
      { step: 10, event: 'mode-collapse', started: true },
      { step: 12, event: 'mode-collapse', started: false },
      { step: 15, event: 'mode-collapse', started: true },
      { step: 15, fakeDistance: 1, realDistance: 4, diversity: 0.25 },
      { step: 20, fakeDistance: 3, realDistance: 4, diversity: 0.75 },
    ];
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    // 10 steps an epoch, 20 in all: D collapse active over steps 5-8 (4 of 20)
    expect(detectorSummary(file, 10, 20)).toEqual({ dCollapseShare: 0.2, modeCollapseStarts: 2, lastEpochDiversity: 0.5 });
    // 24 steps of 3 an epoch: no check in the last epoch (steps 22-24), so the last one (step 20)
    expect(detectorSummary(file, 3, 24).lastEpochDiversity).toBe(0.75);
    const unchecked = path.join(dir, 'unchecked.jsonl');
    fs.writeFileSync(
      unchecked,
      lines
        .filter((l) => l.diversity === undefined)
        .map((l) => JSON.stringify(l))
        .join('\n') + '\n',
    );
    expect(detectorSummary(unchecked, 10, 20).lastEpochDiversity).toBeNull();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("the gan check's recipe", () => {
  it("has the mirror train on D's logits unless told the tutorial's sigmoid loss, and says which", () => {
    expect(gan.recipe({})).toMatchObject({ preset: 'report', width: 32, mirrorLoss: 'logits' });
    expect(gan.recipe({ mirrorLoss: 'sigmoid', width: 64 })).toMatchObject({ width: 64, mirrorLoss: 'sigmoid' });
  });

  it('refuses an unknown mirror loss or preset, naming the flag', () => {
    expect(() => gan.recipe({ mirrorLoss: 'hinge' })).toThrow(/--mirror-loss: expected logits or sigmoid, got "hinge"/);
    expect(() => gan.recipe({ preset: 'fast' })).toThrow(/--preset: the gan package has no preset "fast"/);
  });
});

describe("the gan check's pixel distance", () => {
  it('is the mean pairwise L2 distance of the images with their bytes scaled to [-1, 1]', () => {
    const pixel = (r, g, b) => ({ width: 1, height: 1, channels: 3, data: Uint8Array.of(r, g, b) });
    // (-1, -1, -1), (1, 1, 1), (1, -1, -1): distances sqrt(12), 2, sqrt(8)
    const d = pixelDistance([pixel(0, 0, 0), pixel(255, 255, 255), pixel(255, 0, 0)]);
    expect(d).toBeCloseTo((Math.sqrt(12) + 2 + Math.sqrt(8)) / 3, 6);
  });

  it('refuses images of different sizes', () => {
    const a = { width: 1, height: 1, channels: 3, data: new Uint8Array(3) };
    const b = { width: 2, height: 1, channels: 3, data: new Uint8Array(6) };
    expect(() => pixelDistance([a, b])).toThrow(/image 1 has 6 values, image 0 3/);
  });
});

describe('a stored result that lacks a metric the problem has since gained', () => {
  it("gets it from the seed's kept outputs, keeps its stored values, and stays without it when they are gone", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-remeasure-'));
    const recipe = { epochs: 1 };
    const problem = {
      name: 'toy',
      metrics: [
        { key: 'a', label: 'a', format: String },
        { key: 'b', label: 'b', format: String },
      ],
      recipe: () => recipe,
      prepared: 0,
      prepare() {
        this.prepared++;
      },
      runSeed() {
        throw new Error('no seed should run: every one is stored');
      },
      // seed 1's outputs are gone; torch seed 2's give only a
      remeasure: (ctx, r) => (r.seed === 1 ? undefined : r.side === 'torch' && r.seed === 2 ? { a: 100 } : { a: 100, b: 10 + r.seed }),
    };
    for (const side of ['ours', 'torch'])
      for (const seed of [0, 1, 2]) await writeResult(resultFile(out, 'toy', side, seed), { problem: 'toy', side, seed, recipe, metrics: { a: seed } });
    const logged = [];
    const log = console.log;
    console.log = (l) => logged.push(l);
    try {
      await runParity(problem, { out, sides: [], seeds: { ours: [0, 1, 2], torch: [0, 1, 2] } });
    } finally {
      console.log = log;
    }
    expect(problem.prepared).toBe(1);
    const stored = (side, seed) => readResult(resultFile(out, 'toy', side, seed), recipe).metrics;
    expect(stored('ours', 2)).toEqual({ a: 2, b: 12 });
    expect(stored('torch', 0)).toEqual({ a: 0, b: 10 });
    expect(stored('ours', 1)).toEqual({ a: 1 });
    expect(logged).toContain('parity toy: torch seed 1 lacks b and its outputs are gone');
    expect(stored('torch', 2)).toEqual({ a: 2 });
    expect(logged).toContain('parity toy: torch seed 2 lacks b, which its kept outputs do not give');
    // b lacks a value on one seed of each side, so only a is compared
    expect(JSON.parse(fs.readFileSync(path.join(out, 'toy', 'parity.json'), 'utf8')).missing).toEqual(['b']);
    fs.rmSync(out, { recursive: true, force: true });
  });
});

describe("the gan check's seeds.png", () => {
  it("lays each seed's first 8 images (by name) on a row, the project's seeds first, and leaves out a seed whose images are gone", async () => {
    const core = require('@dlcv/core');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-seeds-'));
    // seed folders of 9 solid 4x4 images; image i of a folder has red = 10 * i + the folder's offset
    const folder = async (name, offset) => {
      const f = path.join(dir, name);
      fs.mkdirSync(f);
      for (let i = 8; i >= 0; i--) {
        const data = new Uint8Array(4 * 4 * 3);
        for (let p = 0; p < 16; p++) data.set([10 * i + offset, 7, 9], 3 * p);
        await core.writePng(path.join(f, `${String(i).padStart(3, '0')}.png`), { width: 4, height: 4, channels: 3, data });
      }
      return f;
    };
    const results = {
      torch: [{ seed: 0, detail: { images: await folder('t0', 1) } }],
      ours: [
        { seed: 0, detail: { images: await folder('o0', 2) } },
        { seed: 1, detail: { images: path.join(dir, 'gone') } },
      ],
    };
    const logged = [];
    const log = console.log;
    console.log = (l) => logged.push(l);
    let made;
    try {
      made = await writeSeedRows({ out: dir }, results);
    } finally {
      console.log = log;
    }
    expect(made.rows).toEqual(['ours 0', 'torch 0']);
    expect(logged[0]).toMatch(/leaves out ours seed 1 \(its images folder .*gone is gone\)/);
    const png = await core.readImage(made.file, { channels: 3 });
    // 8 tiles of 4 px and 9 paddings of 2 px across; 2 rows down
    expect([png.width, png.height]).toEqual([8 * 4 + 9 * 2, 2 * 4 + 3 * 2]);
    const red = (x, y) => png.data[3 * (y * png.width + x)];
    // tile (row r, col c) starts at 2 + 6c, 2 + 6r; images 0-7 of each folder, not 8
    expect([0, 3, 7].map((c) => red(2 + 6 * c, 2))).toEqual([2, 32, 72]);
    expect([0, 7].map((c) => red(3 + 6 * c, 9))).toEqual([1, 71]);
    expect(red(0, 0)).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("the gan cross-sample's folder comparison", () => {
  it('gives the largest byte difference between same-named images and the share of bytes that differ, and refuses a size mismatch', async () => {
    const core = require('@dlcv/core');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-cross-'));
    const write = async (folder, name, bytes, width = 2) => {
      fs.mkdirSync(path.join(dir, folder), { recursive: true });
      await core.writePng(path.join(dir, folder, name), { width, height: 1, channels: 3, data: Uint8Array.from(bytes) });
    };
    await write('a', '0.png', [10, 20, 30, 40, 50, 60]);
    await write('a', '1.png', [0, 0, 0, 255, 255, 255]);
    await write('b', '0.png', [10, 21, 30, 40, 50, 60]);
    await write('b', '1.png', [3, 0, 0, 255, 255, 255]);
    // 2 of 12 bytes differ, by 1 and 3
    expect(await compareFolders(path.join(dir, 'a'), path.join(dir, 'b'))).toEqual({ images: 2, maxDiff: 3, differingShare: 2 / 12 });
    await write('c', '0.png', [10, 20, 30], 1);
    await write('c', '1.png', [0, 0, 0, 255, 255, 255]);
    await expect(compareFolders(path.join(dir, 'a'), path.join(dir, 'c'))).rejects.toThrow(/c\/0\.png: 1x1, .*a\/0\.png is 2x1/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("a gan parity seed's run folder, opened to sample again", () => {
  it('gives its model and images folders and training seed, and names the first thing missing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parity-seed-run-'));
    const ctx = { out: path.join(dir, 'out') };
    const runDir = path.join(dir, 'ours-seed3-run');
    expect(() => gan.openSeedRun(ctx, runDir)).toThrow(`${path.join(runDir, 'model')}: the trained generator is not there`);
    for (const sub of ['model', 'images']) fs.mkdirSync(path.join(runDir, sub), { recursive: true });
    expect(() => gan.openSeedRun(ctx, runDir)).toThrow(`${path.join(runDir, 'config.json')}: the run config is not there`);
    fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ seed: 3 }));
    expect(() => gan.openSeedRun(ctx, runDir)).toThrow(`${path.join(ctx.out, 'data', 'gan', 'val')}: the exported val digits is not there`);
    fs.mkdirSync(path.join(ctx.out, 'data', 'gan', 'val'), { recursive: true });
    expect(gan.openSeedRun(ctx, runDir)).toEqual({ model: path.join(runDir, 'model'), images: path.join(runDir, 'images'), seed: 3 });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("the gan redraw's draws", () => {
  it("are distinct non-negative integers other than the run's own seed, each refusal naming --draws", () => {
    expect(drawList('5, 6,7', 0)).toEqual([5, 6, 7]);
    expect(() => drawList(undefined, 0)).toThrow(/^--draws: the draws to sample/);
    expect(() => drawList('5,x', 0)).toThrow('--draws: expected non-negative integers separated by commas, got "5,x"');
    expect(() => drawList('5,-1', 0)).toThrow(/^--draws: expected non-negative integers/);
    expect(() => drawList('5,6,5', 0)).toThrow('--draws: a seed is listed twice in "5,6,5"');
    expect(() => drawList('1,2,3', 2)).toThrow("--draws: 2 is the run's own seed, whose noise its stored images already use");
  });
});

describe("the gan trajectory's departure step", () => {
  it('is the first 1-based step where either loss is off the reference by more than the relative tolerance', () => {
    const reference = [
      { lossD: 1, lossG: 2 },
      { lossD: 1, lossG: 2 },
      { lossD: 1, lossG: 2 },
    ];
    const side = [
      { lossD: 1.0005, lossG: 2 },
      { lossD: 1, lossG: 2.03 },
      { lossD: 1.5, lossG: 2 },
    ];
    // step 1: D off by 5e-4; step 2: G off by 1.5e-2; step 3: D off by 0.5
    expect([1e-4, 1e-3, 1e-2, 1e-1, 1].map((t) => firstDeparture(side, reference, t))).toEqual([1, 2, 2, 3, null]);
  });
});

describe("dann's single cells", () => {
  it('makes one cell of the table a problem of its own, with its own folder and recipe', () => {
    const cell = dann.cell('dann.usps');
    expect(cell.name).toBe('dann-dann.usps');
    expect(cell.metrics.map((m) => m.key)).toEqual(['dann.usps']);
    expect(cell.recipe({ epochs: 4 })).toEqual({ ...dann.recipe({ epochs: 4 }), cell: 'dann.usps' });
    expect(dann.cell('upperBound.svhn').metrics.map((m) => m.label)).toEqual(['MNIST-M -> SVHN, target only']);
  });

  it('refuses a cell that no single train run fills', () => {
    // AdaBN is not a train run, and MNIST-M is no scenario
    expect(() => dann.cell('sourceBn.usps')).toThrow(/--cell: expected one of lowerBound\.svhn, .*upperBound\.usps, got "sourceBn\.usps"/);
    expect(() => dann.cell('dann.mnistm')).toThrow(/got "dann\.mnistm"/);
    expect(() => dann.cell('dann')).toThrow(/got "dann"/);
  });
});
