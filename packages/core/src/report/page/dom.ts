/** Small DOM helpers for the report page and the packages' live panels. */
import type { RawImage } from '../../image/pixels';

type Child = Node | string | null | undefined | false;

/** `el('td', { class: 'num' }, '3')`: an element with attributes (properties for on* handlers) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, unknown> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v as EventListener);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** A report section with its heading, added to the table of contents. */
export function section(root: HTMLElement, id: string, title: string): HTMLElement {
  const s = el('section', { id }, el('h2', {}, title));
  root.append(s);
  document.getElementById('toc')?.append(el('a', { href: `#${id}` }, title));
  return s;
}

/** Draws a uint8 HWC image (1, 3 or 4 channels) on `canvas`, `zoom` CSS pixels per image pixel. */
export function drawImage(canvas: HTMLCanvasElement, image: RawImage, zoom = 1): void {
  const { width, height, channels, data } = image;
  canvas.width = width;
  canvas.height = height;
  canvas.style.width = `${width * zoom}px`;
  canvas.style.height = `${height * zoom}px`;
  canvas.classList.add('pixel');
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('no 2D canvas context');
  const rgba = ctx.createImageData(width, height);
  for (let i = 0; i < width * height; i++) {
    const grey = channels === 1;
    rgba.data[4 * i] = data[i * channels] as number;
    rgba.data[4 * i + 1] = data[i * channels + (grey ? 0 : 1)] as number;
    rgba.data[4 * i + 2] = data[i * channels + (grey ? 0 : 2)] as number;
    rgba.data[4 * i + 3] = channels === 4 ? (data[i * 4 + 3] as number) : 255;
  }
  ctx.putImageData(rgba, 0, 0);
}

/** A labelled form control for a live panel's controls row. */
export function field(label: string, input: HTMLElement): HTMLLabelElement {
  return el('label', {}, label, input);
}

/** A number input. */
export function numberInput(value: number, options: { min?: number; max?: number; step?: number } = {}): HTMLInputElement {
  return el('input', { type: 'number', value, min: options.min, max: options.max, step: options.step ?? 1 });
}

/** A select of `values`, `selected` chosen. */
export function select(values: readonly string[], selected: string): HTMLSelectElement {
  return el('select', {}, ...values.map((v) => el('option', { value: v, selected: v === selected }, v)));
}
