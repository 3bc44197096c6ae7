/**
 * The report page's live panel for DCGAN runs (bundled into the report's live.js): faces (or
 * digits) from a seed, the same images `generate --seed S --runtime onnx` writes as 0000.png...,
 * and a walk between two of them. Noise comes from core's PCG32 on the generate stream, as on
 * the command line; the generator is its ONNX export (precise BatchNorm statistics baked in).
 */
import { drawImage, el, field, numberInput, Rng, select, tensorToImages, type LiveApi, type LivePanel, type LiveSession } from '@dlcv/core/browser';
import { STREAMS } from '../streams';
import { equivalentCommand, liveConfigSchema, slerp, type LiveGenerator } from './live-config';

/** The first `count` noise vectors of `seed`, as generateBatches draws them (image i: normals [i nz, (i + 1) nz)). */
export function seedNoise(seed: number, count: number, nz: number): Float32Array {
  return new Rng(seed, STREAMS.generate).normalArray(count * nz);
}

async function generate(session: LiveSession, m: LiveGenerator, z: Float32Array): Promise<Uint8Array[]> {
  const n = z.length / m.nz;
  const [out] = await session.run([{ data: z, dims: [n, 1, 1, m.nz] }]);
  if (!out || out.dims.length !== 4) throw new Error(`the generator gave an output of shape [${out?.dims.join(', ') ?? ''}]`);
  return tensorToImages(out.data, out.dims as [number, number, number, number]).map((i) => i.data);
}

function show(box: HTMLElement, m: LiveGenerator, images: Uint8Array[], labels: string[]): void {
  box.replaceChildren(
    ...images.map((data, i) => {
      const canvas = el('canvas');
      drawImage(canvas, { width: m.imageSize, height: m.imageSize, channels: m.channels as 1 | 3, data }, 2);
      return el('figure', {}, canvas, el('figcaption', {}, labels[i] as string));
    }),
  );
}

interface Ui {
  model: HTMLSelectElement;
  seed: HTMLInputElement;
  count: HTMLInputElement;
  seedB: HTMLInputElement;
  indexA: HTMLInputElement;
  indexB: HTMLInputElement;
  frames: HTMLInputElement;
  status: HTMLElement;
  command: HTMLElement;
  faces: HTMLElement;
  walk: HTMLElement;
}

async function drawSeed(api: LiveApi, models: LiveGenerator[], ui: Ui): Promise<void> {
  const m = models.find((x) => x.name === ui.model.value) as LiveGenerator;
  const seed = Math.max(0, Math.round(Number(ui.seed.value))),
    count = Math.min(64, Math.max(1, Math.round(Number(ui.count.value))));
  const t0 = performance.now();
  const images = await generate(await api.session(m.name), m, seedNoise(seed, count, m.nz));
  show(
    ui.faces,
    m,
    images,
    images.map((_, i) => `${String(i).padStart(4, '0')}.png`),
  );
  ui.command.textContent = equivalentCommand(m, seed, count);
  ui.status.textContent = `${count} images in ${((performance.now() - t0) / 1000).toFixed(2)} s (ONNX Runtime Web)`;
  const done = ((api.state.samples as number | undefined) ?? 0) + 1;
  Object.assign(api.state, { samples: done, request: { seed, count }, pixels: images.map((d) => Array.from(d)) });
  if (done === 1) api.state.firstSampleAt = performance.now();
}

async function drawWalk(api: LiveApi, models: LiveGenerator[], ui: Ui): Promise<void> {
  const m = models.find((x) => x.name === ui.model.value) as LiveGenerator;
  const int = (i: HTMLInputElement, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(Number(i.value) || 0)));
  const a = int(ui.indexA, 0, 999),
    b = int(ui.indexB, 0, 999),
    frames = int(ui.frames, 2, 16);
  const za = seedNoise(int(ui.seed, 0, 2 ** 32 - 1), a + 1, m.nz).slice(a * m.nz);
  const zb = seedNoise(int(ui.seedB, 0, 2 ** 32 - 1), b + 1, m.nz).slice(b * m.nz);
  const z = new Float32Array(frames * m.nz);
  for (let f = 0; f < frames; f++) z.set(slerp(za, zb, f / (frames - 1)), f * m.nz);
  const images = await generate(await api.session(m.name), m, z);
  show(
    ui.walk,
    m,
    images,
    images.map((_, f) => `t = ${(f / (frames - 1)).toFixed(2)}`),
  );
  api.state.walk = images.length;
}

function button(label: string, action: string, run: () => Promise<void>, status: HTMLElement): HTMLButtonElement {
  const b = el('button', { type: 'button', 'data-action': action }, label);
  b.addEventListener('click', () => {
    b.disabled = true;
    run()
      .catch((err: Error) => {
        status.textContent = `failed: ${err.message}`;
        status.classList.add('error');
      })
      .finally(() => (b.disabled = false));
  });
  return b;
}

function mount(container: HTMLElement, api: LiveApi): void {
  const { models } = liveConfigSchema.parse(api.config);
  const ui: Ui = {
    model: select(
      models.map((m) => m.name),
      models[0]!.name,
    ),
    seed: numberInput(0, { min: 0 }),
    count: numberInput(16, { min: 1, max: 64 }),
    seedB: numberInput(1, { min: 0 }),
    indexA: numberInput(0, { min: 0, max: 999 }),
    indexB: numberInput(0, { min: 0, max: 999 }),
    frames: numberInput(8, { min: 2, max: 16 }),
    status: el('div', { class: 'status' }),
    command: el('pre'),
    faces: el('div', { class: 'images' }),
    walk: el('div', { class: 'images' }),
  };
  container.append(
    el(
      'div',
      { class: 'controls' },
      models.length > 1 ? field('model', ui.model) : null,
      field('seed', ui.seed),
      field('images', ui.count),
      button('Generate', 'sample', () => drawSeed(api, models, ui), ui.status),
    ),
    ui.status,
    ui.faces,
    ui.command,
    el('h3', {}, 'Walk between two images'),
    el('p', { class: 'note' }, 'From image i of the seed above to image j of seed B, along the sphere the noise lives near (slerp).'),
    el(
      'div',
      { class: 'controls' },
      field('image i', ui.indexA),
      field('seed B', ui.seedB),
      field('image j', ui.indexB),
      field('frames', ui.frames),
      button('Walk', 'walk', () => drawWalk(api, models, ui), ui.status),
    ),
    ui.walk,
  );
}

const panel: LivePanel = { kind: 'gan', mount };
window.dlcvLive = panel;
