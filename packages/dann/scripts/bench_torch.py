"""PyTorch CPU reference for `dlcv-dann bench`: the report's DANN networks, one training step
(256 source + 256 target, 28x28 grayscale) timed the same way as the TypeScript side.
Prints one JSON line. Usage: bench_torch.py --batch 256 --steps 5 --warmup 1 --threads 2"""
import argparse
import json
import time

import torch
import torch.nn as nn


class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.lam * grad, None


def nets():
    fe = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.Dropout2d(0.5), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.Dropout2d(0.5), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 1024), nn.BatchNorm1d(1024), nn.ReLU())
    lp = nn.Sequential(nn.Linear(1024, 50), nn.BatchNorm1d(50), nn.ReLU(), nn.Linear(50, 10))
    dc = nn.Sequential(nn.Linear(1024, 50), nn.BatchNorm1d(50), nn.ReLU(), nn.Linear(50, 1))
    return fe, lp, dc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--steps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--threads', type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    fe, lp, dc = nets()
    params = list(fe.parameters()) + list(lp.parameters()) + list(dc.parameters())
    opt = torch.optim.Adam(params)
    xs = torch.rand(a.batch, 1, 28, 28) * 2 - 1
    xt = torch.rand(a.batch, 1, 28, 28) * 2 - 1
    ys = torch.arange(a.batch) % 10
    dom = torch.cat([torch.zeros(a.batch, 1), torch.ones(a.batch, 1)])
    ce, bce = nn.CrossEntropyLoss(), nn.BCEWithLogitsLoss()

    def step():
        f = fe(torch.cat([xs, xt]))
        loss = ce(lp(f[:a.batch]), ys) + bce(dc(GradReverse.apply(f, 0.5)), dom)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000)
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'ms': times}))


if __name__ == '__main__':
    main()
