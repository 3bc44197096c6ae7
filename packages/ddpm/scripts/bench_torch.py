"""The ContextUnet of the report in PyTorch, timed on the CPU the way `dlcv-ddpm bench` times
the tfjs model: median seconds of a training step (forward, MSE on the noise, backward, Adam)
and of a batch forward in eval mode. Prints one JSON line. Written for this benchmark from the
report's printout; the weights are random (the timing does not depend on them)."""
import argparse
import json
import statistics
import time

import os
import torch

# Same thread count as the native engine (DLCV_THREADS, else every core): a fair ratio.
torch.set_num_threads(int(os.environ.get("DLCV_THREADS", "0")) or os.cpu_count() or 1)
import torch.nn as nn
import torch.nn.functional as F


class ConvBlock(nn.Module):
    def __init__(self, cin, cout, is_res=False):
        super().__init__()
        self.is_res = is_res
        self.same = cin == cout
        self.conv1 = nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.GELU())
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.GELU())

    def forward(self, x):
        x1 = self.conv1(x)
        x2 = self.conv2(x1)
        if not self.is_res:
            return x2
        return ((x if self.same else x1) + x2) / 1.414


def embed(din, dout):
    return nn.Sequential(nn.Linear(din, dout), nn.GELU(), nn.Linear(dout, dout))


class Up(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.model = nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, 2), ConvBlock(cout, cout), ConvBlock(cout, cout))

    def forward(self, x, skip):
        return self.model(torch.cat((x, skip), 1))


class Unet(nn.Module):
    def __init__(self, cin=3, n=128, k=10):
        super().__init__()
        self.n, self.k = n, k
        self.init_conv = ConvBlock(cin, n, is_res=True)
        self.down1 = nn.Sequential(ConvBlock(n, n), nn.MaxPool2d(2))
        self.down2 = nn.Sequential(ConvBlock(n, 2 * n), nn.MaxPool2d(2))
        self.to_vec = nn.Sequential(nn.AvgPool2d(7), nn.GELU())
        self.t1, self.t2 = embed(1, 2 * n), embed(1, n)
        self.c1, self.c2 = embed(k, 2 * n), embed(k, n)
        self.up0 = nn.Sequential(nn.ConvTranspose2d(2 * n, 2 * n, 7, 7), nn.GroupNorm(8, 2 * n), nn.ReLU())
        self.up1 = Up(4 * n, n)
        self.up2 = Up(2 * n, n)
        self.out = nn.Sequential(nn.Conv2d(2 * n, n, 3, 1, 1), nn.GroupNorm(8, n), nn.ReLU(), nn.Conv2d(n, cin, 3, 1, 1))

    def forward(self, x, t, c, mask):
        x = self.init_conv(x)
        d1 = self.down1(x)
        d2 = self.down2(d1)
        h = self.to_vec(d2)
        c = c * (1 - mask)
        u1 = self.up0(h)
        u2 = self.up1(self.c1(c).view(-1, 2 * self.n, 1, 1) * u1 + self.t1(t).view(-1, 2 * self.n, 1, 1), d2)
        u3 = self.up2(self.c2(c).view(-1, self.n, 1, 1) * u2 + self.t2(t).view(-1, self.n, 1, 1), d1)
        return self.out(torch.cat((u3, x), 1))


def inputs(b, k=10):
    x = torch.randn(b, 3, 28, 28)
    t = torch.rand(b, 1)
    c = F.one_hot(torch.randint(0, k, (b,)), k).float()
    mask = torch.zeros(b, 1)
    return x, t, c, mask


def median_time(fn, repeats, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--n-feat', type=int, default=128)
    p.add_argument('--train-batch', type=int, default=32)
    p.add_argument('--sample-batch', type=int, default=100)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--warmup', type=int, default=1)
    a = p.parse_args()
    torch.manual_seed(0)
    model = Unet(n=a.n_feat)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    xb, tb, cb, mb = inputs(a.train_batch)
    noise = torch.randn_like(xb)

    def train_step():
        model.train()
        opt.zero_grad()
        loss = F.mse_loss(model(xb, tb, cb, mb), noise)
        loss.backward()
        opt.step()

    xs, ts, cs, ms = inputs(a.sample_batch)

    def forward():
        model.eval()
        with torch.no_grad():
            model(xs, ts, cs, ms)

    result = {
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'params': sum(p.numel() for p in model.parameters()),
        'train_step_s': median_time(train_step, a.repeats, a.warmup),
        'forward_s': median_time(forward, a.repeats, a.warmup),
    }
    print(json.dumps(result))


if __name__ == '__main__':
    main()
