// core's PyTorch mirrors (python/torch_reference.py), where a Python with torch exists.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { findTorchPython, timeTorchReference, TORCH_MALLOC_ENV, TORCH_REFERENCE_SCRIPT, torchPythonEnv } from './torch-python';

const { python } = findTorchPython();
const maybe = python ? test : test.skip;
const note = python ? '' : ' (skipped: no Python with torch)';

maybe(`times the named cases and reports torch, threads and BLAS${note}`, () => {
  const r = timeTorchReference(['dann_forward', 'dcgan_forward'], { batch: 2, width: 8, steps: 2, warmup: 0, threads: 1 });
  if (typeof r === 'string') throw new Error(r);
  expect(r.threads).toBe(1);
  expect(r.blas.info).toEqual(expect.any(String));
  expect(Object.keys(r.cases).sort()).toEqual(['dann_forward', 'dcgan_forward']);
  for (const c of Object.values(r.cases)) {
    expect(c!.seconds).toHaveLength(2);
    for (const s of c!.seconds) expect(s).toBeGreaterThan(0);
  }
  // The report's DANN, layer by layer: extractor, label predictor, domain classifier.
  const extractor = 1 * 32 * 9 + 32 + 2 * 32 + (32 * 64 * 9 + 64) + 2 * 64 + (3136 * 1024 + 1024) + 2 * 1024;
  const head = (out: number) => 1024 * 50 + 50 + 2 * 50 + (50 * out + out);
  expect(r.cases.dann_forward!.params).toBe(extractor + head(10) + head(1));
  // The DCGAN tutorial's generator at ngf 8: transposed convs (no bias) and batch norms.
  const ngf = 8;
  const g = 100 * ngf * 8 * 16 + 2 * ngf * 8 + ngf * 8 * ngf * 4 * 16 + 2 * ngf * 4 + ngf * 4 * ngf * 2 * 16 + 2 * ngf * 2 + ngf * 2 * ngf * 16 + 2 * ngf + ngf * 3 * 16;
  expect(r.cases.dcgan_forward!.params).toBe(g);
});

maybe(`names an unknown case in its error${note}`, () => {
  const r = spawnSync(python as string, ['-B', TORCH_REFERENCE_SCRIPT, 'time', 'ddpm_sideways'], { encoding: 'utf8' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/unknown case ddpm_sideways/);
});

maybe(`serve mode builds a family for each case's batch, width and n_feat, and names a bad option${note}`, () => {
  const commands = ['info', 'run ddpm_train batch=2 n_feat=8', 'run ddpm_forward batch=3 n_feat=8', 'run dcgan_forward batch=2 width=8', 'run dann_train batch=2 widht=3', 'quit'];
  const r = spawnSync(python as string, ['-B', TORCH_REFERENCE_SCRIPT, 'serve', '--threads', '1', '--device', 'cpu'], { input: commands.join('\n') + '\n', encoding: 'utf8' });
  expect(r.status).toBe(0);
  const [info, train, forward, dcgan, bad] = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(info).toMatchObject({ device: 'cpu', threads: 1 });
  for (const step of [train, forward, dcgan]) expect(step!.t).toBeGreaterThan(0);
  expect(bad!.error).toMatch(/bad option 'widht=3'/);
});

maybe(`serve's memory command reports the most a step allocates above its start: more for a larger batch, at least its own inputs${note}`, () => {
  const commands = ['memory ddpm_train batch=4 n_feat=8', 'memory ddpm_train batch=16 n_feat=8', 'memory dann_sideways', 'quit'];
  const r = spawnSync(python as string, ['-B', TORCH_REFERENCE_SCRIPT, 'serve', '--threads', '1', '--device', 'cpu'], { input: commands.join('\n') + '\n', encoding: 'utf8' });
  expect(r.status).toBe(0);
  const [small, large, bad] = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { peak?: number; method?: string; error?: string });
  // the step draws x, its noise and x_t: three [b, 3, 28, 28] float32 tensors alive together
  for (const [m, b] of [[small!, 4] as const, [large!, 16] as const]) expect(m.peak).toBeGreaterThanOrEqual(3 * b * 3 * 28 * 28 * 4);
  expect(large!.peak).toBeGreaterThan(small!.peak! * 2);
  expect(small!.method).toMatch(/profiler's memory events/);
  expect(bad!.error).toMatch(/unknown case dann_sideways/);
});

maybe(`profile mode tables one step's ops, the most time first, and takes one case${note}`, () => {
  const r = spawnSync(python as string, ['-B', TORCH_REFERENCE_SCRIPT, 'profile', 'ddpm_forward', '--forward-batch', '2', '--n-feat', '8', '--threads', '1', '--warmup', '1'], {
    encoding: 'utf8',
  });
  expect(r.stderr).not.toMatch(/Error/);
  expect(r.status).toBe(0);
  const [title, header, , ...rows] = r.stdout.trim().split('\n');
  expect(title).toMatch(/^PyTorch \S+ profile of ddpm_forward on cpu \(one step; self CPU time sum [\d.]+ ms; [1-9]\d* ATen op calls with the nested ones, 0 kernel launches\)$/);
  expect(header).toBe('| op | calls | device ms | host ms |');
  const hostMs = rows.map((row) => Number(row.split('|')[4]));
  expect(rows.length).toBeGreaterThan(0);
  expect(rows.some((row) => row.startsWith('| aten::') && row.includes('conv'))).toBe(true);
  expect(hostMs).toEqual([...hostMs].sort((a, b) => b - a));
  const two = spawnSync(python as string, ['-B', TORCH_REFERENCE_SCRIPT, 'profile', 'ddpm_forward', 'dann_forward'], { encoding: 'utf8' });
  expect(two.status).not.toBe(0);
  expect(two.stderr).toMatch(/profile: name one case/);
});

maybe(`--device cuda without a CUDA device is an error that says so${note}`, () => {
  const seen = spawnSync(python as string, ['-c', 'import torch; print(torch.cuda.is_available())'], { encoding: 'utf8' });
  if (seen.stdout.trim() === 'True') return; // a CUDA machine: the bench's GPU rows cover it
  const r = spawnSync(python as string, ['-B', TORCH_REFERENCE_SCRIPT, 'time', 'dann_forward', '--device', 'cuda'], { encoding: 'utf8' });
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/--device cuda, but torch sees no CUDA device/);
});

