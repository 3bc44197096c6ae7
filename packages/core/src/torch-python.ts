/** Finding a Python with PyTorch, for `bench` and the reference test (both optional). */
import { spawnSync } from 'node:child_process';

/** The first Python that imports torch: `explicit`, $DLCV_PYTHON, python3, then Debian's /usr/bin/python3 (python3-torch). */
export function findTorchPython(explicit?: string): { python?: string; tried: string[] } {
  const candidates = [explicit, process.env.DLCV_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const python of [...new Set(candidates)]) {
    const r = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 });
    tried.push(python);
    if (r.status === 0) return { python, tried };
  }
  return { tried };
}
