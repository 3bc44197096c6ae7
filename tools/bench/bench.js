#!/usr/bin/env node
// Root benchmark: tfjs on the native engine ('dlcv-native') beside PyTorch CPU, same models and
// batches, medians of N steps, interleaved (ours, torch, ours, torch, ...) in one run.
//   node tools/bench/bench.js [--steps 5] [--only dcgan,dann,ddpm] [--no-torch] [--profile dcgan_train]
//     [--engine cpu]   (time the plain tfjs cpu backend instead; very slow)
//     [--stock-bn]     (tf.layers.batchNormalization instead of the fused batch-norm op)
// Needs packages/core built (pnpm build) for the engine; PyTorch is used when a python3 with
// `import torch` exists (Debian: apt-get install python3-torch libopenblas-dev).
'use strict';
const path = require('path');
const fs = require('fs');
const readline = require('readline');
const { spawn, spawnSync } = require('child_process');

const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));
const { makeModels } = require('./models');

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}
const STEPS = Number(arg('steps', 5));
const ONLY = String(arg('only', 'dcgan,ddpm,dann')).split(',');
const WITH_TORCH = !arg('no-torch', false);
const PROFILE = arg('profile', null);
const ENGINE = String(arg('engine', 'dlcv-native'));

// ------------------------------------------------------------------ engine
function loadEngine() {
  const entry = firstExisting([
    path.join(coreDir, 'dist', 'engine', 'native', 'index.js'),
  ]);
  if (!entry) {
    console.error('bench: packages/core is not built (run `pnpm build`); cannot load the native engine');
    process.exit(1);
  }
  engineModule = require(entry);
  if (ENGINE === 'cpu') return { name: 'cpu', detail: 'tfjs cpu (pure JS)' };
  const r = engineModule.loadNativeBackend();
  if (!r.ok) {
    console.error(`bench: native engine unavailable: ${r.reason}`);
    process.exit(1);
  }
  return { name: r.backendName, detail: r.detail };
}
let engineModule = null;
function firstExisting(list) { return list.find((p) => fs.existsSync(p)); }

