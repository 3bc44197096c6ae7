#!/usr/bin/env node
// Root benchmark: the gan, ddpm and dann packages' own models and training steps on the native
// engine, their forwards also through ONNX Runtime, beside the same networks in PyTorch CPU
// (core's python/torch_reference.py, serve mode), same batches, medians of N steps, interleaved
// (ours, torch, ours, ...).
//   node tools/bench/bench.js [--steps 5] [--only dcgan,dann,ddpm] [--no-torch] [--no-onnx]
//     [--profile dcgan_train]   (per-kernel profile of one case instead)
//     [--profile-aten ddpm_train] (one case's ATen ops and GPU activity under Kineto, the libtorch
//                                engine's; python/torch_reference.py `profile` prints PyTorch's)
//     [--engine cpu]            (any engine name of @dlcv/core; cpu is very slow)
//     [--device cuda|cpu]       (GPU rows, see gpu-cases.js: the libtorch engine on that device
//                                against PyTorch on the same device; they are also what the
//                                libtorch engine runs when it sees CUDA. Sizes: --ddpm-batch 256
//                                --ddpm-forward-batch 2000 --n-feat 128 --gan-batch 128
//                                --gan-models A,B --dann-batch 256)
// On CUDA both sides run fp32, or TF32 in cuBLAS and cuDNN when DLCV_TF32=1, and both take
// deterministic algorithms unless DLCV_TORCH_DETERMINISTIC=0.
// Needs the packages built (`pnpm bench` builds them); PyTorch is used when core's
// findTorchPython finds a Python with torch (Debian: apt-get install python3-torch libopenblas-dev).
'use strict';
const path = require('path');
const readline = require('readline');
const { spawn } = require('child_process');

const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}
const STEPS = Number(arg('steps', 5));
const ONLY = String(arg('only', 'dcgan,ddpm,dann')).split(',');
const WITH_TORCH = !arg('no-torch', false);
const WITH_ONNX = !arg('no-onnx', false);
const PROFILE = arg('profile', null);
const PROFILE_ATEN = arg('profile-aten', null);
const DEVICE = arg('device', null);
if (DEVICE !== null && DEVICE !== 'cuda' && DEVICE !== 'cpu') throw new Error(`bench: --device must be cuda or cpu, got ${DEVICE}`);
// --device picks the libtorch engine's device (read when the engine loads)
if (DEVICE !== null) process.env.DLCV_TORCH_DEVICE = DEVICE;
const ENGINE = String(arg('engine', DEVICE !== null ? 'libtorch' : 'native'));

// The project's packages, built (pnpm bench builds them first).
function pkg(name) {
  try {
    return require(`@dlcv/${name}`);
  } catch (e) {
    console.error(`bench: @dlcv/${name} is not built (run \`pnpm build\`): ${e.message}`);
    process.exit(1);
  }
}
const core = pkg('core');
const { buildGpuCases, gpuSizes } = require('./gpu-cases');
const { atenTables } = require('./aten-events');

