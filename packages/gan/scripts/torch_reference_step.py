"""PyTorch reference for dlcv-gan's training step (used by src/torch-reference.test.ts).

Reads the JSON the tfjs side wrote (weights before, inputs, its step results and weights
after), loads the same weights into the tutorial's networks (float64), runs the tutorial's
step as many times, and prints JSON: PyTorch's losses and, per tensor, the largest difference
from the tfjs weights after the steps.
"""
import json
import sys

import numpy as np
import torch

# core's python/torch_reference.py (the test puts its folder on PYTHONPATH)
from torch_reference import discriminator, generator

CONV = (torch.nn.Conv2d, torch.nn.ConvTranspose2d)
BN = ('weight', 'bias', 'running_mean', 'running_var')


def load(model, weights):
    it = iter(weights)
    for m in model:
        if isinstance(m, CONV):
            w = next(it)
            a = np.array(w['values'], dtype=np.float64).reshape(w['shape'])
            # tfjs kernels: Conv2D [kh, kw, in, out] -> torch [out, in, kh, kw];
            # Conv2DTranspose [kh, kw, out, in] -> torch [in, out, kh, kw]: the same permutation.
            m.weight.data = torch.tensor(a.transpose(3, 2, 0, 1).copy())
        elif isinstance(m, torch.nn.BatchNorm2d):
            for attr in BN:
                getattr(m, attr).data = torch.tensor(np.array(next(it)['values'], dtype=np.float64))


def flat(model):
    out = []
    for m in model:
        if isinstance(m, CONV):
            out.append(('conv', m.weight.detach().numpy().transpose(2, 3, 1, 0).ravel()))
        elif isinstance(m, torch.nn.BatchNorm2d):
            out += [('bn.' + attr, getattr(m, attr).detach().numpy()) for attr in BN]
    return out


def main():
    d = json.load(open(sys.argv[1]))
    torch.set_default_dtype(torch.float64)
    gan, n = d['gan'], d['batch']
    g, dis = generator(gan['nz'], gan['ngf'], gan['channels']), discriminator(gan['ndf'], gan['channels'])
    load(g, d['before']['g'])
    load(dis, d['before']['d'])
    real = torch.tensor(np.array(d['before']['real']).reshape(n, 64, 64, 3).transpose(0, 3, 1, 2).copy())
    z = torch.tensor(np.array(d['before']['z']).reshape(n, 1, 1, gan['nz']).transpose(0, 3, 1, 2).copy())
    opt_d = torch.optim.Adam(dis.parameters(), lr=d['lrD'], betas=(d['beta1'], 0.999), eps=1e-8)
    opt_g = torch.optim.Adam(g.parameters(), lr=d['lrG'], betas=(d['beta1'], 0.999), eps=1e-8)
    bce = torch.nn.BCELoss()
    ones, zeros = torch.ones(n), torch.zeros(n)
    steps = []
    for _ in range(d['steps']):
        dis.zero_grad()
        err_real = bce(dis(real).view(-1), ones)
        err_real.backward()
        fake = g(z)
        err_fake = bce(dis(fake.detach()).view(-1), zeros)
        err_fake.backward()
        opt_d.step()
        g.zero_grad()
        err_g = bce(dis(fake).view(-1), ones)
        err_g.backward()
        opt_g.step()
        steps.append({'lossD': float(err_real + err_fake), 'lossG': float(err_g)})
    diffs = {}
    for key, model in (('g', g), ('d', dis)):
        got = [np.array(w['values']) for w in d['after'][key]]
        diffs[key] = [{'kind': kind, 'maxAbsDiff': float(np.max(np.abs(ref - mine)))} for (kind, ref), mine in zip(flat(model), got)]
    print(json.dumps({'torch': torch.__version__, 'steps': steps, 'diffs': diffs}))


if __name__ == '__main__':
    main()
