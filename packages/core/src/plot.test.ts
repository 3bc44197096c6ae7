import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { plotCurves, plotCurvesPng, writePlot, type PlotSpec } from './plot';

const steps = Array.from({ length: 50 }, (_, i) => i);
const spec: PlotSpec = {
  title: 'DCGAN losses',
  xLabel: 'iteration',
  yLabel: 'loss',
  series: [
    { name: 'loss_D', x: steps, y: steps.map((i) => 1.4 * Math.exp(-i / 20) + 0.1) },
    { name: 'loss_G <gen> & "co"', x: steps, y: steps.map((i) => 0.7 + 0.3 * Math.sin(i / 5)) },
    { name: 'val_acc', x: [0, 10, 20, 30, 40], y: [0.1, 0.5, 0.7, 0.8, 0.85] },
  ],
};

/** The `d` of each line path: vega-lite puts each series' line in its own mark-line group. */
function linePaths(svg: string): string[] {
  return [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*><path ([^>]*)\/?>/g)].map((m) => m[1] as string);
}

describe('plotCurves', () => {
  it('draws one line per series, names them in the legend and labels the axes', async () => {
    const svg = await plotCurves(spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toMatch(/width="640" height="400"/);
    expect(linePaths(svg)).toHaveLength(3);
    for (const t of ['loss_D', 'loss_G &lt;gen&gt; &amp; &quot;co&quot;', 'val_acc', 'DCGAN losses', 'iteration', '>loss<']) expect(svg).toContain(t);
    // Distinct colours per series.
    const strokes = linePaths(svg).map((p) => /stroke="([^"]+)"/.exec(p)?.[1]);
    expect(new Set(strokes).size).toBe(3);
  });

  it('is deterministic', async () => {
    expect(await plotCurves(spec)).toBe(await plotCurves(spec));
  });

  it('supports a log y axis, dropping points it cannot show, and a custom size', async () => {
    const svg = await plotCurves({
      ...spec,
      logY: true,
      width: 300,
      height: 200,
      series: [{ name: 'mse', x: [0, 1, 2, 3], y: [1, 0.1, 0, NaN] }],
    });
    expect(svg).toMatch(/width="300" height="200"/);
    const paths = linePaths(svg);
    expect(paths).toHaveLength(1);
    // Two drawable points: a single move and a single line-to.
    expect((/ d="([^"]+)"/.exec(paths[0] as string)?.[1] ?? '').match(/[ML]/g)).toEqual(['M', 'L']);
  });

  it('rejects bad input with the plot and series named', async () => {
    await expect(plotCurves({ ...spec, series: [] })).rejects.toThrow(/"DCGAN losses": no series/);
    await expect(plotCurves({ ...spec, series: [{ name: 'a', x: [1, 2], y: [1] }] })).rejects.toThrow(/series "a" has 2 x values but 1 y values/);
    await expect(
      plotCurves({
        ...spec,
        series: [
          { name: 'a', x: [1], y: [1] },
          { name: 'a', x: [1], y: [1] },
        ],
      }),
    ).rejects.toThrow(/two series are named "a"/);
  });
});

describe('plot PNG', () => {
  it('has the figure size times the scale, and is not blank', async () => {
    const png = await plotCurvesPng(spec, { scale: 1.5 });
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([960, 600, 3]);
    let nonWhite = 0,
      coloured = 0;
    for (let i = 0; i < data.length; i += 3) {
      const r = data[i] as number,
        g = data[i + 1] as number,
        b = data[i + 2] as number;
      if (r < 250 || g < 250 || b < 250) nonWhite++;
      if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
    }
    expect(nonWhite / (info.width * info.height)).toBeGreaterThan(0.01);
    expect(coloured).toBeGreaterThan(500); // the curves themselves, not just grey axes and text
    expect((await plotCurvesPng(spec, { scale: 1.5 })).equals(png)).toBe(true);
  });

  it('writePlot picks the format from the extension', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plot-'));
    try {
      await writePlot(path.join(dir, 'curves.svg'), spec);
      await writePlot(path.join(dir, 'png', 'curves.png'), spec);
      expect(await fs.readFile(path.join(dir, 'curves.svg'), 'utf8')).toBe(await plotCurves(spec));
      const meta = await sharp(path.join(dir, 'png', 'curves.png')).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', 1280, 800]);
      await expect(writePlot(path.join(dir, 'curves.jpg'), spec)).rejects.toThrow(/curves\.jpg: extension must be \.svg or \.png/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