// ------------------------------------------------------------------ our cases
// Each case runs one step of the packages' own models and training code (async: the trainers
// read their losses back). ONNX cases run the same network exported by @dlcv/core, through
// onnxruntime-node, as `generate --runtime onnx` / `sample --runtime onnx` do.
async function buildCases() {
  const cases = {};
  async function onnxCase(label, model, feeds) {
    const session = await core.loadExported(model);
    return {
      label,
      run: async () => {
        await session.run(feeds);
      },
    };
  }
  if (ONLY.includes('dcgan')) {
    const gan = pkg('gan');
    const rng = new core.Rng(0);
    const config = gan.MODEL_PRESETS.A;
    const g = { g: gan.createGenerator(config, rng.fork(1)), d: gan.createDiscriminator(config, rng.fork(2)), ...gan.createOptimizers({ ...gan.TRAIN_PRESETS.report }) };
    const real = tf.keep(tf.tensor4d(rng.uniformArray(64 * 64 * 64 * 3, -1, 1), [64, 64, 64, 3]));
    cases.dcgan_train = {
      label: 'DCGAN model A train step, batch 64',
      // the gan package's step: D on real and fake, then G (the tutorial's order)
      run: async () => {
        const z = gan.noiseBatch(rng, 64, config.nz);
        await gan.trainStep(g, real, z);
        z.dispose();
      },
    };
    const z64 = rng.normalArray(64 * config.nz);
    cases.dcgan_forward = {
      label: 'DCGAN generator forward, batch 64',
      run: async () => {
        // one batch in inference mode, as the gan package generates (predict() would split it in batches of 32)
        const y = tf.tidy(() => g.g.apply(tf.tensor4d(z64, [64, 1, 1, config.nz]), { training: false }));
        await y.data();
        y.dispose();
      },
    };
    if (WITH_ONNX) cases.dcgan_forward_onnx = await onnxCase('  same, ONNX Runtime', g.g, [{ data: z64, dims: [64, 1, 1, config.nz] }]);
  }
  if (ONLY.includes('ddpm')) {
    const ddpm = pkg('ddpm');
    const unet = { ...ddpm.DEFAULT_UNET_CONFIG, nFeat: 128 };
    const model = ddpm.createUnet(unet, 0);
    const opt = tf.train.adam(1e-4);
    const rng = new core.Rng(1);
    const conditions = (b) =>
      ddpm.conditionArrays(
        Array.from({ length: b }, (_, i) => (i * 37) % 400),
        Array.from({ length: b }, (_, i) => i % 10),
        Array.from({ length: b }, (_, i) => (i % 10 === 0 ? 1 : 0)),
        400,
        10,
      );
    const tr = conditions(32);
    const xt = tf.keep(tf.tensor4d(rng.normalArray(32 * 28 * 28 * 3), [32, 28, 28, 3]));
    const eps = tf.keep(tf.tensor4d(rng.normalArray(32 * 28 * 28 * 3), [32, 28, 28, 3]));
    const cond = { t: tf.keep(tf.tensor2d(tr.t, [32, 1])), c: tf.keep(tf.tensor2d(tr.c, [32, 10])), mask: tf.keep(tf.tensor2d(tr.mask, [32, 1])) };
    cases.ddpm_train = {
      label: 'DDPM U-Net (n_feat 128) train step, batch 32',
      // the trainer's step: MSE between the noise and the prediction, Adam
      run: async () => {
        const loss = ddpm.trainingStep(model, opt, xt, eps, cond);
        await loss.data();
        loss.dispose();
      },
    };
    const sc = conditions(100);
    const sx = rng.normalArray(100 * 28 * 28 * 3);
    const net = ddpm.tfjsNoiseNet(model, unet);
    cases.ddpm_forward = {
      label: 'DDPM U-Net forward, batch 100',
      run: async () => {
        await net.predict(sx, sc);
      },
    };
    if (WITH_ONNX) {
      cases.ddpm_forward_onnx = await onnxCase('  same, ONNX Runtime', model, [
        { data: sx, dims: [100, 28, 28, 3] },
        { data: sc.t, dims: [100, 1] },
        { data: sc.c, dims: [100, 10] },
        { data: sc.mask, dims: [100, 1] },
      ]);
    }
  }
  if (ONLY.includes('dann')) {
    const dann = pkg('dann');
    const rng = new core.Rng(2);
    const net = new dann.DannNet(dann.REPORT_NET, rng);
    const opt = dann.makeOptimizer(1e-3);
    const xs = tf.keep(tf.tensor4d(rng.uniformArray(256 * 28 * 28, 0, 1), [256, 28, 28, 1]));
    const xt = tf.keep(tf.tensor4d(rng.uniformArray(256 * 28 * 28, 0, 1), [256, 28, 28, 1]));
    const ys = tf.keep(
      tf.tensor1d(
        Int32Array.from({ length: 256 }, (_, i) => i % 10),
        'int32',
      ),
    );
    // the dann package's step: class loss on the source half, domain loss through the GRL
    cases.dann_train = {
      label: 'DANN train step, batch 256+256',
      run: async () => {
        await dann.dannStep(net, opt, xs, ys, xt, 0.5, rng);
      },
    };
    cases.dann_forward = {
      label: 'DANN forward, batch 256',
      run: async () => {
        const y = tf.tidy(() => net.classify(net.features(xs, { training: false }), { training: false }));
        await y.data();
        y.dispose();
      },
    };
    if (WITH_ONNX) cases.dann_forward_onnx = await onnxCase('  same, ONNX Runtime', net.inferenceModel('label'), [{ data: await xs.data(), dims: [256, 28, 28, 1] }]);
  }
  return cases;
}

// ------------------------------------------------------------------ PyTorch child
class Torch {
  /** `threads`: PyTorch's intra-op threads, the engine's own count (the same for both sides). */
  constructor(py, device, threads) {
    this.p = spawn(py, ['-B', core.TORCH_REFERENCE_SCRIPT, 'serve', '--threads', String(threads), '--device', device], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: core.torchPythonEnv({ ...process.env, OMP_NUM_THREADS: String(threads) }),
    });
    this.rl = readline.createInterface({ input: this.p.stdout });
    this.waiting = [];
    this.rl.on('line', (l) => {
      const w = this.waiting.shift();
      if (w) w(JSON.parse(l));
    });
    // an exit (e.g. --device cuda where torch sees no GPU) answers what is still waiting
    this.p.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w({ error: `the PyTorch process exited (status ${code})` });
    });
  }
  ask(cmd) {
    return new Promise((res) => {
      this.waiting.push(res);
      this.p.stdin.write(cmd + '\n');
    });
  }
  close() {
    this.p.stdin.write('quit\n');
    this.p.stdin.end();
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[(s.length - 1) >> 1] : NaN;
};
function now() {
  return Number(process.hrtime.bigint()) / 1e9;
}
function fmt(t) {
  return Number.isFinite(t) ? (t >= 1 ? `${t.toFixed(2)} s` : `${(t * 1000).toFixed(0)} ms`) : '-';
}

