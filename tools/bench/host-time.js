#!/usr/bin/env node
// Where the host's time goes in one step of each of the bench's GPU cases on the libtorch engine.
// Every addon function is wrapped and timed, so a step splits into the time inside the addon
// (ATen: on a CPU the kernels themselves, on CUDA their launches and the allocator) and the
// JavaScript around it (tfjs's engine, tape and tensor bookkeeping, the backend, the model code).
// On CUDA the device runs behind the host: a step cannot take less than the host's issue time
// (from its start to its first download, where the host starts waiting for the device), and
// when that time is longer than the device's, the step is host-bound. The JavaScript is the same
// on both devices, so a CPU run measures it, at tiny sizes (--gan-width 8, --n-feat 8): at full
// width ATen's CPU kernels evict the caches the JavaScript runs from, which on CUDA they do not.
//   node tools/bench/host-time.js [--device cpu|cuda] [--only dcgan,ddpm,dann] [--steps 10]
//     [sizes as bench.js --device, and --gan-width N]
//     [--pair-kernel DlcvRunningAverage | --pair-queue | --pair-spin 100 | --pair-threads 1
//      | --pair-backward-pass | --pair-tensor-records | --pair-adam | --pair-running-stats]
//     [--by-function]
// --pair-kernel NAME alternates the steps between the backend without that fused kernel (its op
// falls back to the tfjs composition) and with it, and prints the two rows and the median of
// the paired differences. --pair-queue alternates them between the addon's op queue off and on
// (addon.setQueue): with it on, "inside the addon" is only the queueing, and the wall time
// shows what running ATen beside the JavaScript saves. --pair-spin US alternates them between
// the op thread sleeping as soon as it finds no op and polling US microseconds first
// (addon.setQueueSpin; the queue on for both). --pair-threads N alternates them between ATen's
// intra-op threads at N and at the engine's count (addon.setThreads): on CUDA, where the ops'
// arithmetic runs on the GPU, what the host's thread pool costs or saves. --pair-backward-pass
// alternates them between tfjs's backward pass and saves for it and core's (nn/backward-pass.ts:
// the same bytes; no Identity kernel calls for the saves), --pair-tensor-records between tfjs's
// engine keeping its record of each new tensor in its WeakMap and on the tensor's data id
// (engine/tensor-info-store.ts; on the WeakMap side each lookup still tries the id first, so the
// pairing understates the saving a little); both compare the JavaScript. --pair-adam alternates
// them between Adam in ATen foreach ops and ATen's fused Adam kernel (core's setTorchAdamFused;
// an error where the device has no such kernel) and compares the wall time. --pair-running-stats
// alternates them between BatchNorm's running statistics updated at each call and queued to the
// step's end (core's setRunningStatsDeferral; one runningAverages kernel a round) and compares
// the JavaScript. Each row also gives the garbage collector's pauses within the host issue time,
// and the process's CPU time over the step (every thread: others at work beside the JavaScript
// show as CPU time above the wall). --by-function adds a table of each step's addon functions,
// the most time first: on CUDA, which launches, allocations and waits the addon time is made of. "ATen's work" is the time the ops took where they ran (the addon's
// op timing): with the op queue on, the op thread's busy time. A step about as long as its
// JavaScript is bound by the JavaScript; about as long as ATen's work, by the op thread (on CUDA
// the launches); longer than both, by the device. --by-function then adds ATen's work by op
// (with the queue on, the op thread's view of the same step, reads with their wait).
'use strict';
const path = require('path');

const { flagValue: arg, positiveIntFlag } = require('./flag-value');
process.env.DLCV_TORCH_DEVICE = String(arg('device', 'cpu'));
const coreDir = path.resolve(__dirname, '..', '..', 'packages', 'core');
const tf = require(require.resolve('@tensorflow/tfjs', { paths: [coreDir] }));
const core = require('@dlcv/core');
const { buildGpuCases, gpuSizes } = require('./gpu-cases');

const STEPS = positiveIntFlag('host-time', 'steps', 10);

const { performance, PerformanceObserver } = require('perf_hooks');
const { setTimeout } = require('node:timers');
const now = () => performance.now(); // ms

