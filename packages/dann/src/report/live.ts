/**
 * The report page's live panel for DANN runs (bundled into the report's live.js): draw a digit,
 * or drop or choose an image, and see what each run's network (source only, DANN, target only)
 * predicts. The image becomes the networks' input as `predict` makes it: grey, 28x28, pixels
 * scaled to [-1, 1] by core's pixelsToFloat; the networks are their ONNX exports.
 */
import { drawImage, el, pixelsToFloat, type LiveApi, type LivePanel } from '@dlcv/core/browser';
import { liveConfigSchema, softmax, toGrey, type LiveConfig } from './live-config';

const PEN_ZOOM = 8;

/** RGBA pixels of a canvas region as grey uint8. */
function greyOf(ctx: CanvasRenderingContext2D, size: number): Uint8Array {
  const { data } = ctx.getImageData(0, 0, size, size);
  const out = new Uint8Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = toGrey(data[4 * i] as number, data[4 * i + 1] as number, data[4 * i + 2] as number);
  return out;
}

/** An image drawn (scaled when it is not size x size) onto a size x size canvas, as grey pixels. */
function shrink(source: CanvasImageSource, size: number): Uint8Array {
  const small = el('canvas', { width: size, height: size });
  const ctx = small.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(source, 0, 0, size, size);
  return greyOf(ctx, size);
}

/** Runs every network on the grey image and fills the results table. */
async function classify(api: LiveApi, cfg: LiveConfig, grey: Uint8Array, out: HTMLElement): Promise<void> {
  const net0 = cfg.nets[0]!;
  if (cfg.nets.some((n) => n.inChannels !== 1)) throw new Error('the panel feeds grey images; a network here takes colour');
  const x = pixelsToFloat(grey, 1, { range: cfg.range });
  const rows: HTMLElement[] = [];
  const predictions: Record<string, { label: number; probs: number[] }> = {};
  for (const net of cfg.nets) {
    const session = await api.session(net.name);
    const [logits] = await session.run([{ data: x, dims: [1, net0.imageSize, net0.imageSize, 1] }]);
    const probs = softmax(logits?.data ?? []);
    const label = probs.indexOf(Math.max(...probs));
    predictions[net.name] = { label, probs };
    const bars = el(
      'div',
      { class: 'bars' },
      ...probs.flatMap((p, d) => [el('span', {}, String(d)), el('div', { class: 'bar', style: `width: ${(100 * p).toFixed(1)}%` }), el('span', {}, `${(100 * p).toFixed(1)}%`)]),
    );
    rows.push(
      el(
        'tr',
        {},
        el('th', {}, net.name),
        el('td', {}, net.role),
        el('td', { class: 'num', 'data-label': net.name }, String(label)),
        el('td', {}, el('details', {}, el('summary', {}, `${(100 * (probs[label] as number)).toFixed(1)}%`), bars)),
      ),
    );
  }
  out.replaceChildren(
    el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'run'), el('th', {}, 'what it is'), el('th', {}, 'predicts'), el('th', {}, 'confidence'))), el('tbody', {}, ...rows)),
  );
  const done = ((api.state.samples as number | undefined) ?? 0) + 1;
  Object.assign(api.state, { samples: done, predictions, input: Array.from(grey) });
  if (done === 1) api.state.firstSampleAt = performance.now();
}

/** A black drawing canvas with a white pen; `done` gets it after each stroke. */
function drawingPad(size: number, done: (canvas: HTMLCanvasElement) => void): { canvas: HTMLCanvasElement; clear: () => void } {
  const canvas = el('canvas', { width: size * PEN_ZOOM, height: size * PEN_ZOOM });
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as CanvasRenderingContext2D;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  let last: [number, number] | null = null;
  const at = (e: PointerEvent): [number, number] => [e.offsetX * (canvas.width / canvas.clientWidth), e.offsetY * (canvas.height / canvas.clientHeight)];
  canvas.addEventListener('pointerdown', (e) => {
    last = at(e);
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    Object.assign(ctx, { strokeStyle: '#fff', lineWidth: 2.2 * PEN_ZOOM, lineCap: 'round' });
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
  });
  canvas.addEventListener('pointerup', () => {
    last = null;
    done(canvas);
  });
  return { canvas, clear };
}

function mount(container: HTMLElement, api: LiveApi): void {
  const cfg = liveConfigSchema.parse(api.config);
  const size = cfg.nets[0]!.imageSize;
  const preview = el('canvas');
  const results = el('div');
  const status = el('div', { class: 'status' });
  const run = (grey: Uint8Array) => {
    drawImage(preview, { width: size, height: size, channels: 1, data: grey }, 4);
    classify(api, cfg, grey, results).catch((err: Error) => {
      status.textContent = `failed: ${err.message}`;
      status.classList.add('error');
      api.state.error = err.message;
    });
  };
  const pad = drawingPad(size, (c) => run(shrink(c, size)));
  const file = el('input', { type: 'file', accept: 'image/*' });
  const load = async (f: File) => {
    const bitmap = await createImageBitmap(f, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
    run(shrink(bitmap, size));
  };
  file.addEventListener('change', () => void (file.files?.[0] && load(file.files[0])));
  pad.canvas.addEventListener('dragover', (e) => e.preventDefault());
  pad.canvas.addEventListener('drop', (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f) void load(f);
  });
  const clear = el('button', { type: 'button', 'data-action': 'clear' }, 'Clear');
  clear.addEventListener('click', pad.clear);
  container.append(
    el(
      'p',
      { class: 'note' },
      `Draw a digit (white on black), or drop an image on the pad or choose one: it is read as ${size}x${size} grey, as \`dlcv-dann predict\` reads images.`,
    ),
    el('div', { class: 'images draw' }, pad.canvas, el('figure', {}, preview, el('figcaption', {}, 'network input'))),
    el('div', { class: 'controls' }, clear, file),
    status,
    results,
  );
}

const panel: LivePanel = { kind: 'dann', mount };
window.dlcvLive = panel;
