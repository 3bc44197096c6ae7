/** The report's charts, drawn by vega-embed from the Vega-Lite specs in data.js. */
import type { ReportChart } from '../types';
import { el } from './dom';
import type { PageState } from './live-api';

type VegaEmbed = (el: HTMLElement, spec: unknown, options: Record<string, unknown>) => Promise<{ view: unknown }>;
declare const vegaEmbed: VegaEmbed;

/** Draws every chart into `parent`; each one counts in `state` when drawn, or leaves its error there. */
export async function renderCharts(parent: HTMLElement, charts: readonly ReportChart[], state: PageState): Promise<void> {
  state.charts += charts.length;
  await Promise.all(
    charts.map(async (chart) => {
      const box = el('div', { class: 'chart', 'data-chart': chart.title });
      parent.append(box);
      try {
        await vegaEmbed(box, chart.spec, { actions: { export: true, source: false, compiled: false, editor: false }, renderer: 'canvas' });
        state.chartsRendered++;
        box.setAttribute('data-rendered', '1');
      } catch (err) {
        state.errors.push(`chart "${chart.title}": ${(err as Error).message}`);
        box.append(el('p', { class: 'error' }, `This chart could not be drawn: ${(err as Error).message}`));
      }
    }),
  );
}
