/**
 * The report page: reads window.DLCV_REPORT (data.js) and builds the sections, then mounts the
 * package's live panel (live.js) when the report has one. Bundled for the browser by
 * scripts/bundle-browser.js into the report's page.js.
 */
import type { ReportData, ReportRun } from '../types';
import { renderCharts } from './charts';
import { drawImage, el, section } from './dom';
import type { LiveApi, PageState } from './live-api';
import { session } from './ort';
import { commandList, configBlock, factsTable, imageSet, table } from './sections';

/** The runs side by side, each with `body`; runs with nothing to show are left out. */
function runColumns(runs: readonly ReportRun[], body: (run: ReportRun) => (HTMLElement | null)[]): HTMLElement {
  const columns = runs.map((run) => ({ run, parts: body(run) })).filter((c) => c.parts.length > 0);
  return el('div', { class: 'runs' }, ...columns.map(({ run, parts }) => el('div', { class: 'run' }, el('h3', {}, run.name), el('div', { class: 'note' }, run.dir), ...parts)));
}

async function mountLive(root: HTMLElement, data: ReportData, state: PageState): Promise<void> {
  const panel = window.dlcvLive;
  if (!data.live || !panel) return;
  const s = section(root, 'live', 'Live sampling');
  const box = el('div', { class: 'live', 'data-live': panel.kind });
  s.append(box);
  const api: LiveApi = { config: data.live.config, report: data, session, drawImage, state: state.live };
  try {
    await panel.mount(box, api);
  } catch (err) {
    state.errors.push(`live panel: ${(err as Error).message}`);
    box.append(el('p', { class: 'error' }, `The live panel failed: ${(err as Error).message}`));
  }
}

async function render(data: ReportData, state: PageState): Promise<void> {
  const root = document.getElementById('report') as HTMLElement;
  await mountLive(root, data, state);
  section(root, 'summary', 'Summary').append(table(factsTable(data.runs)), ...data.tables.map(table));
  const charts = data.charts.length ? section(root, 'curves', 'Curves') : null;
  const chartsDone = charts ? renderCharts(charts, data.charts, state) : Promise.resolve();
  if (data.runs.some((r) => r.images.length)) section(root, 'images', 'Images').append(runColumns(data.runs, (r) => r.images.map(imageSet)));
  if (data.runs.some((r) => r.commands.length)) section(root, 'commands', 'Commands').append(runColumns(data.runs, (r) => [commandList(r.commands)]));
  section(root, 'config', 'Configs').append(runColumns(data.runs, (r) => [configBlock(r.config)]));
  await chartsDone;
}

function start(): void {
  const state: PageState = { ready: false, charts: 0, chartsRendered: 0, errors: [], live: {} };
  window.dlcvPage = state;
  const data = window.DLCV_REPORT;
  if (!data) {
    state.errors.push('data.js is missing');
    document.getElementById('report')?.append(el('p', { class: 'error' }, 'The report data (data.js) did not load.'));
    state.ready = true;
    return;
  }
  render(data, state)
    .catch((err: Error) => state.errors.push(err.message))
    .finally(() => (state.ready = true));
}

start();
