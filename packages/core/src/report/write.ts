/**
 * Writes a report folder: index.html (from the template), report.css, data.js (what the page
 * shows), page.js (this package's page code, bundled for the browser at build time), the
 * images it shows under assets/, the chart scripts under vendor/, and for a live panel the
 * package's live.js, ONNX Runtime and models.js (the ONNX models, packed). Everything the
 * page needs is in the folder: it opens from file:// with no network.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { makeDir, writeFileAtomic } from '../files';
import { escapeHtml, fillTemplate, readTemplate, TEMPLATE_DIR } from './template';
import type { ReportData, ReportImageSet, ReportInput, ReportRun } from './types';
import { CHART_SCRIPTS, ORT_SCRIPTS, packBytes, writeChartVendor, writeOrtVendor } from './vendor';

/** The page code, bundled by this package's build (scripts/bundle-browser.js). */
export const PAGE_SCRIPT = path.join(__dirname, '..', '..', 'dist', 'report', 'page.js');

/** The report's own files and folders: removed before writing, so nothing stale stays. */
const OWNED = ['index.html', 'report.css', 'data.js', 'page.js', 'live.js', 'models.js', 'assets', 'vendor'];

async function copyFile(from: string, to: string, what: string): Promise<void> {
  try {
    await fs.copyFile(from, to);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`report: cannot copy ${what} ${from} (${code === 'ENOENT' ? 'not found' : (code ?? String(err))})`, { cause: err });
  }
}

/** Copies a run's images into assets/r<i>/ and returns its sets with paths relative to index.html. */
async function copyRunImages(outDir: string, run: ReportRun, index: number): Promise<ReportImageSet[]> {
  const folder = `assets/r${index}`;
  await makeDir(path.join(outDir, folder));
  const sets: ReportImageSet[] = [];
  for (const [s, set] of run.images.entries()) {
    const images = [];
    for (const [i, image] of set.images.entries()) {
      const rel = `${folder}/${s}-${i}-${path.basename(image.src)}`;
      await copyFile(image.src, path.join(outDir, rel), `the image of "${set.title}"`);
      images.push({ ...image, src: rel });
    }
    sets.push({ ...set, images });
  }
  return sets;
}

function scriptTags(files: readonly string[]): string {
  return files.map((f) => `<script src="${escapeHtml(f)}"></script>`).join('\n');
}

/** The page's data.js: the report's content as one global. */
function dataScript(data: ReportData): string {
  return `window.DLCV_REPORT = ${JSON.stringify(data)};\n`;
}

async function writeLive(outDir: string, live: NonNullable<ReportInput['live']>): Promise<void> {
  await writeOrtVendor(outDir);
  await copyFile(live.script, path.join(outDir, 'live.js'), "the package's live panel script (build the package first)");
  const models = Object.fromEntries(Object.entries(live.models).map(([name, bytes]) => [name, packBytes(bytes)]));
  await writeFileAtomic(path.join(outDir, 'models.js'), `window.DLCV_MODELS = ${JSON.stringify(models)};\n`);
}

/** Writes the report into `outDir` (made if missing; the report's earlier files there are replaced); returns index.html's path. */
export async function writeReport(outDir: string, input: ReportInput): Promise<string> {
  await makeDir(outDir);
  for (const name of OWNED) await fs.rm(path.join(outDir, name), { recursive: true, force: true });
  const runs: ReportRun[] = [];
  for (const [i, run] of input.runs.entries()) runs.push({ ...run, images: await copyRunImages(outDir, run, i) });
  const { live, ...rest } = input;
  const data: ReportData = { ...rest, runs, generated: new Date().toISOString(), live: live ? { config: live.config, models: Object.keys(live.models) } : undefined };

  await writeChartVendor(outDir);
  if (live) await writeLive(outDir, live);
  await copyFile(PAGE_SCRIPT, path.join(outDir, 'page.js'), 'the page script (build @dlcv/core first)');
  await copyFile(path.join(TEMPLATE_DIR, 'report.css'), path.join(outDir, 'report.css'), 'the stylesheet');
  await writeFileAtomic(path.join(outDir, 'data.js'), dataScript(data));
  const scripts = [...CHART_SCRIPTS, 'data.js', ...(live ? [...ORT_SCRIPTS, 'models.js', 'live.js'] : []), 'page.js'];
  const html = fillTemplate(
    await readTemplate('index.html'),
    { text: { title: input.title, subtitle: input.subtitle ?? '', kind: input.kind }, html: { scripts: scriptTags(scripts) } },
    path.join(TEMPLATE_DIR, 'index.html'),
  );
  const index = path.join(outDir, 'index.html');
  await writeFileAtomic(index, html);
  return index;
}

/** Where a report goes unless told: <folder>/report for one folder, report/ in the common parent folder of several. */
export function defaultReportDir(dirs: readonly string[]): string {
  const abs = dirs.map((d) => path.resolve(d));
  if (abs.length === 1) return path.join(abs[0] as string, 'report');
  let common = path.dirname(abs[0] as string);
  while (!abs.every((d) => d.startsWith(common.endsWith(path.sep) ? common : common + path.sep))) common = path.dirname(common);
  return path.join(common, 'report');
}
