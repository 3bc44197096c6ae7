# PyTorch CPU side of tools/bench (driven over stdin/stdout by bench.js so the two interleave).
# The reference networks of the report in PyTorch, matching the gan/ddpm/dann packages' models and steps that bench.js runs. Commands, one per line:
#   info            -> {"torch": ..., "threads": ..., "blas": ...}
#   run <case>      -> {"t": seconds}     (builds the case on first use)
import json
import os
import re
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("DLCV_THREADS", "2")))
torch.manual_seed(0)


def dcgan_g(nz=100):
    layers = [nn.ConvTranspose2d(nz, 512, 4, 1, 0, bias=False), nn.BatchNorm2d(512), nn.ReLU(True)]
    cin = 512
    for f in (256, 128, 64):
        layers += [nn.ConvTranspose2d(cin, f, 4, 2, 1, bias=False), nn.BatchNorm2d(f), nn.ReLU(True)]
        cin = f
    layers += [nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def dcgan_d():
    layers = [nn.Conv2d(3, 64, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True)]
    cin = 64
    for f in (128, 256, 512):
        layers += [nn.Conv2d(cin, f, 4, 2, 1, bias=False), nn.BatchNorm2d(f), nn.LeakyReLU(0.2, inplace=True)]
        cin = f
    layers += [nn.Conv2d(512, 1, 4, 1, 0, bias=False), nn.Sigmoid()]
    return nn.Sequential(*layers)


class ResidualConvBlock(nn.Module):
    def __init__(self, cin, cout, is_res=False):
        super().__init__()
        self.same = cin == cout
        self.is_res = is_res
        self.conv1 = nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.GELU())
        self.conv2 = nn.Sequential(nn.Conv2d(cout, cout, 3, 1, 1), nn.BatchNorm2d(cout), nn.GELU())

    def forward(self, x):
        x1 = self.conv1(x)
        x2 = self.conv2(x1)
        if self.is_res:
            return ((x if self.same else x1) + x2) / 1.414
        return x2


class UnetDown(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.model = nn.Sequential(ResidualConvBlock(cin, cout), nn.MaxPool2d(2))

    def forward(self, x):
        return self.model(x)


class UnetUp(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.model = nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, 2), ResidualConvBlock(cout, cout),
                                   ResidualConvBlock(cout, cout))

    def forward(self, x, skip):
        return self.model(torch.cat((x, skip), 1))


class EmbedFC(nn.Module):
    def __init__(self, din, demb):
        super().__init__()
        self.din = din
        self.model = nn.Sequential(nn.Linear(din, demb), nn.GELU(), nn.Linear(demb, demb))

    def forward(self, x):
        return self.model(x.view(-1, self.din))


class ContextUnet(nn.Module):
    def __init__(self, cin=3, n=128, n_classes=10):
        super().__init__()
        self.n = n
        self.init_conv = ResidualConvBlock(cin, n, is_res=True)
        self.down1 = UnetDown(n, n)
        self.down2 = UnetDown(n, 2 * n)
        self.to_vec = nn.Sequential(nn.AvgPool2d(7), nn.GELU())
        self.timeembed1 = EmbedFC(1, 2 * n)
        self.timeembed2 = EmbedFC(1, n)
        self.contextembed1 = EmbedFC(n_classes, 2 * n)
        self.contextembed2 = EmbedFC(n_classes, n)
        self.up0 = nn.Sequential(nn.ConvTranspose2d(2 * n, 2 * n, 7, 7), nn.GroupNorm(8, 2 * n), nn.ReLU())
        self.up1 = UnetUp(4 * n, n)
        self.up2 = UnetUp(2 * n, n)
        self.out = nn.Sequential(nn.Conv2d(2 * n, n, 3, 1, 1), nn.GroupNorm(8, n), nn.ReLU(), nn.Conv2d(n, cin, 3, 1, 1))

    def forward(self, x, c, t, context_mask):
        n = self.n
        x = self.init_conv(x)
        down1 = self.down1(x)
        down2 = self.down2(down1)
        hidden = self.to_vec(down2)
        c = c * (-1 * (1 - context_mask))
        cemb1 = self.contextembed1(c).view(-1, 2 * n, 1, 1)
        temb1 = self.timeembed1(t).view(-1, 2 * n, 1, 1)
        cemb2 = self.contextembed2(c).view(-1, n, 1, 1)
        temb2 = self.timeembed2(t).view(-1, n, 1, 1)
        up1 = self.up0(hidden)
        up2 = self.up1(cemb1 * up1 + temb1, down2)
        up3 = self.up2(cemb2 * up2 + temb2, down1)
        return self.out(torch.cat((up3, x), 1))


class GRL(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, g):
        return -g


