/**
 * The third-party scripts a report page runs, copied from this package's dependencies into the
 * report folder (nothing is fetched when the page opens): vega, vega-lite and vega-embed for the
 * charts; onnxruntime-web's WebAssembly build for the live panel.
 *
 * A page opened from file:// may load classic scripts beside it but may not fetch() files, so
 * ONNX Runtime's WebAssembly binary and its loader travel inside a script (gzip, base64), which
 * the page unpacks with the browser's DecompressionStream.
 */
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { makeDir, writeFileAtomic } from '../files';

/** The folder of an installed package, found as Node would find it from here. */
export function packageDir(name: string): string {
  for (const dir of require.resolve.paths(name) ?? []) {
    const candidate = path.join(dir, name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
  }
  throw new Error(`report: the package ${name} is not installed (a dependency of @dlcv/core; run pnpm install)`);
}

/** The chart scripts, in load order, as paths inside the report folder. */
export const CHART_SCRIPTS = ['vendor/vega.min.js', 'vendor/vega-lite.min.js', 'vendor/vega-embed.min.js'] as const;
/** The ONNX Runtime scripts, in load order. */
export const ORT_SCRIPTS = ['vendor/ort.wasm.min.js', 'vendor/ort-wasm.js'] as const;

const CHART_SOURCES: [pkg: string, file: string][] = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
];

/** ONNX Runtime's single-threaded-capable SIMD build: a page from file:// cannot use threads. */
const ORT_WASM = 'ort-wasm-simd-threaded';

/** Bytes as gzip + base64, for a script string the page inflates. */
export function packBytes(bytes: Uint8Array): string {
  return gzipSync(bytes, { level: 9 }).toString('base64');
}

async function copyLicence(pkg: string, vendorDir: string): Promise<void> {
  const file = path.join(packageDir(pkg), 'LICENSE');
  if (existsSync(file)) await fs.copyFile(file, path.join(vendorDir, `${pkg}.LICENSE`));
}

/** Copies the chart scripts into `<reportDir>/vendor/`. */
export async function writeChartVendor(reportDir: string): Promise<void> {
  const vendorDir = path.join(reportDir, 'vendor');
  await makeDir(vendorDir);
  for (const [pkg, file] of CHART_SOURCES) {
    await fs.copyFile(path.join(packageDir(pkg), file), path.join(vendorDir, path.basename(file)));
    await copyLicence(pkg, vendorDir);
  }
}

/** Copies onnxruntime-web's script and packs its loader and WebAssembly binary into `vendor/ort-wasm.js`. */
export async function writeOrtVendor(reportDir: string): Promise<void> {
  const vendorDir = path.join(reportDir, 'vendor');
  const dist = path.join(packageDir('onnxruntime-web'), 'dist');
  await makeDir(vendorDir);
  await fs.copyFile(path.join(dist, 'ort.wasm.min.js'), path.join(vendorDir, 'ort.wasm.min.js'));
  const glue = await fs.readFile(path.join(dist, `${ORT_WASM}.mjs`), 'utf8');
  const wasm = await fs.readFile(path.join(dist, `${ORT_WASM}.wasm`));
  await writeFileAtomic(path.join(vendorDir, 'ort-wasm.js'), `window.DLCV_ORT = ${JSON.stringify({ glue, wasm: packBytes(wasm) })};\n`);
  await copyLicence('onnxruntime-web', vendorDir);
}
