/**
 * What the report page gives a package's live panel (its live.js registers itself as
 * `window.dlcvLive` and the page mounts it): the panel's settings, ONNX sessions run by
 * onnxruntime-web, and the page's drawing helpers. Panels need no ONNX Runtime types.
 */
import type { RawImage } from '../../image/pixels';
import type { ReportData } from '../types';

export interface LiveTensor {
  data: Float32Array;
  dims: readonly number[];
}

export interface LiveSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** Runs the model on float32 inputs, in the model's input order. */
  run(inputs: LiveTensor[]): Promise<LiveTensor[]>;
}

export interface LiveApi {
  /** The panel's settings as the package's report wrote them. */
  config: unknown;
  report: ReportData;
  /** The model `name` (one of the report's live models), loaded once. */
  session(name: string): Promise<LiveSession>;
  drawImage(canvas: HTMLCanvasElement, image: RawImage, zoom?: number): void;
  /** Numbers the panel publishes for tests and measurements (time to first sample, last output). */
  state: Record<string, unknown>;
}

export interface LivePanel {
  /** The report kind it serves ('ddpm', 'gan', 'dann'). */
  kind: string;
  mount(container: HTMLElement, api: LiveApi): void | Promise<void>;
}

/** The page's state, read by the browser tests. */
export interface PageState {
  ready: boolean;
  charts: number;
  chartsRendered: number;
  errors: string[];
  live: Record<string, unknown>;
}

declare global {
  interface Window {
    DLCV_REPORT?: ReportData;
    DLCV_MODELS?: Record<string, string>;
    DLCV_ORT?: { glue: string; wasm: string };
    dlcvLive?: LivePanel;
    dlcvPage?: PageState;
  }
}