/** The case `name`; an error listing the cases otherwise. */
function caseNamed(cases, name) {
  const c = cases[name];
  if (!c) throw new Error(`no case ${name} (cases: ${Object.keys(cases).join(', ')})`);
  return c;
}

/** Runs a replayed case (gpu-cases.js) until its step is replayed: the first three steps run eagerly, two of them recorded. */
async function untilReplayed(c) {
  for (let i = 0; c.replayed && c.replayed.mode === 'eager' && i < 4; i++) await c.run();
}

async function profile(cases, name) {
  const c = caseNamed(cases, name);
  await c.run(); // warm-up (primitive caches, optimizer state)
  const info = await tf.profile(async () => {
    await c.run();
  });
  const by = new Map();
  for (const k of info.kernels) {
    const t = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = by.get(k.name) || { ms: 0, n: 0 };
    e.ms += t;
    e.n++;
    by.set(k.name, e);
  }
  const rows = [...by.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const total = rows.reduce((s, [, e]) => s + e.ms, 0);
  const t0 = now();
  await c.run();
  const wall = now() - t0;
  console.log(
    `\nPer-kernel profile of ${name} on ${tf.getBackend()} (one step; kernel sum ${total.toFixed(0)} ms (nested ops such as fusedConv2d__op count their kernels again), wall without profiler ${(wall * 1000).toFixed(0)} ms)`,
  );
  console.log('| kernel | calls | ms | % |\n|---|---|---|---|');
  for (const [k, e] of rows.slice(0, 30)) console.log(`| ${k} | ${e.n} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / total).toFixed(1)} |`);
}

/**
 * One step of a case under Kineto (the libtorch addon's startAtenProfile / stopAtenProfile), as
 * python/torch_reference.py's `profile` tables PyTorch's: each ATen op (where the op thread ran
 * it) and, on CUDA, each kernel, copy and fill on the GPU, with calls and times, the most device
 * time first (host time on the CPU; it includes the ops nested in them); then each addon op with
 * the ATen events and kernel launches of its calls (tools/bench/aten-events.js).
 */
async function profileAten(cases, name) {
  const c = caseNamed(cases, name);
  const addon = tf.backend().addon;
  if (typeof addon?.startAtenProfile !== 'function') throw new Error('bench: --profile-aten needs the libtorch engine (--device cuda or cpu)');
  await c.run(); // warm-up (caches, optimizer state), twice as PyTorch's side
  await c.run();
  await untilReplayed(c);
  addon.startAtenProfile();
  await c.run(); // reads its result: the step is done on the device too
  const { totals, aten, addon: ops } = atenTables(addon.stopAtenProfile());
  console.log(
    `\nATen profile of ${name} on ${tf.getBackend()} (Kineto, one step): ${totals.addonOps} addon ops, ${totals.host} host events (ATen ops with the ones nested in them, on CUDA also runtime calls), ${totals.launches} kernel launches, ${totals.device} events on the GPU taking ${totals.deviceMs.toFixed(2)} ms`,
  );
  console.log('| op | calls | device ms | host ms |\n|---|---|---|---|');
  for (const [op, e] of aten.slice(0, 40)) console.log(`| ${op} | ${e.calls} | ${e.deviceMs.toFixed(2)} | ${e.hostMs.toFixed(2)} |`);
  console.log('\nThe addon ops, the most time first (host ms: where they ran, with the ATen work in them; device ms: what they launched)');
  console.log('| addon op | calls | ATen events a call | kernel launches a call | host ms | device ms |\n|---|---|---|---|---|---|');
  const perCall = (n, calls) => (n / calls).toFixed(1);
  for (const [op, e] of ops) {
    console.log(`| ${op} | ${e.calls} | ${perCall(e.atenEvents, e.calls)} | ${perCall(e.launches, e.calls)} | ${e.hostMs.toFixed(2)} | ${e.deviceMs.toFixed(2)} |`);
  }
}

/** 'cuda' or 'cpu' for the GPU rows (--device, or the libtorch engine on CUDA), else null. */
function gpuRowsDevice(eng) {
  if (DEVICE !== null) return DEVICE;
  const t = eng.engine === 'libtorch' ? core.loadTorchBackend() : null;
  return t && t.ok && t.onCuda ? 'cuda' : null;
}

async function main() {
  const eng = await core.setupEngine({ engine: ENGINE });
  console.log(core.describeEngine(eng));
  const device = gpuRowsDevice(eng);
  if (device !== null && eng.engine !== 'libtorch') throw new Error(`bench: --device needs the libtorch engine, not ${eng.engine}`);
  const cases = device === null ? await buildCases() : buildGpuCases({ tf, core, pkg, only: ONLY, sizes: gpuSizes(arg) });
  if (PROFILE) {
    await profile(cases, String(PROFILE));
    return;
  }
  if (PROFILE_ATEN) {
    await profileAten(cases, String(PROFILE_ATEN));
    return;
  }
  let torch = null;
  if (WITH_TORCH) {
    const { python: py, tried } = core.findTorchPython();
    if (py) {
      torch = new Torch(py, device ?? 'cpu', eng.threads);
      const tinfo = await torch.ask('info');
      if (tinfo.error) throw new Error(`PyTorch: ${tinfo.error}`);
      const libs = (tinfo.blas.libraries || []).map((l) => path.basename(path.dirname(l)) + '/' + path.basename(l)).join(', ') || 'none loaded';
      const gpu =
        tinfo.device === 'cuda'
          ? `, on CUDA (${tinfo.gpu}), CUDA ${tinfo.cuda}, cuDNN ${tinfo.cudnn}, TF32 ${tinfo.tf32 ? 'on' : 'off'}, ${tinfo.deterministic ? 'deterministic' : 'nondeterministic'}`
          : '';
      console.log(`PyTorch ${tinfo.torch} (${py}), ${tinfo.threads} threads, BLAS_INFO=${tinfo.blas.info}, BLAS library: ${libs}, oneDNN ${tinfo.blas.onednn}${gpu}`);
      // Debian's python3-torch loads whichever libblas.so.3 the system's alternatives name
      const reference = core.referenceBlas(tinfo.blas.libraries || []);
      if (tinfo.device !== 'cuda' && reference)
        console.log(
          `bench: warning: PyTorch loaded the reference BLAS (${reference}), not an optimised one; its CPU times are not a fair comparison (Debian: apt-get install libopenblas0)`,
        );
    } else {
      console.log(`PyTorch: not found (no torch in ${tried.join(', ')}); ours only`);
    }
  }
  const names = Object.keys(cases);
  // an ONNX case compares with PyTorch's run of the same network's forward
  const torchName = (n) => n.replace(/_onnx$/, '');
  const ours = Object.fromEntries(names.map((n) => [n, []]));
  const theirs = Object.fromEntries(names.map((n) => [n, []]));
  const oursCpu = Object.fromEntries(names.map((n) => [n, []]));
  const theirsCpu = Object.fromEntries(names.map((n) => [n, []]));
  const askTorch = async (n) => (torch && torchName(n) === n ? torch.ask(`run ${cases[n].torch ?? n}`) : {});
  // warm-up: one untimed step each (a replayed case's until its replay is confirmed)
  for (const n of names) {
    await cases[n].run();
    await untilReplayed(cases[n]);
    const r = await askTorch(n);
    if (r.error) console.log(`torch ${n}: ${r.error}`);
  }
  for (let i = 0; i < STEPS; i++) {
    for (const n of names) {
      const c0 = process.cpuUsage();
      const t0 = now();
      await cases[n].run();
      ours[n].push(now() - t0);
      const c1 = process.cpuUsage(c0);
      oursCpu[n].push((c1.user + c1.system) / 1e6);
      const r = await askTorch(n);
      if (r.t !== undefined) {
        theirs[n].push(r.t);
        theirsCpu[n].push(r.cpu);
      }
    }
    process.stderr.write(`round ${i + 1}/${STEPS} done\n`);
  }
  if (torch) torch.close();
  const os = require('os');
  console.log(
    `\nMedians of ${STEPS} steps, interleaved; ${os.cpus().length} CPU cores, load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}; ratio = ours / PyTorch (<= 1.0: we are faster); CPU = process CPU seconds per step (both threads)\n`,
  );
  const where = (device ?? 'cpu') === 'cuda' ? 'CUDA' : 'CPU';
  console.log(
    `| step | PyTorch ${where} | ours (tfjs ${eng.engine}, or ONNX Runtime) | ratio | PyTorch CPU-time | ours CPU-time | CPU-time ratio |\n|---|---|---|---|---|---|---|`,
  );
  for (const n of names) {
    const a = median(ours[n]),
      b = median(theirs[torchName(n)]);
    const ac = median(oursCpu[n]),
      bc = median(theirsCpu[torchName(n)]);
    const r = (x, y) => (Number.isFinite(x) && Number.isFinite(y) ? (x / y).toFixed(2) : '-');
    console.log(`| ${cases[n].label} | ${fmt(b)} | ${fmt(a)} | ${r(a, b)} | ${fmt(bc)} | ${fmt(ac)} | ${r(ac, bc)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
