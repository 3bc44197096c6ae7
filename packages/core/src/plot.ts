/**
 * Training curves (losses, accuracies) as SVG or PNG: a Vega-Lite spec compiled to Vega and
 * rendered headless to SVG (no browser, no network, no canvas), then rasterised by sharp.
 *
 * vega 5 / vega-lite 5 are pinned because their `main` is CommonJS (vega 6 is ESM only, which
 * neither jest's swc->commonjs transform nor our CommonJS dist can require on Node 20).
 * With no node-canvas package installed (we depend on none) vega estimates text widths from
 * character counts, so the SVG layout, and so its bytes, do not depend on the machine's fonts;
 * the PNG's glyphs do (librsvg draws them with whatever fontconfig finds).
 */
import * as path from 'node:path';
import sharp from 'sharp';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from './files';

export interface PlotSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

export interface PlotSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Drawn in this order; colours follow it. Names must be distinct. */
  series: PlotSeries[];
  /** Log-scale y axis (points with y <= 0 cannot be drawn there and are left out). */
  logY?: boolean;
  /** Size of the whole figure (axes, legend and title included), in CSS pixels. Default 640x400. */
  width?: number;
  height?: number;
}

export interface PlotPngOptions {
  /** Pixels per CSS pixel of the figure. Default 2 (sharp lines on high-DPI screens and in reports). */
  scale?: number;
}

/**
 * Renders the curves to an SVG document. Points whose x or y is not finite (a diverged loss)
 * are left out rather than breaking the axis; they leave a straight segment across the gap.
 */
export async function plotCurves(spec: PlotSpec): Promise<string> {
  // Loaded on first plot, not on import: vega costs ~100 ms and most commands never plot.
  const vega = require('vega') as typeof import('vega');
  const { compile } = require('vega-lite') as typeof import('vega-lite');
  const view = new vega.View(vega.parse(compile(toVegaLite(spec)).spec), { renderer: 'none', logLevel: vega.Error });
  try {
    return renumberClipIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * vega numbers clip paths from a process-wide counter, so the second identical plot would get
 * other ids. Renumber them in order of definition; done on the string, not by resetting vega's
 * counter, so concurrent renders cannot disturb each other.
 */
function renumberClipIds(svg: string): string {
  const ids = new Map<string, string>();
  for (const m of svg.matchAll(/<clipPath id="(clip\d+)"/g)) ids.set(m[1] as string, `clip${ids.size + 1}`);
  return svg.replace(/(<clipPath id="|url\(#)(clip\d+)(?=[")])/g, (all, pre: string, id: string) => {
    const to = ids.get(id);
    return to === undefined ? all : pre + to;
  });
}

/** Renders the curves to PNG bytes (opaque, white background). */
export async function plotCurvesPng(spec: PlotSpec, options: PlotPngOptions = {}): Promise<Buffer> {
  const { scale = 2 } = options;
  if (!(scale > 0) || scale > 16) throw new Error(`plot: scale must be in (0, 16], got ${scale}`);
  const svg = await plotCurves(spec);
  // librsvg renders at `density` dpi; the SVG is sized in CSS pixels, i.e. at 72 dpi here.
  return sharp(Buffer.from(svg), { density: 72 * scale })
    .flatten({ background: '#ffffff' })
    .png({ compressionLevel: 6, adaptiveFiltering: false, palette: false })
    .toBuffer();
}

/** Writes the plot to `file`, as SVG or PNG by its extension, atomically. */
export async function writePlot(file: string, spec: PlotSpec, options: PlotPngOptions = {}): Promise<void> {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.svg') await writeFileAtomic(file, await plotCurves(spec));
  else if (ext === '.png') await writeFileAtomic(file, await plotCurvesPng(spec, options));
  else throw new Error(`writePlot: ${file}: extension must be .svg or .png`);
}

/** The Vega-Lite spec of the curves, with its data inlined (the report page draws the same spec interactively). */
export function toVegaLite(spec: PlotSpec): TopLevelSpec {
  const { title, xLabel, yLabel, series, logY = false, width = 640, height = 400 } = spec;
  if (series.length === 0) throw new Error(`plot "${title}": no series`);
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v < 100 || v > 10000) throw new Error(`plot "${title}": ${name} must be an integer in 100..10000, got ${v}`);
  }
  const seen = new Set<string>();
  const rows: { s: string; x: number; y: number; i: number }[] = [];
  for (const s of series) {
    if (seen.has(s.name)) throw new Error(`plot "${title}": two series are named "${s.name}"`);
    seen.add(s.name);
    if (s.x.length !== s.y.length) throw new Error(`plot "${title}": series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i] as number,
        y = s.y[i] as number;
      if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) continue;
      rows.push({ s: s.name, x, y, i });
    }
  }
  return {
    title,
    width,
    height,
    // 'fit' with 'padding' makes the whole figure exactly width x height, so PNG sizes are known.
    autosize: { type: 'fit', contains: 'padding' },
    background: 'white',
    data: { values: rows },
    mark: { type: 'line', strokeWidth: 1.5, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: xLabel, scale: { zero: false } },
      y: { field: 'y', type: 'quantitative', title: yLabel, scale: logY ? { type: 'log' } : { zero: false } },
      // Explicit domain: colours and legend follow the caller's order, and a series whose points
      // were all left out still appears in the legend.
      color: { field: 's', type: 'nominal', title: null, scale: { domain: series.map((s) => s.name) } },
      // Draw points in the order given, not sorted by x (vega-lite's default for lines).
      order: { field: 'i', type: 'quantitative' },
    },
  };
}