// The garbage collector's pauses, [start, duration] in ms on now()'s clock; the observer gets
// them after the fact, so a step's are summed once the case has run (gcWithin).
const gcPauses = [];
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push([e.startTime, e.duration]);
}).observe({ entryTypes: ['gc'] });
const gcWithin = (from, to) => gcPauses.reduce((sum, [start, duration]) => (start >= from && start < to ? sum + duration : sum), 0);
// the process's CPU time in ms, all threads
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// called between the steps (the op timing, the pairings' settings), and no part of them
const BETWEEN_STEPS = new Set(['setOpTiming', 'takeOpTimes', 'setQueue', 'setQueueSpin', 'setThreads']);

/**
 * Wraps every function of the addon; returns the running totals they add to (with `byFunction`,
 * `byName` too: time and calls of each function), and the moment the current step first asked
 * for a download (reset `issueEnd` to null before each step).
 */
function timeAddon(addon, byFunction) {
  const t = { insideMs: 0, calls: 0, issueEnd: null, insideAtIssueEnd: 0, byName: new Map() };
  for (const name of Object.keys(addon)) {
    if (typeof addon[name] !== 'function' || BETWEEN_STEPS.has(name)) continue;
    const original = addon[name].bind(addon);
    const download = name === 'download' || name === 'downloadAsync';
    addon[name] = (...args) => {
      const t0 = now();
      // from here the host waits for the device (on CUDA) to read the step's results
      if (download && t.issueEnd === null) Object.assign(t, { issueEnd: t0, insideAtIssueEnd: t.insideMs });
      try {
        return original(...args);
      } finally {
        const ms = now() - t0;
        t.insideMs += ms;
        t.calls += 1;
        if (byFunction) {
          const own = t.byName.get(name) ?? { ms: 0, calls: 0 };
          t.byName.set(name, { ms: own.ms + ms, calls: own.calls + 1 });
        }
      }
    };
  }
  return t;
}

/** Wraps every kernel of the backend (ours and tfjs's own, run on the host); returns the run count. */
function countKernels(backendName) {
  const runs = { n: 0 };
  for (const config of tf.getKernelsForBackend(backendName)) {
    tf.unregisterKernel(config.kernelName, backendName);
    const kernelFunc = config.kernelFunc;
    tf.registerKernel({ ...config, kernelFunc: (args) => ((runs.n += 1), kernelFunc(args)) });
  }
  return runs;
}
// the ops that read results back: on CUDA they wait for the device
const READS = new Set(['download', 'downloadAsync', 'sync']);
const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];

/**
 * The two sides of the pairing the flags ask for (--pair-kernel, --pair-queue, --pair-spin,
 * --pair-threads, --pair-backward-pass, --pair-tensor-records, --pair-adam, --pair-running-stats; at
 * most one), or null: `enter` before a step of the first side, `leave` after it, `saving` the
 * difference that side makes;
 * `restore` puts the settings back at the end.
 */
