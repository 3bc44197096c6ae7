"""Checks candidate training recipes for the `cpu` preset quickly on a GPU, in PyTorch.

The tfjs trainer on a 2-core CPU is too slow to search recipes with; this script re-runs the
same recipe (the U-Net of core's python/torch_reference.py, same schedule: 400 linear betas 1e-4..0.02, t input
(t+1)/T, class dropped with p 0.1, Adam with the reference's per-epoch linear decay, EMA with
diffusers' warm-up, DDIM with trailing spacing and x0 clipping, guidance (1+w) c - w u) and
grades 100 samples per digit with the homework's grader architecture trained on the same
data's train split. It answers "how many steps at which n_feat give digits a classifier reads",
which decides the cpu preset; the preset itself is then timed in tfjs (README).

Input: raw arrays written by `node scripts/export-raw-digits.js <digits_dir> <dir>`.
usage: python3 recipe_check.py --data <dir> [--quick] > results.jsonl
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# core's PyTorch mirrors (the benchmarks' U-Net), through this package's dependency link
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'node_modules', '@dlcv', 'core', 'python'))
from torch_reference import ContextUnet  # noqa: E402

T = 400


def load(d, split, device):
    x = np.fromfile(f'{d}/{split}_x.u8', np.uint8).reshape(-1, 28, 28, 3)
    y = np.fromfile(f'{d}/{split}_y.u8', np.uint8)
    x = torch.tensor(x, device=device).permute(0, 3, 1, 2).float() / 127.5 - 1
    return x, torch.tensor(y, device=device).long()


class Grader(nn.Module):
    """The homework's grader: Conv 3->6 k5, ReLU, MaxPool 2, Conv 6->16 k5, ReLU, MaxPool 2, FC 256->128->64->10."""

    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.c = nn.Sequential(nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.c(self.f(x).flatten(1))


def train_grader(xtr, ytr, xva, yva, epochs, seed):
    torch.manual_seed(seed)
    m = Grader().to(xtr.device)
    opt = torch.optim.Adam(m.parameters(), 1e-3)
    for _ in range(epochs):
        perm = torch.randperm(len(xtr), device=xtr.device)
        for i in range(0, len(xtr), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            F.cross_entropy(m(xtr[idx]), ytr[idx]).backward()
            opt.step()
    m.eval()
    with torch.no_grad():
        acc = (m(xva).argmax(1) == yva).float().mean().item()
    return m, acc


def schedule(device):
    betas = torch.linspace(1e-4, 0.02, T, dtype=torch.float64)
    return torch.cumprod(1 - betas, 0).to(device)


def train_ddpm(xtr, ytr, n_feat, steps, batch, lr, ema_decay, seed, p_uncond=0.1, adam_eps=1e-8):
    """The package's trainer in PyTorch; adam_eps 1e-7 is tfjs's Adam epsilon, which the package's trainer uses."""
    device = xtr.device
    torch.manual_seed(seed)
    ab = schedule(device).float()
    model = ContextUnet(n=n_feat).to(device)
    ema = ContextUnet(n=n_feat).to(device)
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.Adam(model.parameters(), lr, eps=adam_eps)
    spe = len(xtr) // batch
    epochs = math.ceil(steps / spe)
    step, losses = 0, []
    while step < steps:
        epoch = step // spe
        for g in opt.param_groups:
            g['lr'] = lr * (1 - epoch / epochs)
        perm = torch.randperm(len(xtr), device=device)
        for b in range(spe):
            if step >= steps:
                break
            idx = perm[b * batch:(b + 1) * batch]
            x0, c = xtr[idx], F.one_hot(ytr[idx], 10).float()
            t = torch.randint(0, T, (batch,), device=device)
            eps = torch.randn_like(x0)
            a = ab[t].view(-1, 1, 1, 1)
            xt = a.sqrt() * x0 + (1 - a).sqrt() * eps
            mask = (torch.rand(batch, 1, device=device) < p_uncond).float()
            opt.zero_grad()
            loss = F.mse_loss(model(xt, c, ((t + 1).float() / T).view(-1, 1), mask), eps)
            loss.backward()
            opt.step()
            d = min(ema_decay, (1 + step) / (10 + step))
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.mul_(d).add_(pm, alpha=1 - d)
                for be, bm in zip(ema.buffers(), model.buffers()):
                    be.copy_(bm)
            losses.append(loss.item())
            step += 1
    ema.eval()
    return ema, float(np.mean(losses[-50:]))


def trailing(n):
    return [int(round(T - i * T / n)) - 1 for i in range(n)]


@torch.no_grad()
def ddim_sample(model, labels, n_steps, w, seed):
    device = labels.device
    ab = schedule(device)
    g = torch.Generator(device=device).manual_seed(seed)
    x = torch.randn(len(labels), 3, 28, 28, device=device, generator=g)
    c = F.one_hot(labels, 10).float()
    ts = trailing(n_steps)
    for i, t in enumerate(ts):
        prev = ts[i + 1] if i + 1 < len(ts) else -1
        a, ap = ab[t].item(), (ab[prev].item() if prev >= 0 else 1.0)
        tin = torch.full((2 * len(labels), 1), (t + 1) / T, device=device)
        mask = torch.cat([torch.zeros(len(labels), 1, device=device), torch.ones(len(labels), 1, device=device)])
        out = model(torch.cat([x, x]), torch.cat([c, c]), tin, mask)
        eps = (1 + w) * out[:len(labels)] - w * out[len(labels):]
        x0 = ((x - math.sqrt(1 - a) * eps) / math.sqrt(a)).clamp(-1, 1)
        x = math.sqrt(ap) * x0 + math.sqrt(1 - ap) * eps
    return x


@torch.no_grad()
def grade(model, grader, n_steps, w, seed=0):
    device = next(model.parameters()).device
    labels = torch.arange(10, device=device).repeat_interleave(100)
    x = ddim_sample(model, labels, n_steps, w, seed)
    # As the grader sees saved PNGs: rounded to 8 bits.
    x = torch.round((x.clamp(-1, 1) + 1) * 127.5) / 127.5 - 1
    return (grader(x).argmax(1) == labels).float().mean().item()


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--data', required=True)
    p.add_argument('--quick', action='store_true', help='one tiny recipe, to check the script runs')
    p.add_argument('--recipes', help='JSON list of {n_feat, steps, batch, lr} instead of the built-in grid')
    p.add_argument('--samplers', help='JSON list of [ddim_steps, w] pairs instead of the built-in ones')
    a = p.parse_args()
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.backends.cudnn.benchmark = True
    xtr, ytr = load(a.data, 'train', device)
    xva, yva = load(a.data, 'val', device)
    t0 = time.time()
    grader, gacc = train_grader(xtr, ytr, xva, yva, 2 if a.quick else 20, 0)
    print(json.dumps({'grader_val_acc': gacc, 'seconds': round(time.time() - t0, 1), 'device': device}), flush=True)
    if a.quick:
        recipes = [dict(n_feat=16, steps=20, batch=64, lr=1e-3)]
        samplers = [(5, 2.0)]
    else:
        recipes = [dict(n_feat=n, steps=s, batch=64, lr=1e-3) for n in (16, 32, 64) for s in (300, 600, 1200, 2400)]
        recipes += [dict(n_feat=32, steps=600, batch=64, lr=lr) for lr in (5e-4, 2e-3)]
        recipes += [dict(n_feat=32, steps=600, batch=32, lr=1e-3), dict(n_feat=32, steps=300, batch=128, lr=1e-3)]
        samplers = [(25, 2.0), (10, 2.0), (50, 2.0), (25, 0.0), (25, 4.0)]
    if a.recipes:
        recipes = json.loads(a.recipes)
    if a.samplers:
        samplers = [tuple(x) for x in json.loads(a.samplers)]
    for r in recipes:
        t0 = time.time()
        ema, loss = train_ddpm(xtr, ytr, r['n_feat'], r['steps'], r['batch'], r['lr'], 0.999, 0)
        train_s = time.time() - t0
        accs = {f'ddim{n}_w{w:g}': round(grade(ema, grader, n, w), 4) for n, w in (samplers if r['steps'] >= 600 or a.quick else samplers[:1])}
        print(json.dumps({**r, 'final_loss': round(loss, 4), 'train_s': round(train_s, 1), **accs}), flush=True)


if __name__ == '__main__':
    sys.exit(main())
