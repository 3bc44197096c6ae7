#!/usr/bin/env node
// gpu-check.sh's record of the ddpm gpu preset's run, one JSON object on stdout:
//   node tools/device/ddpm-summary.js RUN_DIR LOG_DIR TRAIN_SECONDS SAMPLE_SECONDS
// steps (metrics.jsonl's lines), steps/s over the whole train command (start-up, data, the
// grids and checkpoints included) and the trainer's own s/step of its last epoch, the images
// written and images/s over the whole sample command, and the grader's accuracy with the
// homework's classifier and with the strict one (from LOG_DIR/grade.log, `dlcv-eval digits
// --json`; the trainer's lines from LOG_DIR/ddpm-train.log).
// For the sampling target, PyTorch's time for the same chain: the sampler's steps (ddpm-sample.log)
// times PyTorch's U-Net forward at the sample batch from the bench run of the same precision
// (bench-tf32-<0|1>.log, else the ddpm part's bench-ddpm-tf32-<0|1>.log), and over it our
// sampling (the command's own "wrote N images ... in X s": the chain and the PNGs, after start-up
// and the model's loading) and our whole sample command; guided_forward says whether ours ran the
// U-Net's down path once per image, where PyTorch's forward runs the whole batch; step_replay is
// the trainer's replay line (DLCV_STEP_REPLAY=1). Missing pieces are null. The grades at
// other guidance weights (gpu-check.sh's DDPM_EXTRA_W: LOG_DIR/grade-w<W>.log) go to other_w.
'use strict';
const fs = require('fs');
const path = require('path');

const [runDir, logDir, trainS, sampleS] = process.argv.slice(2);
if (!sampleS) {
  console.error('usage: ddpm-summary.js RUN_DIR LOG_DIR TRAIN_SECONDS SAMPLE_SECONDS');
  process.exit(2);
}

const read = (file) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
};
const rate = (n, s) => (n && Number(s) > 0 ? Number((n / Number(s)).toFixed(3)) : null);

const metrics = read(path.join(runDir, 'metrics.jsonl'));
const steps = metrics === null ? null : metrics.split('\n').filter((l) => l.trim()).length;
const trainLog = read(path.join(logDir, 'ddpm-train.log')) ?? '';
const perStep = [...trainLog.matchAll(/epoch \d+\/\d+: .*?([\d.]+) s\/step/g)].map((m) => Number(m[1]));
const engine = /^engine: .*$/m.exec(trainLog)?.[0] ?? null;
let images = null;
try {
  images = fs.readdirSync(path.join(runDir, 'samples-graded')).filter((f) => f.endsWith('.png')).length;
} catch {
  // not sampled
}
const gradeLog = read(path.join(logDir, 'grade.log')) ?? '';
// the homework's classifier (the grade), and eval's strict one beside it
/** { accuracy, strictAccuracy } of a `dlcv-eval digits --json` log, null when it has none. */
function grades(log) {
  try {
    const graded = JSON.parse(log.slice(log.indexOf('{')));
    return { accuracy: graded.accuracy ?? null, strictAccuracy: graded.strict?.accuracy ?? null };
  } catch {
    return { accuracy: null, strictAccuracy: null }; // not graded
  }
}
const { accuracy, strictAccuracy } = grades(gradeLog);
let logNames = [];
try {
  logNames = fs.readdirSync(logDir);
} catch {
  // no logs
}
const otherW = logNames
  .map((f) => /^grade-w(.+)\.log$/.exec(f))
  .filter((m) => m !== null)
  .map((m) => {
    const g = grades(read(path.join(logDir, m[0])) ?? '');
    return { w: Number(m[1]), accuracy: g.accuracy, strict_accuracy: g.strictAccuracy };
  })
  .sort((a, b) => a.w - b.w);

const chain = /: (ddpm|ddim) (\d+) steps/.exec(read(path.join(logDir, 'ddpm-sample.log')) ?? '');
const sampleLog = read(path.join(logDir, 'ddpm-sample.log')) ?? '';
const loop = /^wrote \d+ images to .* in ([\d.]+) s$/m.exec(sampleLog);
const sampleLoopS = loop ? Number(loop[1]) : null;
const tf32 = process.env.DLCV_TF32 === '1' ? 1 : 0;
const benchLog = read(path.join(logDir, `bench-tf32-${tf32}.log`)) ?? read(path.join(logDir, `bench-ddpm-tf32-${tf32}.log`)) ?? '';
const row = /^\| DDPM U-Net forward, batch (\d+)[^|]*\| ([\d.]+) (ms|s) \|/m.exec(benchLog);
const torchForward = row ? Number(row[2]) / (row[3] === 'ms' ? 1000 : 1) : null;
const torchSample = chain && torchForward !== null ? Number(chain[2]) * torchForward : null;

const summary = {
  preset: 'gpu',
  engine,
  tf32: process.env.DLCV_TF32 === '1',
  deterministic: process.env.DLCV_TORCH_DETERMINISTIC !== '0',
  steps,
  train_s: Number(trainS),
  steps_per_s: rate(steps, trainS),
  last_epoch_s_per_step: perStep.length ? perStep[perStep.length - 1] : null,
  // the trainer's last line with DLCV_STEP_REPLAY=1: the steps replayed, or why none was
  step_replay: /^step replay: (.*)$/m.exec(trainLog)?.[1] ?? null,
  images,
  sample_s: Number(sampleS),
  images_per_s: rate(images, sampleS),
  accuracy,
  strict_accuracy: strictAccuracy,
  sampler: chain ? `${chain[1]} ${chain[2]} steps` : null,
  // guidance's two rows an image through the whole U-Net, or its down path once per image
  // (`sample --guided-forward`; the sampler's line names the latter)
  guided_forward: chain ? (/, the down path once per image/.test(sampleLog) ? 'shared' : 'full') : null,
  pytorch_forward_batch: row ? Number(row[1]) : null,
  pytorch_forward_s: torchForward,
  pytorch_sample_s: torchSample === null ? null : Number(torchSample.toFixed(2)),
  sample_loop_s: sampleLoopS,
  sample_loop_ratio: torchSample && sampleLoopS !== null ? Number((sampleLoopS / torchSample).toFixed(3)) : null,
  sample_ratio: torchSample ? Number((Number(sampleS) / torchSample).toFixed(3)) : null,
  other_w: otherW,
};
console.log(JSON.stringify(summary, null, 2));