maybe(`on CUDA, TF32 and deterministic algorithms follow DLCV_TF32 and DLCV_TORCH_DETERMINISTIC${note}`, () => {
  // set_device's CUDA branch, run where torch sees no GPU by telling it one is there
  const code = [
    'import json, sys',
    `sys.path.insert(0, ${JSON.stringify(path.dirname(TORCH_REFERENCE_SCRIPT))})`,
    'import torch, torch_reference as R',
    'torch.cuda.is_available = lambda: True',
    'R.set_device("cuda")',
    'print(json.dumps({"tf32": torch.backends.cudnn.allow_tf32, "cudnn": torch.backends.cudnn.deterministic, "benchmark": torch.backends.cudnn.benchmark, "algorithms": torch.are_deterministic_algorithms_enabled()}))',
  ].join('\n');
  const run = (env: Record<string, string>) => {
    const base = { ...process.env };
    delete base.DLCV_TORCH_DETERMINISTIC; // unset: the default
    const r = spawnSync(python as string, ['-B', '-c', code], { encoding: 'utf8', env: { ...base, ...env } });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.status).toBe(0);
    return JSON.parse(r.stdout.trim()) as Record<string, boolean>;
  };
  expect(run({ DLCV_TF32: '0' })).toEqual({ tf32: false, cudnn: true, benchmark: false, algorithms: true });
  expect(run({ DLCV_TF32: '1', DLCV_TORCH_DETERMINISTIC: '0' })).toEqual({ tf32: true, cudnn: false, benchmark: false, algorithms: false });
});

test('PyTorch processes get the malloc settings the caller has not set, and keep those it has', () => {
  const env = torchPythonEnv({ PATH: '/bin', MALLOC_TOP_PAD_: '4096' });
  expect(env).toEqual({
    PATH: '/bin',
    MALLOC_TOP_PAD_: '4096',
    MALLOC_MMAP_THRESHOLD_: TORCH_MALLOC_ENV.MALLOC_MMAP_THRESHOLD_,
    MALLOC_TRIM_THRESHOLD_: TORCH_MALLOC_ENV.MALLOC_TRIM_THRESHOLD_,
  });
  // glibc reads the values as byte counts
  for (const v of Object.values(TORCH_MALLOC_ENV)) expect(v).toMatch(/^[1-9][0-9]*$/);
});

maybe(`the settings reach the PyTorch process${note}`, () => {
  const r = spawnSync(python as string, ['-c', 'import os; print(os.environ.get("MALLOC_TRIM_THRESHOLD_"))'], { encoding: 'utf8', env: torchPythonEnv() });
  expect(r.stdout.trim()).toBe(process.env.MALLOC_TRIM_THRESHOLD_ ?? TORCH_MALLOC_ENV.MALLOC_TRIM_THRESHOLD_);
});
