// scratch: peak bytes of live tensors (tf.memory().numBytes) within one step of each GPU case
'use strict';
const path = require('path');
const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));
const core = require('@dlcv/core');
const { buildGpuCases, gpuSizes } = require('./gpu-cases');
const { flagValue: arg } = require('./flag-value');
(async () => {
  await core.setupEngine({ engine: String(arg('engine', 'native')) });
  const name = tf.getBackend();
  const b = tf.backend();
  const live = new Map();
  let liveBytes = 0;
  const w0 = b.write.bind(b), d0 = b.disposeData.bind(b), m0 = b.move.bind(b);
  const data = b.data;
  b.write = (values, shape, dtype) => { const id = w0(values, shape, dtype); const n = values && values.byteLength !== undefined ? values.byteLength : shape.reduce((x, y) => x * y, 1) * 4; live.set(id, n); liveBytes += n; return id; };
  b.move = (id, values, shape, dtype, rc) => { m0(id, values, shape, dtype, rc); const n = values && values.byteLength !== undefined ? values.byteLength : 0; liveBytes += n - (live.get(id) || 0); live.set(id, n); };
  b.disposeData = (id, force) => { const r = d0(id, force); if (live.has(id) && !data.has(id)) { liveBytes -= live.get(id); live.delete(id); } return r; };
  const uniqueBytes = () => liveBytes;
  const peak = { v: 0 };
  for (const config of tf.getKernelsForBackend(name)) {
    tf.unregisterKernel(config.kernelName, name);
    const f = config.kernelFunc;
    tf.registerKernel({ ...config, kernelFunc: (args) => { const r = f(args); const m = uniqueBytes(); if (m > peak.v) peak.v = m; return r; } });
  }
  const cases = buildGpuCases({ tf, core, pkg: (n) => require(`@dlcv/${n}`), only: String(arg('only', 'ddpm')).split(','), sizes: gpuSizes(arg) });
  for (const [k, c] of Object.entries(cases)) {
    await c.run();
    const before = uniqueBytes();
    peak.v = before;
    await c.run();
    console.log(`${k}: live before ${(before / 2 ** 20).toFixed(0)} MiB, peak within the step ${(peak.v / 2 ** 20).toFixed(0)} MiB (+${((peak.v - before) / 2 ** 20).toFixed(0)})`);
  }
})();
