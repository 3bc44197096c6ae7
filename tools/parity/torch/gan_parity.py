"""PyTorch mirror of the gan package's trainer and `generate`, for the parity check (tools/parity).

The networks are core's python/torch_reference.py `generator` and `discriminator` (the PyTorch
DCGAN tutorial's, which the gan package builds), initialised as the tutorial does; the loop
follows packages/gan/src/trainer.ts and step.ts, with torch's random draws in place of the
package's PCG32 streams:
  - an epoch = floor(n / batch) steps over a fresh permutation of the images;
  - a step: z ~ N(0, 1); G(z) once in training mode; D's step on BCE(D(x), 1) + BCE(D(G(z)), 0)
    (real and fake batches through D separately, the fake detached); then G's step on
    BCE(D(G(z)), 1) with the same z (G's BatchNorm running statistics updated once per step);
    Adam with beta1 from the recipe, beta2 0.999, eps 1e-8; BCE on D's logits as the package
    computes it (--loss logits), or the tutorial's BCELoss on D's sigmoid output (--loss sigmoid):
    the same function and gradient until ATen's clamp, whose samples the run counts either way;
  - the failure detectors: D collapse while the medians of the last 50 D and G losses are
    < 0.05 and > 6; every 50 steps the mean pairwise distance of the step's fake batch over the
    real batch's (mode collapse under 0.2, from step 200);
  - sampling: G in eval mode with "precise" BatchNorm statistics, the plain averages over ten
    batches of 100 fresh noise vectors of each batch's mean and unbiased variance; 1000 images
    written as 64x64 PNGs.

Input: the float32 images `tools/parity/parity.js gan` exports (64x64x3, NHWC, in [-1, 1], as
the package feeds them). Output: PNGs in --out and one JSON line with the detectors' counts, the
loss medians of the last epoch and the samples in BCELoss's gradient clamp (see clamped).

usage: python3 gan_parity.py --data FILE --out DIR --seed N --epochs E --batch B --width W
                             --lr-d X --lr-g X [--beta1 0.5] [--count 1000] [--threads 2]
                             [--loss logits|sigmoid]
"""
import argparse
import json
import os
import statistics
import struct
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'packages', 'core', 'python'))
from torch_reference import dcgan_init, discriminator, generator  # noqa: E402

NZ = 100
WINDOW, D_FLOOR, G_CEIL, DIVERSITY, DIVERSITY_EVERY, WARMUP = 50, 0.05, 6.0, 0.2, 50, 200


def write_png(path, rgb):
    """An 8-bit RGB PNG from an HxWx3 uint8 array (no dependency beyond zlib)."""
    h, w, _ = rgb.shape
    raw = b''.join(b'\x00' + rgb[y].tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)
    png = b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw, 6)) + chunk(b'IEND', b'')
    with open(path, 'wb') as f:
        f.write(png)


def mean_pairwise_distance(x):
    return float(torch.pdist(x.flatten(1).double()).mean())


# ATen's BCELoss backward divides by max(p (1 - p), 1e-12): below that the gradient through the sigmoid is not p - target
BCE_CLAMP = 1e-12


def clamped(p, target):
    """Samples whose BCELoss gradient (through the sigmoid) is cut by ATen's clamp: p (1 - p) < 1e-12 and p off its target."""
    with torch.no_grad():
        return int(((p * (1 - p) < BCE_CLAMP) & (p != target)).sum())


def tutorial_step(g, d, opt_d, opt_g, real, z, clamp_counts=None, on_logits=False):
    """One step of the DCGAN tutorial's loop; returns the D and G losses and G(z) (before G's update).

    on_logits: the loss is BCE on D's logits (D without its closing Sigmoid), as the gan package
    computes it, instead of the tutorial's BCELoss on D's sigmoid output. clamp_counts, when given
    ({'dReal', 'dFake', 'g'}), gains each BCE term's samples in ATen's clamp (see clamped): there
    the two losses part.
    """
    n = len(real)
    ones = torch.ones(n, dtype=real.dtype)
    zeros = torch.zeros(n, dtype=real.dtype)
    if on_logits:
        score, bce, prob = d[:-1], nn.BCEWithLogitsLoss(), torch.sigmoid
    else:
        score, bce, prob = d, nn.BCELoss(), lambda p: p
    fake = g(z)
    opt_d.zero_grad()
    s_real, s_fake = score(real).view(-1), score(fake.detach()).view(-1)
    loss_d = bce(s_real, ones) + bce(s_fake, zeros)
    loss_d.backward()
    opt_d.step()
    opt_g.zero_grad()
    s_fake_g = score(fake).view(-1)
    loss_g = bce(s_fake_g, ones)
    loss_g.backward()
    opt_g.step()
    if clamp_counts is not None:
        clamp_counts['dReal'] += clamped(prob(s_real), 1)
        clamp_counts['dFake'] += clamped(prob(s_fake), 0)
        clamp_counts['g'] += clamped(prob(s_fake_g), 1)
    return float(loss_d), float(loss_g), fake


