import type { EngineInfo } from '../engine/engine';
import { gpuJobNote } from './gpu-job';

const engine = (name: EngineInfo['engine'], gpu: boolean): EngineInfo => ({ engine: name, backend: name, threads: 2, detail: '', gpu, skipped: [] });

describe('gpuJobNote', () => {
  test('on an engine whose tensors live on the CPU: names the job and the engine, and says it takes hours', () => {
    expect(gpuJobNote(engine('native', false), 'the gpu preset')).toBe(
      'note: the gpu preset is sized for a GPU engine (README "Training on a GPU"); the native engine runs it on the CPU, where it takes hours (the progress line\'s ETA says how many)',
    );
    expect(gpuJobNote(engine('libtorch', false), 'the --gpu run')).toMatch(/^note: the --gpu run is sized for a GPU engine .*; the libtorch engine runs it on the CPU/);
  });

  test('none on a GPU engine, or before an engine is set up', () => {
    expect(gpuJobNote(engine('libtorch', true), 'the gpu preset')).toBeNull();
    expect(gpuJobNote(undefined, 'the gpu preset')).toBeNull();
  });
});
