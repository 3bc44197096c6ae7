"""PyTorch mirror of the ddpm package's `train` and `sample`, for the parity check (tools/parity).

Training is packages/ddpm/scripts/recipe_check.py's `train_ddpm` (core's ContextUnet; 400
linear betas 1e-4..0.02; t ~ U{0..399} fed as (t+1)/400; the class dropped with p 0.1; MSE on
the noise; Adam with lr * (1 - epoch / epochs) per epoch; EMA with diffusers' warm-up, BatchNorm
statistics copied), with tfjs's Adam epsilon (1e-7), which the package's trainer uses. Sampling
is the package's DDIM: trailing spacing, x0 clipped to [-1, 1], the noise estimate of the
model's output, sigma = eta sqrt((1 - a') / (1 - a) (1 - a / a')), guidance (1 + w) c - w u,
alpha_bar(-1) = 1. The 1000 digits (100 of each) are written as <digit>_<nnn>.png, rounded to
8 bits as the package writes them, for eval's graders.

Input: raw arrays written by packages/ddpm/scripts/export-raw-digits.js. Output: PNGs in --out
and one JSON line (final loss, seconds).

usage: python3 ddpm_parity.py --data DIR --out DIR --seed N [--n-feat 64] [--steps 4000] [--batch 16]
                              [--lr 5e-4] [--ema-decay 0.999] [--ddim-steps 10] [--eta 1] [--w 4] [--threads 2]
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'packages', 'ddpm', 'scripts'))
sys.path.insert(0, os.path.join(HERE, '..', '..', '..', 'packages', 'core', 'python'))
from gan_parity import write_png  # noqa: E402
from recipe_check import T, load, schedule, trailing, train_ddpm  # noqa: E402


@torch.no_grad()
def ddim_sample(model, labels, n_steps, w, eta, gen):
    ab = schedule('cpu')
    n = len(labels)
    x = torch.randn(n, 3, 28, 28, generator=gen)
    c = F.one_hot(labels, 10).float()
    mask = torch.cat([torch.zeros(n, 1), torch.ones(n, 1)])
    ts = trailing(n_steps)
    for i, t in enumerate(ts):
        prev = ts[i + 1] if i + 1 < len(ts) else -1
        a, ap = ab[t].item(), (ab[prev].item() if prev >= 0 else 1.0)
        out = model(torch.cat([x, x]), torch.cat([c, c]), torch.full((2 * n, 1), (t + 1) / T), mask)
        eps = (1 + w) * out[:n] - w * out[n:]
        x0 = ((x - math.sqrt(1 - a) * eps) / math.sqrt(a)).clamp(-1, 1)
        sigma = eta * math.sqrt((1 - ap) / (1 - a) * (1 - a / ap))
        x = math.sqrt(ap) * x0 + math.sqrt(max(1 - ap - sigma * sigma, 0)) * eps
        if sigma > 0:
            x = x + sigma * torch.randn(x.shape, generator=gen)
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--seed', type=int, required=True)
    for name, kind, default in (('n-feat', int, 64), ('steps', int, 4000), ('batch', int, 16), ('lr', float, 5e-4), ('ema-decay', float, 0.999),
                                ('ddim-steps', int, 10), ('eta', float, 1.0), ('w', float, 4.0), ('threads', int, 2)):
        ap.add_argument(f'--{name}', type=kind, default=default)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    started = time.time()
    xtr, ytr = load(args.data, 'train', 'cpu')
    ema, loss = train_ddpm(xtr, ytr, args.n_feat, args.steps, args.batch, args.lr, args.ema_decay, args.seed, adam_eps=1e-7)
    gen = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    for digit in range(10):
        x = ddim_sample(ema, torch.full((100,), digit, dtype=torch.long), args.ddim_steps, args.w, args.eta, gen)
        rgb = ((x.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
        for k in range(100):
            write_png(os.path.join(args.out, f'{digit}_{k + 1:03d}.png'), np.ascontiguousarray(rgb[k]))
    print(json.dumps({'finalLoss': loss, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'seconds': round(time.time() - started, 1)}))


if __name__ == '__main__':
    main()
