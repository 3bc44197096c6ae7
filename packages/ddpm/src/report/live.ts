/**
 * The report page's live panel for DDPM runs (bundled for the browser into the report's
 * live.js): pick a digit, the guidance weight, the sampler and its steps, and watch the
 * denoising. The sampling is this package's own code (sampler.ts, the schedulers, core's PCG32)
 * with the U-Net's ONNX export run by onnxruntime-web, so a seed gives the images `sample`
 * writes with --runtime onnx (and, a level here and there aside, with tfjs).
 */
import { drawImage, el, field, numberInput, select, tensorToImages, type LiveApi, type LivePanel, type LiveSession } from '@dlcv/core/browser';
import { DiffusionSampler, type NoiseNet } from '../sampler';
import { makeScheduler, SAMPLERS } from '../schedulers';
import { equivalentCommand, liveConfigSchema, requestFiles, type LiveModel, type LiveRequest } from './live-config';

/** The U-Net through an ONNX session: inputs x, t, c, context_mask, as onnx-net.ts feeds them. */
function onnxNoiseNet(session: LiveSession, unet: LiveModel['unet']): NoiseNet {
  const { imageSize: s, inChannels: ch, nClasses } = unet;
  return {
    async predict(x, cond) {
      const n = cond.t.length;
      const [out] = await session.run([
        { data: x, dims: [n, s, s, ch] },
        { data: cond.t, dims: [n, 1] },
        { data: cond.c, dims: [n, nClasses] },
        { data: cond.mask, dims: [n, 1] },
      ]);
      if (!out || out.data.length !== x.length) throw new Error(`the U-Net gave ${out?.data.length ?? 0} values for ${x.length}`);
      return out.data;
    },
  };
}

/** Samples the request's images, calling `onState` with x_T and after every step. */
export async function liveSample(session: LiveSession, model: LiveModel, r: LiveRequest, onState: (x: Float32Array, step: number) => Promise<void>): Promise<Float32Array> {
  const scheduler = makeScheduler(r.sampler, model.scheduler, { steps: r.steps, eta: r.eta });
  const sampler = new DiffusionSampler(onnxNoiseNet(session, model.unet), scheduler, model.unet);
  let step = 0;
  return sampler.sample({
    labels: new Array<number>(r.count).fill(r.digit),
    noiseIds: Array.from({ length: r.count }, (_, i) => r.first - 1 + i),
    seed: r.seed,
    w: r.w,
    onStart: (x) => onState(x, 0),
    onStep: (_t, x) => onState(x, ++step),
  });
}

interface Controls {
  model: HTMLSelectElement;
  digit: HTMLSelectElement;
  first: HTMLInputElement;
  count: HTMLInputElement;
  sampler: HTMLSelectElement;
  steps: HTMLInputElement;
  w: HTMLInputElement;
  eta: HTMLInputElement;
  seed: HTMLInputElement;
}

function makeControls(models: LiveModel[]): Controls {
  const m = models[0] as LiveModel;
  const digits = Array.from({ length: m.unet.nClasses }, (_, d) => String(d));
  return {
    model: select(
      models.map((x) => x.name),
      m.name,
    ),
    digit: select(digits, '0'),
    first: numberInput(1, { min: 1, max: 999 }),
    count: numberInput(4, { min: 1, max: 10 }),
    sampler: select(SAMPLERS, m.sampling.sampler),
    steps: numberInput(m.sampling.steps, { min: 1, max: m.scheduler.num_train_timesteps }),
    w: numberInput(m.sampling.w, { step: 0.5 }),
    eta: numberInput(m.sampling.eta, { min: 0, step: 0.1 }),
    seed: numberInput(0, { min: 0 }),
  };
}

function readRequest(c: Controls): LiveRequest {
  const int = (i: HTMLInputElement, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(Number(i.value) || lo)));
  return {
    model: c.model.value,
    digit: Number(c.digit.value),
    first: int(c.first, 1, 999),
    count: int(c.count, 1, 10),
    sampler: c.sampler.value as LiveRequest['sampler'],
    steps: int(c.steps, 1, 100000),
    w: Number(c.w.value) || 0,
    eta: Math.max(0, Number(c.eta.value) || 0),
    seed: int(c.seed, 0, 2 ** 32 - 1),
  };
}

/** Runs one request from the controls, drawing every state; publishes the result in api.state. */
async function runRequest(api: LiveApi, models: LiveModel[], c: Controls, out: { canvases: HTMLElement; status: HTMLElement; command: HTMLElement }): Promise<void> {
  const r = readRequest(c);
  const model = models.find((m) => m.name === r.model) as LiveModel;
  const { imageSize: s, inChannels: ch } = model.unet;
  const canvases = Array.from({ length: r.count }, () => el('canvas'));
  out.canvases.replaceChildren(...canvases.map((cv, i) => el('figure', {}, cv, el('figcaption', {}, requestFiles(r)[i] as string))));
  out.command.textContent = `${equivalentCommand(model, r)}   # writes ${requestFiles(r).join(', ')} among its images`;
  const t0 = performance.now();
  out.status.textContent = 'loading the model...';
  const session = await api.session(model.name);
  const draw = async (x: Float32Array, step: number) => {
    tensorToImages(x, [r.count, s, s, ch]).forEach((img, i) => drawImage(canvases[i] as HTMLCanvasElement, img, 4));
    out.status.textContent = `step ${step} of ${r.steps}`;
    await new Promise((resolve) => setTimeout(resolve, 0));
  };
  const x = await liveSample(session, model, r, draw);
  const ms = performance.now() - t0;
  out.status.textContent = `${r.count} image${r.count === 1 ? '' : 's'} in ${(ms / 1000).toFixed(2)} s (${r.steps} steps, ONNX Runtime Web)`;
  const done = ((api.state.samples as number | undefined) ?? 0) + 1;
  Object.assign(api.state, { samples: done, request: r, ms, pixels: tensorToImages(x, [r.count, s, s, ch]).map((i) => Array.from(i.data)) });
  if (done === 1) api.state.firstSampleAt = performance.now();
}

function mount(container: HTMLElement, api: LiveApi): void {
  const { models } = liveConfigSchema.parse(api.config);
  const c = makeControls(models);
  const button = el('button', { type: 'button', 'data-action': 'sample' }, 'Sample');
  const out = { canvases: el('div', { class: 'images' }), status: el('div', { class: 'status' }), command: el('pre', {}) };
  button.addEventListener('click', () => {
    button.disabled = true;
    runRequest(api, models, c, out)
      .catch((err: Error) => {
        out.status.textContent = `sampling failed: ${err.message}`;
        out.status.classList.add('error');
        api.state.error = err.message;
      })
      .finally(() => (button.disabled = false));
  });
  const fields = [
    models.length > 1 ? field('model', c.model) : null,
    field('digit', c.digit),
    field('first image k', c.first),
    field('images', c.count),
    field('sampler', c.sampler),
    field('steps', c.steps),
    field('guidance w', c.w),
    field('DDIM eta', c.eta),
    field('seed', c.seed),
  ];
  container.append(
    el('p', { class: 'note' }, 'Same noise as the command line: image k of a digit starts from noise k - 1 of the seed, whatever else is sampled with it.'),
    el('div', { class: 'controls' }, ...fields, button),
    out.status,
    out.canvases,
    out.command,
  );
}

const panel: LivePanel = { kind: 'ddpm', mount };
window.dlcvLive = panel;
