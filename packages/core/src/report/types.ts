/**
 * What a report page shows, in two forms: `ReportInput` as the packages build it on the Node
 * side (images as files on disk, models as ONNX bytes), and `ReportData` as the page reads it
 * (images as paths inside the report folder), written into the folder's data.js.
 */

/** A key-value row of a run's summary ("steps", "12,000"). */
export type Fact = [label: string, value: string];

export interface ReportImage {
  /** The image file: an absolute path in ReportInput, a path relative to index.html in ReportData. */
  src: string;
  /** Shown under the image or beside the slider ("epoch 3"). */
  label: string;
}

export interface ReportImageSet {
  title: string;
  caption?: string;
  images: ReportImage[];
  /** Several images shown one at a time with a slider (per-epoch grids) instead of side by side. */
  slider?: boolean;
  /** CSS pixels per image pixel (small images drawn large, without smoothing). */
  zoom?: number;
}

export interface ReportCommand {
  /** What it made ("training", "the 10x10 grid"). */
  what: string;
  command: string;
  cwd?: string;
  engine?: string | null;
  /** Start time, ISO. */
  time?: string;
  seconds?: number;
  fromStep?: number;
}

export interface ReportRun {
  name: string;
  /** The run folder. */
  dir: string;
  facts: Fact[];
  /** The run's config.json as saved. */
  config: unknown;
  images: ReportImageSet[];
  commands: ReportCommand[];
}

export interface ReportChart {
  title: string;
  /** A Vega-Lite spec with its data inlined. */
  spec: Record<string, unknown>;
}

export type Cell = string | number | null;

export interface ReportTable {
  title: string;
  note?: string;
  columns: string[];
  rows: Cell[][];
  /** Per cell: 'pass' / 'fail' against a baseline, for colouring; same shape as rows. */
  marks?: (('pass' | 'fail' | null)[] | null)[];
}

/** The page's live panel: the package's browser bundle, its ONNX models and its settings. */
export interface LiveInput {
  /** The package's live-panel script (its build's dist/report/live.js). */
  script: string;
  /** ONNX files by name, for the panel's sessions. */
  models: Record<string, Uint8Array>;
  /** Settings the panel reads (model configs, defaults): JSON. */
  config: unknown;
}

export interface ReportInput {
  title: string;
  /** 'ddpm', 'gan', 'dann', 'eval': the page's kind, for the panel and the tests. */
  kind: string;
  subtitle?: string;
  runs: ReportRun[];
  charts: ReportChart[];
  tables: ReportTable[];
  live?: LiveInput;
}

export interface ReportData extends Omit<ReportInput, 'live'> {
  generated: string;
  /** The live panel's settings and model names, when the page has one. */
  live?: { config: unknown; models: string[] };
}
