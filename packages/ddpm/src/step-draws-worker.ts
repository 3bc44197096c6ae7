/**
 * A training draws thread (started by step-draws.ts, from the build): answers each request with
 * `count` normals from the trainer's stream at the given state moved `skip` uint32 draws ahead,
 * and the state they leave, handing the normals over without a copy.
 */
import { parentPort } from 'node:worker_threads';
import { Rng } from '@dlcv/core/browser';
import type { NormalsRequest } from './step-draws';

const port = parentPort;
if (!port) throw new Error('step-draws-worker.js runs as a worker thread (see step-draws.ts)');
const rng = new Rng(0);
port.on('message', (req: NormalsRequest) => {
  try {
    rng.setState(req.state);
    rng.advance(req.skip);
    const values = rng.normalArray(req.count);
    port.postMessage({ ok: true, value: { values, end: rng.getState() } }, [values.buffer as ArrayBuffer]);
  } catch (e) {
    port.postMessage({ error: (e as Error).message });
  }
});
