/**
 * Scatter plots (t-SNE figures) drawn as plain SVG and rasterised by sharp. Hand-written rather
 * than vega-lite: a thousand coloured dots, a frame and a legend need no layout engine, and the
 * SVG is a pure function of the points (fixed number formatting), so the PNG bytes are too.
 */
import * as path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '@dlcv/core';

export interface ScatterSpec {
  title: string;
  /** n x 2 row-major coordinates. */
  points: ArrayLike<number>;
  /** Category index of each point, into `categories`. */
  category: ArrayLike<number>;
  categories: string[];
  /** Square figure side in CSS pixels (default 640). */
  size?: number;
}

// Tableau 10 (vega's and matplotlib's default categorical palette).
export const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (v: number) => v.toFixed(2);

export function scatterSvg(spec: ScatterSpec): string {
  const { title, points, category, categories, size = 640 } = spec;
  const n = category.length;
  if (points.length !== 2 * n) throw new Error(`scatter "${title}": ${n} categories but ${points.length / 2} points`);
  if (categories.length === 0 || categories.length > PALETTE.length) throw new Error(`scatter "${title}": 1 to ${PALETTE.length} categories, got ${categories.length}`);
  let x0 = Infinity,
    x1 = -Infinity,
    y0 = Infinity,
    y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i] as number,
      y = points[2 * i + 1] as number;
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`scatter "${title}": point ${i} is not finite`);
    const c = category[i] as number;
    if (!Number.isInteger(c) || c < 0 || c >= categories.length) throw new Error(`scatter "${title}": point ${i} has category ${c}, outside 0-${categories.length - 1}`);
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  const legendW = 130,
    top = 40,
    pad = 16;
  const side = size - legendW - 2 * pad;
  const plotH = size - top - pad;
  const span = Math.max(x1 - x0, y1 - y0) || 1;
  const sx = (x: number) => pad + ((x - (x0 + x1) / 2) / span) * (Math.min(side, plotH) - 10) + side / 2;
  const sy = (y: number) => top + plotH / 2 - ((y - (y0 + y1) / 2) / span) * (Math.min(side, plotH) - 10);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}">`,
    `<rect width="${size}" height="${size}" fill="#ffffff"/>`,
    `<text x="${size / 2}" y="24" font-family="sans-serif" font-size="16" text-anchor="middle">${esc(title)}</text>`,
    `<rect x="${pad}" y="${top}" width="${side}" height="${plotH}" fill="none" stroke="#888888"/>`,
  ];
  for (let i = 0; i < n; i++) {
    parts.push(
      `<circle cx="${fmt(sx(points[2 * i] as number))}" cy="${fmt(sy(points[2 * i + 1] as number))}" r="2.5" fill="${PALETTE[category[i] as number]}" fill-opacity="0.75"/>`,
    );
  }
  categories.forEach((name, k) => {
    const y = top + 14 + k * 20;
    parts.push(`<circle cx="${size - legendW + 8}" cy="${y - 4}" r="5" fill="${PALETTE[k]}"/>`);
    parts.push(`<text x="${size - legendW + 20}" y="${y}" font-family="sans-serif" font-size="13">${esc(name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** Writes the scatter as .svg or .png (by extension), atomically. */
export async function writeScatter(file: string, spec: ScatterSpec): Promise<void> {
  const svg = scatterSvg(spec);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.svg') return writeFileAtomic(file, svg);
  if (ext !== '.png') throw new Error(`writeScatter: ${file}: extension must be .svg or .png`);
  const png = await sharp(Buffer.from(svg), { density: 144 }).flatten({ background: '#ffffff' }).png({ compressionLevel: 6, adaptiveFiltering: false, palette: false }).toBuffer();
  await writeFileAtomic(file, png);
}
