"""PyTorch side of tools/parity/gan-trajectory.js: the tutorial's DCGAN step, float64 and float32.

Reads the JSON the project side wrote (its starting weights, the data file, each step's noise
and its own losses), loads the weights into core's python/torch_reference.py networks (through
the gan package's scripts/torch_reference_step.py loader), trains the same steps (gan_parity.py's
tutorial_step) on the same
batches (step s: images [s * batch, (s + 1) * batch) of the data file, wrapping) once in float64
and once in float32, and prints one JSON line: each run's per-step D and G losses.

usage: python3 gan_trajectory.py EXCHANGE.json [--threads 2]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, '..', '..', '..')
sys.path.insert(0, os.path.join(REPO, 'packages', 'core', 'python'))
sys.path.insert(0, os.path.join(REPO, 'packages', 'gan', 'scripts'))
sys.path.insert(0, HERE)
from gan_parity import tutorial_step  # noqa: E402
from torch_reference import discriminator, generator  # noqa: E402
from torch_reference_step import load  # noqa: E402


def run(d, images, dtype):
    torch.set_default_dtype(dtype)
    gan, n = d['gan'], d['batch']
    g, dis = generator(gan['nz'], gan['ngf'], gan['channels']), discriminator(gan['ndf'], gan['channels'])
    load(g, d['before']['g'])
    load(dis, d['before']['d'])
    g, dis = g.to(dtype), dis.to(dtype)
    opt_d = torch.optim.Adam(dis.parameters(), lr=d['lrD'], betas=(d['beta1'], 0.999), eps=1e-8)
    opt_g = torch.optim.Adam(g.parameters(), lr=d['lrG'], betas=(d['beta1'], 0.999), eps=1e-8)
    total = len(images)
    losses = []
    for s, zvalues in enumerate(d['zs']):
        idx = [(s * n + k) % total for k in range(n)]
        real = torch.tensor(images[idx].transpose(0, 3, 1, 2).copy(), dtype=dtype)
        z = torch.tensor(np.array(zvalues).reshape(n, gan['nz'], 1, 1), dtype=dtype)
        loss_d, loss_g, _ = tutorial_step(g, dis, opt_d, opt_g, real, z)
        losses.append({'lossD': loss_d, 'lossG': loss_g})
    return losses


def main():
    p = argparse.ArgumentParser()
    p.add_argument('exchange')
    p.add_argument('--threads', type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    d = json.load(open(args.exchange))
    images = np.fromfile(d['data'], dtype=np.float32).reshape(d['images'], 64, 64, 3)
    out = {'torch': torch.__version__}
    for name, dtype in (('float64', torch.float64), ('float32', torch.float32)):
        out[name] = run(d, images, dtype)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
