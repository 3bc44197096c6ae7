"""The same DCGAN training step as dlcv-gan's trainer, in PyTorch on the CPU, for `dlcv-gan bench`.

Networks as the report prints them (model A = the PyTorch DCGAN tutorial's; B doubles the
widths), BCELoss, Adam beta1 0.5, and the tutorial's step: D on a real and a fake batch, then G
through the updated D. Prints one JSON line with the step times.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn


def generator(nz, ngf, nc):
    return nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
    )


def discriminator(ndf, nc):
    return nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
    )


def init_weights(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--width', type=int, default=64, help='ngf = ndf (A 64, B 128)')
    p.add_argument('--batch', type=int, default=64)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--warmup', type=int, default=1)
    p.add_argument('--lr-d', type=float, default=5e-4)
    p.add_argument('--lr-g', type=float, default=5e-3)
    p.add_argument('--threads', type=int, default=0, help='intra-op threads (0: torch default)')
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)

    torch.manual_seed(0)
    nz, nc = 100, 3
    g, d = generator(nz, a.width, nc), discriminator(a.width, nc)
    g.apply(init_weights)
    d.apply(init_weights)
    opt_d = torch.optim.Adam(d.parameters(), lr=a.lr_d, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(g.parameters(), lr=a.lr_g, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    real = torch.rand(a.batch, nc, 64, 64) * 2 - 1
    ones, zeros = torch.ones(a.batch), torch.zeros(a.batch)

    times = []
    for i in range(a.warmup + a.steps):
        z = torch.randn(a.batch, nz, 1, 1)
        t0 = time.perf_counter()
        d.zero_grad()
        err_real = bce(d(real).view(-1), ones)
        err_real.backward()
        fake = g(z)
        err_fake = bce(d(fake.detach()).view(-1), zeros)
        err_fake.backward()
        opt_d.step()
        g.zero_grad()
        err_g = bce(d(fake).view(-1), ones)
        err_g.backward()
        opt_g.step()
        float(err_g)  # wait for the result, as the tfjs side reads its losses back
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    print(json.dumps({
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'batch': a.batch,
        'steps': a.steps,
        'median_s': statistics.median(times),
        'times_s': times,
    }))


if __name__ == '__main__':
    main()
