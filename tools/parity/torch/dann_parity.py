"""PyTorch mirror of the dann package's `train-all`, for the parity check (tools/parity).

The networks are core's python/torch_reference.py `dann_nets()` (the report's, as the dann
package builds them); the loop follows packages/dann/src/trainer.ts rule for rule, with torch's
own random draws in place of the package's PCG32 streams:
  - 10% of the labelled train set held out (a seeded permutation's first round(0.1 n), sorted);
  - an epoch = floor(n_train / batch) steps over a fresh permutation, the last partial batch dropped;
  - dann steps: `batch` source + `batch` target images through the feature extractor as one
    batch, cross-entropy on the source half, BCE with logits on the domain classifier behind the
    gradient reversal, their sum, one backward, one Adam (PyTorch defaults but lr) over all three
    networks; target images come from an endless stream of shuffled passes;
  - lambda = 2 / (1 + exp(-gamma p)) - 1 with p = step / total steps, the step counted from 0;
  - at each epoch end the held-out accuracy (eval mode); the best epoch (strictly better) kept;
  - the kept weights scored on the val sets: single-domain runs on all three, dann runs on
    their target and MNIST-M;
  - the MNIST-M-only model with its feature-extractor and label-predictor BatchNorm statistics
    replaced by their average over one pass of the target's train images in training mode
    (floor(n / batch) batches, dropout on, no label read; AdaBN), scored on the target's val set.

With --only MODE:SCENARIO (source|dann|target, svhn|usps) the script trains that one run (the
package's `dlcv-dann train --mode MODE --scenario SCENARIO`) and prints its accuracy on the
scenario's val set, the chosen epoch, and per epoch the held-out accuracy and, as a trace that
selects nothing, the scenario's val accuracy.

Input: the float32 arrays `tools/parity/parity.js dann` exports (the images exactly as the
package feeds them: grayscale, 28x28, in [-1, 1]). Output: one JSON line with the report table's
rows (the package's `table.json` shape) and the chosen epochs.

usage: python3 dann_parity.py --data DIR --seed N [--epochs 10] [--batch 256] [--lr 1e-3] [--threads 2] [--only MODE:SCENARIO]
"""
import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', 'packages', 'core', 'python'))
from torch_reference import GradReverse, dann_nets  # noqa: E402

DOMAINS = ('mnistm', 'svhn', 'usps')
SCENARIOS = ('svhn', 'usps')
HELD_OUT = 0.1
GAMMA = 10.0


def load(data, domain, split):
    x = torch.from_numpy(np.fromfile(os.path.join(data, f'{domain}-{split}-x.f32'), np.float32).copy())
    y = torch.from_numpy(np.fromfile(os.path.join(data, f'{domain}-{split}-y.u8'), np.uint8).astype(np.int64))
    if x.numel() != y.numel() * 28 * 28:
        raise SystemExit(f'{data}: {domain}-{split}: {x.numel()} pixels for {y.numel()} labels (expected 784 each)')
    return x.view(-1, 1, 28, 28), y


class Net:
    def __init__(self):
        self.fe, self.lp, self.dc = dann_nets()
        self.modules = (self.fe, self.lp, self.dc)

    def train(self, on):
        for m in self.modules:
            m.train(on)

    def state(self):
        return [copy.deepcopy(m.state_dict()) for m in self.modules]

    def load(self, state):
        for m, s in zip(self.modules, state):
            m.load_state_dict(s)


def accuracy(net, x, y, batch=256):
    net.train(False)
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += int((net.lp(net.fe(x[i:i + batch])).argmax(1) == y[i:i + batch]).sum())
    net.train(True)
    return correct / len(x)


def hold_out(n, gen):
    perm = torch.randperm(n, generator=gen)
    k = max(1, round(n * HELD_OUT))
    return perm[k:].sort().values, perm[:k].sort().values


class TargetStream:
    """Endless shuffled passes over n images, `batch` indices a step."""

    def __init__(self, n, gen):
        self.n, self.gen, self.perm, self.pos = n, gen, torch.randperm(n, generator=gen), 0

    def take(self, batch):
        out, have = [], 0
        while have < batch:
            if self.pos == self.n:
                self.perm, self.pos = torch.randperm(self.n, generator=self.gen), 0
            k = min(batch - have, self.n - self.pos)
            out.append(self.perm[self.pos:self.pos + k])
            self.pos, have = self.pos + k, have + k
        return torch.cat(out)


