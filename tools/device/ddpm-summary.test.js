// ddpm-summary.js, which writes a device call's ddpm-gpu.json, on the logs of the H200 run of
// 2026-11-30 (docs/gpu-runs): it must give back the figures it gave there, and read the grades of
// other guidance weights and missing pieces as gpu-check.sh leaves them.
/* global describe, test, expect, beforeEach, afterEach */
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.resolve(__dirname, '..', '..');
const h200 = path.join(root, 'docs', 'gpu-runs', '2026-11-30-h200', '2-ddpm');
const script = path.join(__dirname, 'ddpm-summary.js');

/** gpu-check.sh's step logs: steps.log holds them one after another under "=== NAME: exit N". */
function splitSteps(stepsLog, into) {
  let name = null;
  let lines = [];
  const flush = () => name && fs.writeFileSync(path.join(into, `${name}.log`), lines.join('\n'));
  for (const line of stepsLog.split('\n')) {
    const header = /^=== ([\w-]+)(: exit \d+)?$/.exec(line);
    if (!header) {
      lines.push(line);
      continue;
    }
    flush();
    [name, lines] = [header[1], []];
  }
  flush();
}

/** A run folder as the ddpm part leaves it: metrics.jsonl (a line a step) and the graded PNGs. */
function runFolder(dir, steps, images) {
  fs.writeFileSync(path.join(dir, 'metrics.jsonl'), Array.from({ length: steps }, (_, i) => JSON.stringify({ step: i + 1 })).join('\n') + '\n');
  fs.mkdirSync(path.join(dir, 'samples-graded'));
  for (let i = 0; i < images; i++) fs.writeFileSync(path.join(dir, 'samples-graded', `${i % 10}_${String(Math.floor(i / 10) + 1).padStart(3, '0')}.png`), '');
}

const summarize = (runDir, logDir, trainS, sampleS, env = {}) =>
  JSON.parse(execFileSync(process.execPath, [script, runDir, logDir, trainS, sampleS], { env: { ...process.env, DLCV_TORCH_DETERMINISTIC: '', ...env }, encoding: 'utf8' }));

describe('ddpm-summary.js', () => {
  let tmp;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ddpm-summary-'));
    for (const d of ['run', 'logs']) fs.mkdirSync(path.join(tmp, d));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("the H200 run's logs give the figures of its ddpm-gpu.json, the strict grade and the other weights' grades", () => {
    const logs = path.join(tmp, 'logs');
    splitSteps(fs.readFileSync(path.join(h200, 'steps.log'), 'utf8'), logs);
    for (const f of ['ddpm-train.log', 'bench-ddpm-tf32-1.log']) fs.copyFileSync(path.join(h200, f), path.join(logs, f));
    // DDPM_EXTRA_W='3 4': one graded, one whose grading failed
    const grade = fs.readFileSync(path.join(logs, 'grade.log'), 'utf8');
    fs.writeFileSync(path.join(logs, 'grade-w3.log'), grade.replace('"accuracy": 0.989', '"accuracy": 0.993'));
    fs.writeFileSync(path.join(logs, 'grade-w4.log'), 'dlcv-eval digits: no images\n');
    runFolder(path.join(tmp, 'run'), 3000, 1000);
    const recorded = JSON.parse(fs.readFileSync(path.join(h200, 'ddpm-gpu.json'), 'utf8'));
    const summary = summarize(path.join(tmp, 'run'), logs, String(recorded.train_s), String(recorded.sample_s), { DLCV_TF32: '1' });
    for (const [key, value] of Object.entries(recorded)) expect([key, summary[key]]).toEqual([key, value]);
    expect(summary.strict_accuracy).toBe(0.995);
    // that day's steps were not replayed: the trainer wrote no replay line
    expect(summary.step_replay).toBeNull();
    const trainLog = path.join(logs, 'ddpm-train.log');
    fs.appendFileSync(trainLog, 'step replay: 2997 steps replayed\n');
    expect(summarize(path.join(tmp, 'run'), logs, '1', '1', { DLCV_TF32: '1' }).step_replay).toBe('2997 steps replayed');
    // that day's sampler ran the whole U-Net on both rows of an image; today's line names the shared down path
    expect(summary.guided_forward).toBe('full');
    const sampleLog = path.join(logs, 'ddpm-sample.log');
    fs.writeFileSync(
      sampleLog,
      fs.readFileSync(sampleLog, 'utf8').replace(', guidance and updates on the device', ', the down path once per image, guidance and updates on the device'),
    );
    expect(summarize(path.join(tmp, 'run'), logs, '1', '1', { DLCV_TF32: '1' }).guided_forward).toBe('shared');
    expect(summary.other_w).toEqual([
      { w: 3, accuracy: 0.993, strict_accuracy: 0.995 },
      { w: 4, accuracy: null, strict_accuracy: null },
    ]);
  });

  test('a run that stopped early: what is missing is null, the rest still reported', () => {
    fs.copyFileSync(path.join(h200, 'ddpm-train.log'), path.join(tmp, 'logs', 'ddpm-train.log'));
    const summary = summarize(path.join(tmp, 'run'), path.join(tmp, 'logs'), '200', '0', { DLCV_TF32: '0' });
    expect(summary).toMatchObject({ tf32: false, steps: null, train_s: 200, steps_per_s: null, last_epoch_s_per_step: 0.09, images: null, images_per_s: null });
    expect(summary).toMatchObject({
      accuracy: null,
      strict_accuracy: null,
      sampler: null,
      guided_forward: null,
      step_replay: null,
      pytorch_forward_s: null,
      pytorch_sample_s: null,
      sample_ratio: null,
      other_w: [],
    });
    expect(summary.engine).toMatch(/^engine: libtorch .*NVIDIA H200/);
  });

  test('without its four arguments it says how to call it', () => {
    expect(() => execFileSync(process.execPath, [script, tmp], { stdio: 'pipe' })).toThrow(/usage: ddpm-summary\.js RUN_DIR LOG_DIR TRAIN_SECONDS SAMPLE_SECONDS/);
  });
});