def precise_stats(g, gen):
    """BatchNorm running statistics := averages over 10 batches of 100 noise vectors (training-mode forwards)."""
    bns = [m for m in g.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    g.train()
    with torch.no_grad():
        for _ in range(10):
            g(torch.randn(100, NZ, 1, 1, generator=gen))
    g.eval()


def write_pngs(g, z, out):
    """G (in the mode it is in) on the noise z, 100 at a time, as 64x64 PNGs 0000.png, ... in `out`."""
    os.makedirs(out, exist_ok=True)
    with torch.no_grad():
        for start in range(0, len(z), 100):
            x = g(z[start:start + 100])
            rgb = ((x.permute(0, 2, 3, 1) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).numpy()
            for i in range(len(rgb)):
                write_png(os.path.join(out, f'{start + i:04d}.png'), rgb[i])


def write_samples(g, gen, out, count):
    """`generate`'s sampling: precise statistics, then G in eval mode on fresh noise, `count` PNGs in `out`."""
    precise_stats(g, gen)
    write_pngs(g, torch.randn(count, NZ, 1, 1, generator=gen), out)


def train(args, images):
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    g, d = generator(NZ, args.width, 3), discriminator(args.width, 3)
    g.apply(dcgan_init)
    d.apply(dcgan_init)
    opt_d = torch.optim.Adam(d.parameters(), lr=args.lr_d, betas=(args.beta1, 0.999), eps=1e-8)
    opt_g = torch.optim.Adam(g.parameters(), lr=args.lr_g, betas=(args.beta1, 0.999), eps=1e-8)
    per_epoch = len(images) // args.batch
    total = per_epoch * args.epochs
    losses_d, losses_g = [], []
    active = {'discriminator-collapse': False, 'mode-collapse': False}
    starts = {k: 0 for k in active}
    active_steps = {k: 0 for k in active}
    diversity = []
    clamp_counts = {'dReal': 0, 'dFake': 0, 'g': 0}
    step, started = 0, time.time()
    for epoch in range(args.epochs):
        epoch_d, epoch_g = [], []
        order = torch.randperm(len(images), generator=gen)
        for k in range(per_epoch):
            real = images[order[k * args.batch:(k + 1) * args.batch]]
            z = torch.randn(args.batch, NZ, 1, 1, generator=gen)
            ld, lg, fake = tutorial_step(g, d, opt_d, opt_g, real, z, clamp_counts, on_logits=args.loss == 'logits')
            step += 1
            if not (np.isfinite(ld) and np.isfinite(lg)):
                raise SystemExit(f'NaN loss at step {step}')
            losses_d, losses_g = (losses_d + [ld])[-WINDOW:], (losses_g + [lg])[-WINDOW:]
            epoch_d.append(ld)
            epoch_g.append(lg)
            if len(losses_d) == WINDOW:
                now = statistics.median(losses_d) < D_FLOOR and statistics.median(losses_g) > G_CEIL
                starts['discriminator-collapse'] += int(now and not active['discriminator-collapse'])
                active['discriminator-collapse'] = now
            if step % DIVERSITY_EVERY == 0:
                with torch.no_grad():
                    ratio = mean_pairwise_distance(fake) / mean_pairwise_distance(real)
                diversity.append((step, ratio))
                if step >= WARMUP:
                    now = ratio < DIVERSITY
                    starts['mode-collapse'] += int(now and not active['mode-collapse'])
                    active['mode-collapse'] = now
            for kind, on in active.items():
                active_steps[kind] += int(on)
        print(f'epoch {epoch + 1}/{args.epochs}: median D loss {statistics.median(epoch_d):.3f}, G loss {statistics.median(epoch_g):.3f}, '
              f'diversity checks {", ".join(f"{r:.3f}" for s, r in diversity if s > step - per_epoch) or "none"}, '
              f'BCE-clamped samples so far (D real, D fake, G) {clamp_counts["dReal"]}, {clamp_counts["dFake"]}, {clamp_counts["g"]} of {step * args.batch} each, '
              f'{time.time() - started:.0f} s', file=sys.stderr, flush=True)
    # the last epoch's checks; the last check when that epoch had none; none in runs under 50 steps
    last = [r for s, r in diversity if s > total - per_epoch] or [r for _, r in diversity[-1:]]
    summary = {
        'dCollapseStarts': starts['discriminator-collapse'], 'modeCollapseStarts': starts['mode-collapse'],
        'dCollapseShare': active_steps['discriminator-collapse'] / total,
        'lastEpochDiversity': sum(last) / len(last) if last else None,
        'lastEpochLossD': statistics.median(epoch_d), 'lastEpochLossG': statistics.median(epoch_g),
        'bceClamped': {**clamp_counts, 'samples': total * args.batch},
        'diversityChecks': [[s, r] for s, r in diversity],
        'steps': total,
    }
    return g, gen, summary


def main():
    ap = argparse.ArgumentParser()
    for name in ('data', 'out'):
        ap.add_argument(f'--{name}', required=True)
    for name, kind in (('seed', int), ('epochs', int), ('batch', int), ('width', int), ('lr-d', float), ('lr-g', float)):
        ap.add_argument(f'--{name}', type=kind, required=True)
    ap.add_argument('--beta1', type=float, default=0.5)
    ap.add_argument('--count', type=int, default=1000)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--loss', choices=('logits', 'sigmoid'), default='logits')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    started = time.time()
    flat = np.fromfile(args.data, np.float32)
    if flat.size % (64 * 64 * 3):
        raise SystemExit(f'{args.data}: {flat.size} values, not a whole number of 64x64x3 images')
    images = torch.from_numpy(flat).view(-1, 64, 64, 3).permute(0, 3, 1, 2).contiguous()
    g, gen, summary = train(args, images)
    write_samples(g, gen, args.out, args.count)
    summary.update({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'seconds': round(time.time() - started, 1)})
    print(json.dumps(summary))


if __name__ == '__main__':
    main()