// ------------------------------------------------------------------ our cases
function buildCases() {
  const M = makeModels(tf, engineModule, { stockBN: !!arg('stock-bn', false) });
  const cases = {};
  const bce = (y, p) => tf.losses.logLoss(y, p);
  if (ONLY.includes('dcgan')) {
    const G = M.dcganG(), D = M.dcganD();
    const gVars = G.trainableWeights.map((w) => w.read());
    const dVars = D.trainableWeights.map((w) => w.read());
    const optD = tf.train.adam(0.0005, 0.5, 0.999), optG = tf.train.adam(0.005, 0.5, 0.999);
    const real = tf.keep(tf.randomUniform([64, 64, 64, 3], -1, 1));
    const ones = tf.keep(tf.ones([64, 1])), zeros = tf.keep(tf.zeros([64, 1]));
    cases.dcgan_train = {
      label: 'DCGAN model A train step, batch 64',
      run: () => tf.tidy(() => {
        const z = tf.randomNormal([64, 1, 1, 100]);
        const fake = G.apply(z, { training: true });
        optD.minimize(() => tf.add(bce(ones, D.apply(real, { training: true })), bce(zeros, D.apply(fake, { training: true }))), false, dVars);
        optG.minimize(() => bce(ones, D.apply(G.apply(z, { training: true }), { training: true })), false, gVars);
      }),
    };
    cases.dcgan_forward = {
      label: 'DCGAN generator forward, batch 64',
      // (block bodies: returning a TypedArray from tidy makes tfjs walk all its elements)
      run: () => tf.tidy(() => { G.predict(tf.randomNormal([64, 1, 1, 100]), { batchSize: 64 }).dataSync(); }),
    };
  }
  if (ONLY.includes('ddpm')) {
    const net = new M.Unet(3, 128, 10);
    const sample = (B) => {
      const x = tf.randomUniform([B, 28, 28, 3]);
      const noise = tf.randomNormal([B, 28, 28, 3]);
      const a = tf.randomUniform([B, 1, 1, 1]);
      const xt = tf.add(tf.mul(tf.sqrt(a), x), tf.mul(tf.sqrt(tf.sub(1, a)), noise));
      const c = tf.oneHot(tf.randomUniform([B], 0, 10, 'int32'), 10).toFloat();
      const mask = tf.cast(tf.less(tf.randomUniform([B, 1]), 0.1), 'float32');
      return { xt, noise, c, t: tf.randomUniform([B, 1]), mask };
    };
    tf.tidy(() => { const s = sample(2); net.apply(s.xt, s.c, s.t, s.mask, true); });
    const vars = net.trainableVars();
    const opt = tf.train.adam(1e-4);
    cases.ddpm_train = {
      label: 'DDPM U-Net (n_feat 128) train step, batch 32',
      run: () => tf.tidy(() => {
        const s = sample(32);
        opt.minimize(() => tf.losses.meanSquaredError(s.noise, net.apply(s.xt, s.c, s.t, s.mask, true)), false, vars);
      }),
    };
    cases.ddpm_forward = {
      label: 'DDPM U-Net forward, batch 100',
      run: () => tf.tidy(() => {
        const c = tf.oneHot(tf.tensor1d(Array.from({ length: 100 }, (_, i) => i % 10), 'int32'), 10).toFloat();
        net.apply(tf.randomNormal([100, 28, 28, 3]), c, tf.randomUniform([100, 1]), tf.zeros([100, 1]), false).dataSync();
      }),
    };
  }
  if (ONLY.includes('dann')) {
    const fe = M.dannFE(), lp = M.dannHead(10), dc = M.dannHead(1);
    const vars = [fe, lp, dc].flatMap((m) => m.trainableWeights.map((w) => w.read()));
    const opt = tf.train.adam(1e-3);
    const src = tf.keep(tf.randomUniform([256, 28, 28, 1])), tgt = tf.keep(tf.randomUniform([256, 28, 28, 1]));
    const ys = tf.keep(tf.oneHot(tf.randomUniform([256], 0, 10, 'int32'), 10).toFloat());
    const dom = tf.keep(tf.concat([tf.ones([256, 1]), tf.zeros([256, 1])]));
    const grl = tf.customGrad((x) => ({ value: tf.clone(x), gradFunc: (dy) => tf.neg(dy) }));
    cases.dann_train = {
      label: 'DANN train step, batch 256+256',
      run: () => tf.tidy(() => {
        opt.minimize(() => {
          const f = fe.apply(tf.concat([src, tgt]), { training: true });
          const cls = lp.apply(tf.slice(f, [0, 0], [256, 1024]), { training: true });
          const d = dc.apply(grl(f), { training: true });
          return tf.add(tf.losses.softmaxCrossEntropy(ys, cls), tf.losses.sigmoidCrossEntropy(dom, d));
        }, false, vars);
      }),
    };
    cases.dann_forward = {
      label: 'DANN forward, batch 256',
      run: () => tf.tidy(() => { lp.predict(fe.predict(src, { batchSize: 256 }), { batchSize: 256 }).dataSync(); }),
    };
  }
  return cases;
}

// ------------------------------------------------------------------ PyTorch child
function findTorchPython() {
  for (const py of [process.env.DLCV_TORCH_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean)) {
    const r = spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' });
    if (r.status === 0) return py;
  }
  return null;
}
class Torch {
  constructor(py) {
    this.p = spawn(py, [path.join(__dirname, 'torch_bench.py')], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, OMP_NUM_THREADS: process.env.DLCV_THREADS || '2' },
    });
    this.rl = readline.createInterface({ input: this.p.stdout });
    this.waiting = [];
    this.rl.on('line', (l) => { const w = this.waiting.shift(); if (w) w(JSON.parse(l)); });
  }
  ask(cmd) {
    return new Promise((res) => { this.waiting.push(res); this.p.stdin.write(cmd + '\n'); });
  }
  close() { this.p.stdin.write('quit\n'); this.p.stdin.end(); }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
function now() { return Number(process.hrtime.bigint()) / 1e9; }
function fmt(t) { return Number.isFinite(t) ? (t >= 1 ? `${t.toFixed(2)} s` : `${(t * 1000).toFixed(0)} ms`) : '-'; }