function pairing(addon) {
  const pairKernel = arg('pair-kernel', null);
  const pairQueue = process.argv.includes('--pair-queue');
  const pairSpin = arg('pair-spin', null) === null ? null : positiveIntFlag('host-time', 'pair-spin', 0);
  const pairThreads = arg('pair-threads', null) === null ? null : positiveIntFlag('host-time', 'pair-threads', 0);
  const pairBackward = process.argv.includes('--pair-backward-pass');
  const pairRecords = process.argv.includes('--pair-tensor-records');
  const pairAdam = process.argv.includes('--pair-adam');
  const pairStats = process.argv.includes('--pair-running-stats');
  if ([pairKernel !== null, pairQueue, pairSpin !== null, pairThreads !== null, pairBackward, pairRecords, pairAdam, pairStats].filter(Boolean).length > 1)
    throw new Error(
      'host-time: --pair-kernel, --pair-queue, --pair-spin, --pair-threads, --pair-backward-pass, --pair-tensor-records, --pair-adam and --pair-running-stats pair steps each their own way: give one',
    );
  const { queue: queueWasOn, queueSpin: spinWas, threads: threadsWere } = addon.info();
  const restoreQueue = () => {
    addon.setQueue(queueWasOn);
    addon.setQueueSpin(spinWas);
  };
  if (pairThreads !== null) {
    const paired = {
      names: [`${pairThreads} ATen thread${pairThreads === 1 ? '' : 's'}`, `${threadsWere} ATen threads (the engine's)`],
      enter: () => addon.setThreads(pairThreads),
      leave: () => addon.setThreads(threadsWere),
      saving: (a, b) => b.wall - a.wall,
      gain: `less wall time with ${pairThreads} ATen thread${pairThreads === 1 ? '' : 's'} than ${threadsWere}`,
    };
    return { paired, restore: () => addon.setThreads(threadsWere) };
  }
  if (pairBackward) {
    const paired = {
      names: ["tfjs's backward pass", "core's backward pass"],
      enter: () => core.setBackwardPass('tfjs'),
      leave: () => core.setBackwardPass('dlcv'),
      saving: (a, b) => a.js - b.js,
      gain: "less JavaScript with core's backward pass",
    };
    return { paired, restore: () => core.setBackwardPass('dlcv') };
  }
  if (pairStats) {
    const paired = {
      names: ['running statistics at each call', 'running statistics after the step'],
      enter: () => core.setRunningStatsDeferral(false),
      leave: () => core.setRunningStatsDeferral(true),
      saving: (a, b) => a.js - b.js,
      gain: 'less JavaScript with the running statistics after the step',
    };
    return { paired, restore: () => core.setRunningStatsDeferral(true) };
  }
  if (pairRecords) {
    const paired = {
      names: ["tensor records in tfjs's WeakMap", 'tensor records on the data ids'],
      enter: () => core.setTensorInfoStore(false),
      leave: () => core.setTensorInfoStore(true),
      saving: (a, b) => a.js - b.js,
      gain: 'less JavaScript with the records on the data ids',
    };
    return { paired, restore: () => core.setTensorInfoStore(true) };
  }
  if (pairAdam) {
    const fusedWas = core.torchAdamFused();
    try {
      core.setTorchAdamFused(true);
    } catch (e) {
      throw new Error(`host-time: --pair-adam: ${e.message}`, { cause: e });
    }
    const paired = {
      names: ['Adam in ATen foreach ops', "ATen's fused Adam"],
      enter: () => core.setTorchAdamFused(false),
      leave: () => core.setTorchAdamFused(true),
      saving: (a, b) => a.wall - b.wall,
      gain: "less wall time with ATen's fused Adam",
    };
    return { paired, restore: () => core.setTorchAdamFused(fusedWas) };
  }
  if (pairKernel !== null) {
    const kernelConfig = tf.getKernel(pairKernel, tf.getBackend());
    if (!kernelConfig) throw new Error(`host-time: --pair-kernel: the backend has no kernel ${pairKernel}`);
    const paired = {
      names: [`without ${pairKernel}`, `with ${pairKernel}`],
      enter: () => tf.unregisterKernel(pairKernel, tf.getBackend()),
      leave: () => tf.registerKernel(kernelConfig),
      saving: (a, b) => a.js - b.js,
      gain: `less JavaScript with ${pairKernel}`,
    };
    return { paired, restore: () => {} };
  }
  if (pairQueue) {
    addon.setQueue(1);
    const paired = {
      names: ['op queue off', 'op queue on'],
      enter: () => addon.setQueue(0),
      leave: () => addon.setQueue(1),
      saving: (a, b) => a.wall - b.wall,
      gain: 'less wall time with the op queue on',
    };
    return { paired, restore: restoreQueue };
  }
  if (pairSpin !== null) {
    addon.setQueue(1);
    addon.setQueueSpin(pairSpin);
    const paired = {
      names: ['op thread sleeps when idle', `op thread polls ${pairSpin} us`],
      enter: () => addon.setQueueSpin(0),
      leave: () => addon.setQueueSpin(pairSpin),
      saving: (a, b) => a.wall - b.wall,
      gain: `less wall time with the op thread polling ${pairSpin} us`,
    };
    return { paired, restore: restoreQueue };
  }
  return { paired: null, restore: () => {} };
}

