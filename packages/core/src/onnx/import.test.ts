// Importing @dlcv/core must stay cheap and safe: the ONNX modules load onnx-proto and
// onnxruntime-node (a native library) on first use only. Checked in a plain node child, whose
// require.cache shows exactly what an import loads.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const TS_REGISTER = path.join(__dirname, '..', '..', '..', '..', 'jest.ts-register.js');
const INDEX = path.join(__dirname, '..', 'index.ts');

function loadedAfter(script: string): string[] {
  const r = spawnSync(process.execPath, ['-r', TS_REGISTER, '-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as string[];
}

const ONNX_PACKAGES = String.raw`Object.keys(require.cache).filter((k) => /[\\/]node_modules[\\/](onnxruntime-node|onnxruntime-common|onnx-proto)[\\/]/.test(k)).map((k) => k.replace(/.*node_modules[\\/]/, '').split(/[\\/]/)[0])`;

test('importing core loads neither onnx-proto nor onnxruntime-node; exporting loads onnx-proto, running loads ONNX Runtime', () => {
  expect(loadedAfter(`const c = require(${JSON.stringify(INDEX)}); console.log(JSON.stringify(${ONNX_PACKAGES}))`)).toEqual([]);
  const exported = loadedAfter(
    `const tf = require('@tensorflow/tfjs'); const c = require(${JSON.stringify(INDEX)});
     c.toOnnxBytes(tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] }));
     console.log(JSON.stringify([...new Set(${ONNX_PACKAGES})]))`,
  );
  expect(exported).toEqual(['onnx-proto']);
  const ran = loadedAfter(
    `const tf = require('@tensorflow/tfjs'); const c = require(${JSON.stringify(INDEX)});
     c.loadExported(tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] }))
       .then((m) => m.dispose())
       .then(() => console.log(JSON.stringify([...new Set(${ONNX_PACKAGES})].sort())));`,
  );
  expect(ran).toEqual(['onnx-proto', 'onnxruntime-common', 'onnxruntime-node']);
});
