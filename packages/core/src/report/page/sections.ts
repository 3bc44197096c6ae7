/** The report's static sections: facts side by side, tables, image sets, commands, configs. */
import type { Cell, ReportCommand, ReportImageSet, ReportRun, ReportTable } from '../types';
import { el } from './dom';

function cell(tag: 'td' | 'th', value: Cell, mark?: 'pass' | 'fail' | null): HTMLTableCellElement {
  const numeric = typeof value === 'number' || (typeof value === 'string' && /^[\d.,%+-]+\s?\S*$/.test(value) && /\d/.test(value));
  const cls = [numeric ? 'num' : '', mark ?? ''].filter(Boolean).join(' ');
  return el(tag, { class: cls || undefined }, value === null ? '-' : typeof value === 'number' ? value.toLocaleString('en-US') : value);
}

export function table(t: ReportTable): HTMLElement {
  const head = el('tr', {}, ...t.columns.map((c) => el('th', {}, c)));
  const body = t.rows.map((row, r) => el('tr', {}, ...row.map((v, c) => cell(c === 0 ? 'th' : 'td', v, t.marks?.[r]?.[c]))));
  return el(
    'div',
    { class: 'table', 'data-table': t.title },
    el('h3', {}, t.title),
    el('table', {}, el('thead', {}, head), el('tbody', {}, ...body)),
    t.note ? el('p', { class: 'note' }, t.note) : null,
  );
}

/** Facts of every run as one table: a row per fact, a column per run. */
export function factsTable(runs: readonly ReportRun[]): ReportTable {
  const labels: string[] = [];
  for (const r of runs) for (const [k] of r.facts) if (!labels.includes(k)) labels.push(k);
  return {
    title: runs.length > 1 ? 'Runs side by side' : 'Run',
    columns: ['', ...runs.map((r) => r.name)],
    rows: labels.map((k) => [k, ...runs.map((r) => r.facts.find(([l]) => l === k)?.[1] ?? null)]),
  };
}

function image(src: string, label: string, zoom: number | undefined): HTMLElement {
  const img = el('img', { src, alt: label, loading: 'eager', class: zoom ? 'pixel' : undefined });
  if (zoom) img.addEventListener('load', () => (img.style.width = `${img.naturalWidth * zoom}px`), { once: true });
  return el('figure', {}, img, el('figcaption', {}, label));
}

/** One image set: its images side by side, or one at a time under a slider. */
export function imageSet(set: ReportImageSet): HTMLElement {
  const box = el('div', { class: 'image-set', 'data-images': set.title }, el('h3', {}, set.title), set.caption ? el('p', { class: 'note' }, set.caption) : null);
  if (!set.slider || set.images.length < 2) {
    box.append(el('div', { class: 'images' }, ...set.images.map((i) => image(i.src, i.label, set.zoom))));
    return box;
  }
  const last = set.images.length - 1;
  const shown = image(set.images[last]!.src, set.images[last]!.label, set.zoom);
  const img = shown.querySelector('img') as HTMLImageElement;
  const caption = shown.querySelector('figcaption') as HTMLElement;
  const range = el('input', { type: 'range', min: 0, max: last, value: last, step: 1 });
  range.addEventListener('input', () => {
    const i = set.images[Number(range.value)]!;
    img.src = i.src;
    caption.textContent = i.label;
  });
  box.append(el('div', { class: 'slider' }, range, el('span', { class: 'note' }, `${set.images.length} images`)), shown);
  return box;
}

function seconds(s: number): string {
  return s < 120 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`;
}

export function commandList(commands: readonly ReportCommand[]): HTMLElement {
  const items = commands.map((c) =>
    el(
      'li',
      {},
      el('strong', {}, c.what),
      c.time
        ? ` (${c.time.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}${c.fromStep ? `, from step ${c.fromStep}` : ''}${c.seconds !== undefined ? `, ${seconds(c.seconds)}` : ''})`
        : '',
      el('pre', {}, `${c.cwd ? `cd ${c.cwd}\n` : ''}${c.command}`),
      c.engine ? el('div', { class: 'note' }, c.engine) : null,
    ),
  );
  return el('ul', { class: 'commands' }, ...items);
}

export function configBlock(config: unknown): HTMLElement {
  return el('details', {}, el('summary', {}, 'config.json'), el('pre', {}, JSON.stringify(config, null, 2)));
}