(async () => {
  const eng = await core.setupEngine({ engine: 'libtorch' });
  console.log(core.describeEngine(eng));
  const byFunction = process.argv.includes('--by-function');
  const addon = tf.backend().addon;
  const t = timeAddon(addon, byFunction);
  const runs = countKernels(tf.getBackend());
  const cases = buildGpuCases({ tf, core, pkg: (n) => require(`@dlcv/${n}`), only: String(arg('only', 'dcgan,ddpm,dann')).split(','), sizes: gpuSizes(arg) });
  console.log(`\nMedians of ${STEPS} steps (each column on its own; the GC pauses' mean)\n`);
  console.log(
    "| step | wall | host issue time | of it inside the addon | of it JavaScript | of it GC pauses (mean) | ATen's work | process CPU | tfjs kernels | addon calls | JavaScript per kernel |\n|---|---|---|---|---|---|---|---|---|---|---|",
  );
  const { paired, restore } = pairing(addon);
  const ms = (v) => `${v.toFixed(1)} ms`;
  const printRow = (label, rows) => {
    const m = (key) => median(rows.map((r) => r[key]));
    // the collector pauses every few steps: a median would hide it
    const mean = (key) => rows.reduce((sum, r) => sum + r[key], 0) / rows.length;
    console.log(
      `| ${label} | ${ms(m('wall'))} | ${ms(m('issue'))} | ${ms(m('inside'))} | ${ms(m('js'))} | ${ms(mean('gc'))} | ${ms(m('aten'))} | ${ms(m('cpu'))} | ${m('kernels')} | ${m('calls')} | ${m('kernels') > 0 ? `${((1000 * m('js')) / m('kernels')).toFixed(1)} us` : '-'} |`,
    );
  };
  const pairs = [];
  const functionRows = [];
  const opRows = [];
  addon.setOpTiming(1);
  for (const c of Object.values(cases)) {
    // warm-up: the first step builds optimizer state, the next ones let V8 compile the hot paths
    for (let i = 0; i < 3; i++) await c.run();
    t.byName.clear();
    addon.takeOpTimes();
    const opTotals = new Map();
    const rows = [[], []];
    for (let i = 0; i < STEPS * (paired ? 2 : 1); i++) {
      // paired: even steps on the first side (without the kernel, or the queue off), odd on the second
      const second = !paired || i % 2 === 1;
      if (!second) paired.enter();
      const k0 = runs.n;
      const inside0 = t.insideMs;
      const calls0 = t.calls;
      t.issueEnd = null;
      const cpu0 = cpuMs();
      const t0 = now();
      let row;
      try {
        await c.run();
        const wall = now() - t0;
        const cpu = cpuMs() - cpu0;
        // the host's part: up to the step's first download (the whole step if it has none)
        const issue = (t.issueEnd ?? t0 + wall) - t0;
        const inside = (t.issueEnd === null ? t.insideMs : t.insideAtIssueEnd) - inside0;
        // ATen's work where the ops ran (the op thread when queued), without the reads' waits
        let aten = 0;
        for (const [name, [ops, opMs]] of Object.entries(addon.takeOpTimes())) {
          if (!READS.has(name)) aten += opMs;
          const own = opTotals.get(name) ?? { ms: 0, ops: 0 };
          opTotals.set(name, { ms: own.ms + opMs, ops: own.ops + ops });
        }
        row = { wall, issue, inside, js: issue - inside, aten, cpu, kernels: runs.n - k0, calls: t.calls - calls0, from: t0, to: t0 + issue };
      } finally {
        // after the measurement: switching back is no part of the step
        if (!second) paired.leave();
      }
      rows[second ? 1 : 0].push(row);
    }
    // the observer's entries of the last step arrive once the event loop has turned
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (const row of [...rows[0], ...rows[1]]) row.gc = gcWithin(row.from, row.to);
    if (byFunction) {
      const steps = rows[0].length + rows[1].length;
      const top = [...t.byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
      functionRows.push(`| ${c.label} | ${top.map(([name, v]) => `${name} ${(v.ms / steps).toFixed(2)} ms (${Math.round(v.calls / steps)})`).join(', ')} |`);
      const topOps = [...opTotals].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8);
      opRows.push(`| ${c.label} | ${topOps.map(([name, v]) => `${name} ${(v.ms / steps).toFixed(2)} ms (${Math.round(v.ops / steps)})`).join(', ')} |`);
    }
    if (!paired) {
      printRow(c.label, rows[1]);
      continue;
    }
    printRow(`${c.label}, ${paired.names[0]}`, rows[0]);
    printRow(`${c.label}, ${paired.names[1]}`, rows[1]);
    const saved = rows[0].map((r, i) => paired.saving(r, rows[1][i]));
    pairs.push(`${c.label}: ${ms(median(saved))} ${paired.gain} (median of ${saved.length} paired steps)`);
  }
  restore();
  if (pairs.length) console.log(`\n${pairs.join('\n')}`);
  if (byFunction) {
    console.log('\nThe addon functions of a step, the most time first: ms a step (calls a step), means over the measured steps\n');
    console.log(`| step | addon functions |\n|---|---|\n${functionRows.join('\n')}`);
    console.log("\nATen's work of a step by op, where the ops ran, the most time first (reads include their wait for the device): ms a step (ops a step)\n");
    console.log(`| step | ops |\n|---|---|\n${opRows.join('\n')}`);
  }
  addon.setOpTiming(0);
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
