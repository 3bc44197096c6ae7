/**
 * The training draws' worker thread (started by step-draws.ts, from the build): it continues the
 * trainer's generator from the state it is given and answers each request with the next step's
 * draws (drawStep, the training thread's own code), handing the noise over without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { Rng } from '@dlcv/core/browser';
import { drawStep, type StepDrawRequest, type StepDrawSpec } from './step-draws';

const port = parentPort;
if (!port) throw new Error('step-draws-worker.js runs as a worker thread (see step-draws.ts)');
let source: { rng: Rng; spec: StepDrawSpec } | null = null;
port.on('message', (req: StepDrawRequest) => {
  try {
    if (req.type === 'open') {
      const rng = new Rng(0);
      rng.setState(req.state);
      source = { rng, spec: req.spec };
      port.postMessage({ ok: true, value: undefined });
    } else {
      if (!source) throw new Error('step draws: "draw" before "open"');
      const draws = drawStep(source.rng, source.spec);
      port.postMessage({ ok: true, value: draws }, [draws.eps.buffer as ArrayBuffer]);
    }
  } catch (e) {
    port.postMessage({ error: (e as Error).message });
  }
});
