/**
 * The homework's DANN tables from run results: the 3 x 2 table (lower bound, DANN, upper bound
 * for MNIST-M -> SVHN and MNIST-M -> USPS, with MNIST-M -> MNIST-M beside them as in the report)
 * and the full source x target matrix (rows: the domain trained on, columns: the val.csv scored).
 */
import { DOMAINS, SCENARIOS, type Domain, type Scenario } from '../data';
import type { RunResult } from '../result';

/** SPEC.md's DANN baselines (target val accuracy). */
export const BASELINES: Record<'svhn' | 'usps', number> = { svhn: 0.4, usps: 0.76 };

export interface DannTables {
  /** [row][column] accuracy or null (not run / not applicable). Columns: mnistm, svhn, usps targets. */
  table: {
    lowerBound: (number | null)[];
    /** The lower bound's model with BatchNorm statistics re-estimated on the target's unlabelled train images. */
    sourceBn: (number | null)[];
    dann: (number | null)[];
    upperBound: (number | null)[];
  };
  /** matrix[trained on][scored on] */
  matrix: Record<Domain, Record<Domain, number | null>>;
  data: Record<string, string>;
  selection: Record<string, string>;
  bestEpoch: Record<string, number>;
  config: RunResult['config'] | null;
}

/** `sourceBn`: target val accuracy of the source-only model after reestimateBatchNorm, per scenario. */
export function buildTables(results: RunResult[], sourceBn: Partial<Record<Scenario, number>> = {}): DannTables {
  const only = (d: Domain) => results.find((r) => r.spec.labelled === d && !r.spec.unlabelled);
  const dann = (t: Domain) => results.find((r) => r.spec.labelled === 'mnistm' && r.spec.unlabelled === t);
  const acc = (r: RunResult | undefined, d: Domain) => r?.accuracy[d] ?? null;
  const matrix = {} as DannTables['matrix'];
  for (const s of DOMAINS) {
    matrix[s] = {} as Record<Domain, number | null>;
    for (const t of DOMAINS) matrix[s][t] = acc(only(s), t);
  }
  const data: Record<string, string> = {};
  for (const r of results) Object.assign(data, r.data);
  return {
    table: {
      lowerBound: DOMAINS.map((t) => acc(only('mnistm'), t)),
      sourceBn: DOMAINS.map((t) => (t === 'mnistm' ? null : (sourceBn[t] ?? null))),
      dann: DOMAINS.map((t) => (t === 'mnistm' ? null : acc(dann(t), t))),
      upperBound: DOMAINS.map((t) => acc(only(t), t)),
    },
    matrix,
    data,
    selection: Object.fromEntries(results.map((r) => [r.name, r.selection])),
    bestEpoch: Object.fromEntries(results.map((r) => [r.name, r.bestEpoch])),
    config: results[0]?.config ?? null,
  };
}

export const pct = (v: number | null) => (v === null ? 'x' : `${(v * 100).toFixed(2)}%`);
export const NAMES: Record<Domain, string> = { mnistm: 'MNIST-M', svhn: 'SVHN', usps: 'USPS' };

export function tablesMarkdown(t: DannTables, command: string): string {
  const head = DOMAINS.map((d) => `MNIST-M -> ${NAMES[d]}`);
  const lines = [
    '# DANN: MNIST-M -> SVHN and MNIST-M -> USPS',
    '',
    `Command: \`${command}\``,
    '',
    `Data: ${DOMAINS.map((d) => `${NAMES[d]} = ${t.data[d] ?? '(not used)'}`).join('; ')}.`,
    '',
    `| | ${head.join(' | ')} |`,
    `|---|${head.map(() => '---').join('|')}|`,
    `| Trained on source (lower bound) | ${t.table.lowerBound.map(pct).join(' | ')} |`,
    `| Source, BN statistics re-estimated on target (no labels) | ${t.table.sourceBn.map(pct).join(' | ')} |`,
    `| Adaptation (DANN) | ${t.table.dann.map(pct).join(' | ')} |`,
    `| Trained on target (upper bound) | ${t.table.upperBound.map(pct).join(' | ')} |`,
    `| Homework baseline (DANN) | x | ${SCENARIOS.map((s) => pct(BASELINES[s])).join(' | ')} |`,
    '',
    'Accuracy on the target val.csv. Source x target (rows: trained on; columns: val.csv scored):',
    '',
    `| Source \\ Target | ${DOMAINS.map((d) => NAMES[d]).join(' | ')} |`,
    `|---|${DOMAINS.map(() => '---').join('|')}|`,
    ...DOMAINS.map((s) => `| ${NAMES[s]} | ${DOMAINS.map((d) => pct(t.matrix[s][d])).join(' | ')} |`),
    '',
    'Model selection: ' +
      Object.entries(t.selection)
        .map(([run, note]) => `${run}: ${note} (epoch ${t.bestEpoch[run]})`)
        .join('; ') +
      '.',
    '',
  ];
  if (t.config)
    lines.push(
      `Settings: ${t.config.epochs} epochs, batch ${t.config.batchSize}, Adam lr ${t.config.lr}, seed ${t.config.seed}${t.config.trainLimit ? `, first ${t.config.trainLimit} images of each train.csv` : ''}.`,
      '',
    );
  return lines.join('\n');
}