def dann_fe():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, 1, 1), nn.BatchNorm2d(32), nn.ReLU(), nn.Dropout2d(0.5), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, 1, 1), nn.BatchNorm2d(64), nn.ReLU(), nn.Dropout2d(0.5), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 1024), nn.BatchNorm1d(1024), nn.ReLU())


def dann_head(out):
    return nn.Sequential(nn.Linear(1024, 50), nn.BatchNorm1d(50), nn.ReLU(), nn.Linear(50, out))


cases = {}


def build(name):
    if name.startswith("dcgan"):
        G, D = dcgan_g(), dcgan_d()
        optD = torch.optim.Adam(D.parameters(), lr=0.0005, betas=(0.5, 0.999))
        optG = torch.optim.Adam(G.parameters(), lr=0.005, betas=(0.5, 0.999))
        real = torch.rand(64, 3, 64, 64) * 2 - 1
        crit = nn.BCELoss()

        def train():
            z = torch.randn(64, 100, 1, 1)
            ones, zeros = torch.ones(64), torch.zeros(64)
            D.zero_grad()
            errD = crit(D(real).view(-1), ones)
            fake = G(z)
            errD = errD + crit(D(fake.detach()).view(-1), zeros)
            errD.backward()
            optD.step()
            G.zero_grad()
            errG = crit(D(fake).view(-1), ones)
            errG.backward()
            optG.step()

        def forward():
            G.eval()
            with torch.no_grad():
                G(torch.randn(64, 100, 1, 1))
            G.train()

        return {"dcgan_train": train, "dcgan_forward": forward}
    if name.startswith("ddpm"):
        net = ContextUnet(3, 128, 10)
        opt = torch.optim.Adam(net.parameters(), lr=1e-4)

        def train():
            x = torch.rand(32, 3, 28, 28)
            noise = torch.randn_like(x)
            a = torch.rand(32, 1, 1, 1)
            xt = a.sqrt() * x + (1 - a).sqrt() * noise
            c = F.one_hot(torch.randint(0, 10, (32,)), 10).float()
            mask = torch.bernoulli(torch.full((32, 1), 0.1))
            t = torch.rand(32, 1)
            opt.zero_grad()
            loss = F.mse_loss(noise, net(xt, c, t, mask))
            loss.backward()
            opt.step()

        def forward():
            net.eval()
            with torch.no_grad():
                net(torch.randn(100, 3, 28, 28), F.one_hot(torch.arange(100) % 10, 10).float(), torch.rand(100, 1),
                    torch.zeros(100, 1))
            net.train()

        return {"ddpm_train": train, "ddpm_forward": forward}
    if name.startswith("dann"):
        fe, lp, dc = dann_fe(), dann_head(10), dann_head(1)
        opt = torch.optim.Adam(list(fe.parameters()) + list(lp.parameters()) + list(dc.parameters()), lr=1e-3)
        src, tgt = torch.rand(256, 1, 28, 28), torch.rand(256, 1, 28, 28)
        ys = torch.randint(0, 10, (256,))
        dom = torch.cat([torch.ones(256, 1), torch.zeros(256, 1)])

        def train():
            opt.zero_grad()
            f = fe(torch.cat([src, tgt]))
            loss = F.cross_entropy(lp(f[:256]), ys) + F.binary_cross_entropy_with_logits(dc(GRL.apply(f)), dom)
            loss.backward()
            opt.step()

        def forward():
            fe.eval(); lp.eval()
            with torch.no_grad():
                lp(fe(src))
            fe.train(); lp.train()

        return {"dann_train": train, "dann_forward": forward}
    raise KeyError(name)


def blas_info():
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
    torch.mm(torch.rand(64, 64), torch.rand(64, 64))
    libs = set()
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                p = line.strip().split()[-1]
                if re.search(r"(blas|mkl|blis)", os.path.basename(p)):
                    libs.add(os.path.realpath(p))
    except OSError:
        pass
    mkldnn = re.search(r"(MKL-DNN|oneDNN)[^\n]*?v([\d.]+)", cfg)
    return {"blasInfo": m.group(1) if m else "unknown", "blasLibs": sorted(libs),
            "onednn": mkldnn.group(2) if mkldnn else None}


def main():
    for line in sys.stdin:
        cmd = line.strip().split()
        if not cmd:
            continue
        try:
            if cmd[0] == "info":
                out = {"torch": torch.__version__, "threads": torch.get_num_threads(), **blas_info()}
            elif cmd[0] == "run":
                name = cmd[1]
                if name not in cases:
                    cases.update(build(name))
                c0 = time.process_time()
                t0 = time.perf_counter()
                cases[name]()
                out = {"t": time.perf_counter() - t0, "cpu": time.process_time() - c0}
            elif cmd[0] == "quit":
                break
            else:
                out = {"error": "unknown command"}
        except Exception as e:  # noqa: BLE001
            out = {"error": repr(e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
