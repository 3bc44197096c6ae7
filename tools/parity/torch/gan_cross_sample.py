"""PyTorch side of tools/parity/gan-cross-sample.js: the project's trained generator, loaded into
core's python/torch_reference.py generator, sampled twice:
  - same-noise/: the project's BatchNorm statistics and noise, G in eval mode: the project's
    images again, were the two engines' forward passes the same;
  - own/: as gan_parity.py samples its own generator (precise statistics over its own noise, then
    fresh noise), from torch's generator seeded with --seed.
Reads the JSON the project side wrote ({ gan: { nz, ngf, channels }, g: the generator's weights
in tfjs layout, preciseStats: the statistics the project sampled with, [mean, var] per
BatchNorm, noise: the project's noise, count x nz }), writes the PNGs under --out and prints one
JSON line: the folders and, per BatchNorm, how far own/'s statistics are from the project's
(medians over channels of the mean's shift in the project's standard deviations and of the
variance ratio, PyTorch's over the project's).

usage: python3 gan_cross_sample.py EXCHANGE.json --out DIR [--seed 0] [--threads 2]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, '..', '..', '..')
sys.path.insert(0, os.path.join(REPO, 'packages', 'core', 'python'))
sys.path.insert(0, os.path.join(REPO, 'packages', 'gan', 'scripts'))
sys.path.insert(0, HERE)
from gan_parity import NZ, write_pngs, write_samples  # noqa: E402
from torch_reference import generator  # noqa: E402
from torch_reference_step import load  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument('exchange')
    p.add_argument('--out', required=True)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    d = json.load(open(args.exchange))
    gan = d['gan']
    if gan['nz'] != NZ:
        raise SystemExit(f"{args.exchange}: nz {gan['nz']}; gan_parity.py's sampling draws {NZ}")
    g = generator(gan['nz'], gan['ngf'], gan['channels'])
    load(g, d['g'])
    g = g.float()
    bns = [m for m in g.modules() if isinstance(m, nn.BatchNorm2d)]
    theirs = [torch.tensor(v, dtype=torch.float32) for v in d['preciseStats']]
    if len(theirs) != 2 * len(bns):
        raise SystemExit(f'{args.exchange}: {len(theirs)} statistics tensors for {len(bns)} BatchNorm layers')
    noise = torch.tensor(d['noise'], dtype=torch.float32).view(-1, NZ, 1, 1)

    same_noise = os.path.join(args.out, 'same-noise')
    for k, m in enumerate(bns):
        m.running_mean.copy_(theirs[2 * k])
        m.running_var.copy_(theirs[2 * k + 1])
    g.eval()
    write_pngs(g, noise, same_noise)

    own = os.path.join(args.out, 'own')
    write_samples(g, torch.Generator().manual_seed(args.seed), own, len(noise))
    layers = []
    for k, m in enumerate(bns):
        mean, var = theirs[2 * k], theirs[2 * k + 1]
        layers.append({'meanShiftSd': float(((m.running_mean - mean).abs() / var.sqrt()).median()),
                       'varRatio': float((m.running_var / var).median())})
    print(json.dumps({'torch': torch.__version__, 'sameNoise': same_noise, 'own': own, 'layers': layers}))


if __name__ == '__main__':
    main()
