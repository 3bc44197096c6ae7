/**
 * Core's browser-safe part, for the report pages' scripts: in a page bundle (scripts/bundle-
 * browser.js) `@dlcv/core` resolves here, so the packages' samplers run in the page on the same
 * RNG and pixel conversions as on the command line. Nothing here may need Node or TensorFlow.js.
 */
export { Rng, rngStateSchema, type RngState } from './rng';
export { describeIssues, z } from './zod-issues';
export * from './image/pixels';
export { el, field, numberInput, select, drawImage, section } from './report/page/dom';
export type { LiveApi, LivePanel, LiveSession, LiveTensor, PageState } from './report/page/live-api';