def train_run(data, labelled, unlabelled, evals, args, trace=None):
    """One run of the package's trainer; returns (accuracies on the eval domains, best epoch, net).

    `trace`: a list that gets, per epoch, the held-out accuracy and the accuracy on the first
    eval domain's val set (not used for selection).
    """
    gen = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    net = Net()
    x, y = data[(labelled, 'train')]
    train_idx, held_idx = hold_out(len(x), gen)
    xt, yt, xh, yh = x[train_idx], y[train_idx], x[held_idx], y[held_idx]
    target = data[(unlabelled, 'train')][0] if unlabelled else None
    stream = TargetStream(len(target), gen) if unlabelled else None
    params = [p for m in net.modules for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=args.lr)
    per_epoch = len(xt) // args.batch
    total = per_epoch * args.epochs
    best, best_epoch, best_state, step = -1.0, -1, None, 0
    domain_labels = torch.cat([torch.zeros(args.batch, 1), torch.ones(args.batch, 1)])
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(xt), generator=gen)
        for k in range(per_epoch):
            idx = order[k * args.batch:(k + 1) * args.batch]
            xs, ys = xt[idx], yt[idx]
            opt.zero_grad()
            if unlabelled:
                lam = 2 / (1 + math.exp(-GAMMA * step / total)) - 1
                f = net.fe(torch.cat([xs, target[stream.take(args.batch)]]))
                loss = F.cross_entropy(net.lp(f[:args.batch]), ys)
                loss = loss + F.binary_cross_entropy_with_logits(net.dc(GradReverse.apply(f, lam)), domain_labels)
            else:
                loss = F.cross_entropy(net.lp(net.fe(xs)), ys)
            if not math.isfinite(float(loss)):
                raise SystemExit(f'{labelled}: loss {float(loss)} at step {step + 1}')
            loss.backward()
            opt.step()
            step += 1
        held = accuracy(net, xh, yh)
        if trace is not None:
            trace.append({'epoch': epoch, 'heldOutAccuracy': held, 'valAccuracy': accuracy(net, *data[(evals[0], 'val')])})
        if held > best:
            best, best_epoch, best_state = held, epoch, net.state()
    net.load(best_state)
    return {d: accuracy(net, *data[(d, 'val')]) for d in evals}, best_epoch, net


def source_with_target_bn(net, target, gen, batch):
    """AdaBN on the feature extractor and label predictor: cumulative batch statistics of one pass."""
    bns = [m for part in (net.fe, net.lp) for m in part.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    net.train(True)
    order = torch.randperm(len(target), generator=gen)
    with torch.no_grad():
        for k in range(max(1, len(target) // batch)):
            net.lp(net.fe(target[order[k * batch:(k + 1) * batch]]))
    for m in bns:
        m.momentum = 0.1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True)
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--batch', type=int, default=256)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--only', help='MODE:SCENARIO: train that one run')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    started = time.time()
    data = {(d, s): load(args.data, d, s) for d in DOMAINS for s in ('train', 'val')}
    if args.only:
        mode, _, scenario = args.only.partition(':')
        labelled = {'source': 'mnistm', 'dann': 'mnistm', 'target': scenario}.get(mode)
        if labelled is None or scenario not in SCENARIOS:
            raise SystemExit(f'--only: expected MODE:SCENARIO with MODE source|dann|target and SCENARIO {"|".join(SCENARIOS)}, got {args.only}')
        trace = []
        acc, best_epoch, _ = train_run(data, labelled, scenario if mode == 'dann' else None, (scenario,), args, trace)
        print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'accuracy': acc, 'bestEpoch': best_epoch,
                          'epochs': trace, 'seconds': round(time.time() - started, 1)}))
        return
    only, best_epochs = {}, {}
    source_net = None
    for d in DOMAINS:
        only[d], best_epochs[f'{d}-only'], net = train_run(data, d, None, DOMAINS, args)
        if d == 'mnistm':
            source_net = net
        print(f'{d}-only: {json.dumps(only[d])}', file=sys.stderr)
    adapted = {}
    for s in SCENARIOS:
        acc, best_epochs[f'mnistm-to-{s}-dann'], _ = train_run(data, 'mnistm', s, (s, 'mnistm'), args)
        adapted[s] = acc[s]
        print(f'mnistm-to-{s}-dann: {json.dumps(acc)}', file=sys.stderr)
    source_bn = {}
    for s in SCENARIOS:
        net = copy.deepcopy(source_net)
        source_with_target_bn(net, data[(s, 'train')][0], torch.Generator().manual_seed(args.seed), args.batch)
        source_bn[s] = accuracy(net, *data[(s, 'val')])
    table = {
        'lowerBound': [only['mnistm'][d] for d in DOMAINS],
        'sourceBn': [None if d == 'mnistm' else source_bn[d] for d in DOMAINS],
        'dann': [None if d == 'mnistm' else adapted[d] for d in DOMAINS],
        'upperBound': [only[d][d] for d in DOMAINS],
    }
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'table': table,
                      'matrix': only, 'bestEpoch': best_epochs, 'seconds': round(time.time() - started, 1)}))


if __name__ == '__main__':
    main()