async function profile(cases, name) {
  const c = cases[name];
  if (!c) throw new Error(`no case ${name}`);
  c.run(); // warm-up (primitive caches, optimizer state)
  const info = await tf.profile(() => { c.run(); });
  const by = new Map();
  for (const k of info.kernels) {
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = by.get(k.name) || { ms: 0, n: 0 };
    e.ms += t; e.n++;
    by.set(k.name, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  const t0 = now(); c.run(); const wall = now() - t0;
  console.log(`\nPer-kernel profile of ${name} on ${tf.getBackend()} (one step; kernel sum ${total.toFixed(0)} ms, wall without profiler ${(wall * 1000).toFixed(0)} ms)`);
  console.log('| kernel | calls | ms | % |\n|---|---|---|---|');
  for (const [k, e] of rows.slice(0, 30)) console.log(`| ${k} | ${e.n} | ${e.ms.toFixed(1)} | ${(100 * e.ms / total).toFixed(1)} |`);
}

async function main() {
  const eng = loadEngine();
  await tf.setBackend(eng.name);
  console.log(`engine: ${eng.name} — ${eng.detail}`);
  const cases = buildCases();
  if (PROFILE) {
    await profile(cases, String(PROFILE));
    return;
  }
  let torch = null, tinfo = null;
  if (WITH_TORCH) {
    const py = findTorchPython();
    if (py) {
      torch = new Torch(py);
      tinfo = await torch.ask('info');
      const libs = (tinfo.blasLibs || []).map((l) => path.basename(path.dirname(l)) + '/' + path.basename(l)).join(', ') || 'none loaded';
      console.log(`PyTorch ${tinfo.torch} (${py}), ${tinfo.threads} threads, BLAS_INFO=${tinfo.blasInfo}, BLAS library: ${libs}, oneDNN ${tinfo.onednn}`);
    } else {
      console.log('PyTorch: not found (no python3 with `import torch`); ours only');
    }
  }
  const names = Object.keys(cases);
  const ours = Object.fromEntries(names.map((n) => [n, []]));
  const theirs = Object.fromEntries(names.map((n) => [n, []]));
  const oursCpu = Object.fromEntries(names.map((n) => [n, []]));
  const theirsCpu = Object.fromEntries(names.map((n) => [n, []]));
  // warm-up: one untimed step each
  for (const n of names) {
    cases[n].run();
    if (torch) { const r = await torch.ask(`run ${n}`); if (r.error) { console.log(`torch ${n}: ${r.error}`); } }
  }
  for (let i = 0; i < STEPS; i++) {
    for (const n of names) {
      const c0 = process.cpuUsage(); const t0 = now(); cases[n].run(); ours[n].push(now() - t0);
      const c1 = process.cpuUsage(c0); oursCpu[n].push((c1.user + c1.system) / 1e6);
      if (torch) { const r = await torch.ask(`run ${n}`); if (r.t !== undefined) { theirs[n].push(r.t); theirsCpu[n].push(r.cpu); } }
    }
    process.stderr.write(`round ${i + 1}/${STEPS} done\n`);
  }
  if (torch) torch.close();
  const os = require('os');
  console.log(`\nMedians of ${STEPS} steps, interleaved; ${os.cpus().length} CPU cores, load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; ratio = ours / PyTorch (<= 1.0: we are faster); CPU = process CPU seconds per step (both threads)\n`);
  console.log(`| step | PyTorch CPU | tfjs ${eng.name} | ratio | PyTorch CPU-time | ours CPU-time | CPU-time ratio |\n|---|---|---|---|---|---|---|`);
  for (const n of names) {
    const a = median(ours[n]), b = median(theirs[n]);
    const ac = median(oursCpu[n]), bc = median(theirsCpu[n]);
    const r = (x, y) => (Number.isFinite(x) && Number.isFinite(y) ? (x / y).toFixed(2) : '-');
    console.log(`| ${cases[n].label} | ${fmt(b)} | ${fmt(a)} | ${r(a, b)} | ${fmt(bc)} | ${fmt(ac)} | ${r(ac, bc)} |`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
