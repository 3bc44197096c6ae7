"""PyTorch mirrors of the project's three networks and training steps, as the report prints
them, on the CPU or a CUDA device, for the benchmarks (the gan, ddpm and dann `bench` commands and the root `pnpm bench`) and
the gan package's step-for-step reference test. One module, so every benchmark times the same
PyTorch code.

  torch_reference.py time <case> [<case> ...] [--batch N] [--forward-batch N] [--width 64]
                          [--n-feat 128] [--steps 5] [--warmup 1] [--threads N] [--device cpu]
      -> one JSON line: {"torch", "threads", "blas": {...}, "cases": {<case>: {"params", "seconds": [...]}}}
  torch_reference.py profile <case> [same flags as time]
      -> a markdown table of the case's ATen ops in one step (after --warmup steps) under
         torch.profiler, the most device time first (CPU time on the CPU): calls, device ms,
         host ms; to set beside `bench.js --profile <case>` (the libtorch engine's kernels)
  torch_reference.py serve [--threads N] [--device cpu]
      reads commands from stdin, one JSON line back for each:
        info         -> {"torch", "threads", "blas": {...}}, with "device", "gpu", "cuda", "cudnn",
                        "tf32" on CUDA
        run <case> [batch=N] [width=N] [n_feat=N]
                     -> {"t": wall seconds, "cpu": process CPU seconds}  (its family is built on first
                        use, once for each batch, width and n_feat: batch is the case's own batch)
        memory <case> [same options as run]
                     -> {"peak": bytes, "method": ...}: the most memory one step allocates above
                        what was allocated before it (step_peak_bytes), after two warm-up steps
        quit

--device cuda runs the networks and their inputs on the first CUDA device, timed between two
torch.cuda.synchronize() calls, fp32 unless DLCV_TF32=1 (then TF32 in cuBLAS and cuDNN), and
with deterministic algorithms unless DLCV_TORCH_DETERMINISTIC=0 (cudnn.deterministic, no cuDNN
autotuning, use_deterministic_algorithms with warnings only, cuBLAS's fixed workspace): the
libtorch engine sets both from the same variables.

Cases: dcgan_train, dcgan_forward, ddpm_train, ddpm_forward, dann_train, dann_forward. Default
batches are the root benchmark's: DCGAN 64, DDPM 32 (train) and 100 (forward), DANN 256 + 256.
"""
import argparse
import json
import os
import re
import sys
import time

# cuBLAS's condition for deterministic results, read when CUDA starts (set_device turns the
# deterministic algorithms on or off); the libtorch engine sets the same
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    # 2.1 and later fill every new tensor in deterministic mode unless told not to (set_device);
    # a submodule that `import torch` does not load
    import torch.utils.deterministic as torch_deterministic
except ImportError:
    torch_deterministic = None


# ----------------------------------------------------------------------------- DCGAN (problem 1)
def generator(nz, ngf, nc):
    """The PyTorch DCGAN tutorial's generator (the report's model A; B doubles ngf)."""
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


def dcgan_init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


def dcgan_cases(batch, forward_batch, width, dev="cpu"):
    nz, nc = 100, 3
    g, d = generator(nz, width, nc), discriminator(width, nc)
    g.apply(dcgan_init)
    d.apply(dcgan_init)
    g, d = g.to(dev), d.to(dev)
    # the gan package's report preset: Adam beta1 0.5, lr 5e-4 (D) and 5e-3 (G), BCELoss
    opt_d = torch.optim.Adam(d.parameters(), lr=5e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(g.parameters(), lr=5e-3, betas=(0.5, 0.999))
    bce = nn.BCELoss()
    real = torch.rand(batch, nc, 64, 64).to(dev) * 2 - 1
    ones, zeros = torch.ones(batch, device=dev), torch.zeros(batch, device=dev)

    def train():
        # the tutorial's step: D on a real and a fake batch, then G through the updated D
        z = torch.randn(batch, nz, 1, 1, device=dev)
        d.zero_grad()
        bce(d(real).view(-1), ones).backward()
        fake = g(z)
        bce(d(fake.detach()).view(-1), zeros).backward()
        opt_d.step()
        g.zero_grad()
        err_g = bce(d(fake).view(-1), ones)
        err_g.backward()
        opt_g.step()
        float(err_g)  # wait for the result, as the tfjs side reads its losses back

    def forward():
        g.eval()
        with torch.no_grad():
            g(torch.randn(forward_batch, nz, 1, 1, device=dev))
        g.train()

    params = sum(p.numel() for p in list(g.parameters()) + list(d.parameters()))
    return {"dcgan_train": (train, params), "dcgan_forward": (forward, sum(p.numel() for p in g.parameters()))}


# ----------------------------------------------------------------------------- DDPM (problem 2)
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


class UnetUp(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.model = nn.Sequential(nn.ConvTranspose2d(cin, cout, 2, 2), ResidualConvBlock(cout, cout),
                                   ResidualConvBlock(cout, cout))

    def forward(self, x, skip):
        return self.model(torch.cat((x, skip), 1))


def embed_fc(din, demb):
    return nn.Sequential(nn.Linear(din, demb), nn.GELU(), nn.Linear(demb, demb))


class ContextUnet(nn.Module):
    """The report's conditional U-Net (n_feat n, 10 classes, 28x28)."""

    def __init__(self, cin=3, n=128, n_classes=10):
        super().__init__()
        self.n = n
        self.init_conv = ResidualConvBlock(cin, n, is_res=True)
        self.down1 = nn.Sequential(ResidualConvBlock(n, n), nn.MaxPool2d(2))
        self.down2 = nn.Sequential(ResidualConvBlock(n, 2 * n), nn.MaxPool2d(2))
        self.to_vec = nn.Sequential(nn.AvgPool2d(7), nn.GELU())
        self.timeembed1, self.timeembed2 = embed_fc(1, 2 * n), embed_fc(1, n)
        self.contextembed1, self.contextembed2 = embed_fc(n_classes, 2 * n), embed_fc(n_classes, n)
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
        c = c * (1 - context_mask)  # mask 1: the unconditional (dropped-class) branch
        cemb1 = self.contextembed1(c).view(-1, 2 * n, 1, 1)
        temb1 = self.timeembed1(t).view(-1, 2 * n, 1, 1)
        cemb2 = self.contextembed2(c).view(-1, n, 1, 1)
        temb2 = self.timeembed2(t).view(-1, n, 1, 1)
        up1 = self.up0(hidden)
        up2 = self.up1(cemb1 * up1 + temb1, down2)
        up3 = self.up2(cemb2 * up2 + temb2, down1)
        return self.out(torch.cat((up3, x), 1))


def ddpm_cases(train_batch, forward_batch, n_feat, dev="cpu"):
    net = ContextUnet(3, n_feat, 10).to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    params = sum(p.numel() for p in net.parameters())

    def train():
        # the trainer's step: noise a batch at random timesteps, MSE on the predicted noise, Adam
        x = torch.rand(train_batch, 3, 28, 28, device=dev)
        noise = torch.randn_like(x)
        a = torch.rand(train_batch, 1, 1, 1, device=dev)
        xt = a.sqrt() * x + (1 - a).sqrt() * noise
        c = F.one_hot(torch.randint(0, 10, (train_batch,), device=dev), 10).float()
        mask = torch.bernoulli(torch.full((train_batch, 1), 0.1, device=dev))
        t = torch.rand(train_batch, 1, device=dev)
        opt.zero_grad()
        loss = F.mse_loss(net(xt, c, t, mask), noise)
        loss.backward()
        opt.step()
        float(loss)

    xs = torch.randn(forward_batch, 3, 28, 28).to(dev)
    cs = F.one_hot(torch.arange(forward_batch, device=dev) % 10, 10).float()
    ts, ms = torch.rand(forward_batch, 1).to(dev), torch.zeros(forward_batch, 1, device=dev)

    def forward():
        net.eval()
        with torch.no_grad():
            net(xs, cs, ts, ms)
        net.train()

    return {"ddpm_train": (train, params), "ddpm_forward": (forward, params)}


# ----------------------------------------------------------------------------- DANN (problem 3)
class GradReverse(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, lam):
        ctx.lam = lam
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.lam * grad, None


def dann_nets():
    """The report's feature extractor, label predictor and domain classifier (28x28x1 input)."""
    fe = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.Dropout2d(0.5), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.Dropout2d(0.5), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 1024), nn.BatchNorm1d(1024), nn.ReLU())
    lp = nn.Sequential(nn.Linear(1024, 50), nn.BatchNorm1d(50), nn.ReLU(), nn.Linear(50, 10))
    dc = nn.Sequential(nn.Linear(1024, 50), nn.BatchNorm1d(50), nn.ReLU(), nn.Linear(50, 1))
    return fe, lp, dc


def dann_cases(batch, forward_batch, dev="cpu"):
    fe, lp, dc = (m.to(dev) for m in dann_nets())
    params = list(fe.parameters()) + list(lp.parameters()) + list(dc.parameters())
    opt = torch.optim.Adam(params, lr=1e-3)
    xs, xt = torch.rand(batch, 1, 28, 28).to(dev) * 2 - 1, torch.rand(batch, 1, 28, 28).to(dev) * 2 - 1
    ys = torch.arange(batch, device=dev) % 10
    dom = torch.cat([torch.zeros(batch, 1, device=dev), torch.ones(batch, 1, device=dev)])

    def train():
        # the dann package's step: class loss on the source half, domain loss through the GRL
        opt.zero_grad()
        f = fe(torch.cat([xs, xt]))
        loss = F.cross_entropy(lp(f[:batch]), ys) + F.binary_cross_entropy_with_logits(dc(GradReverse.apply(f, 0.5)), dom)
        loss.backward()
        opt.step()
        float(loss)

    xf = torch.rand(forward_batch, 1, 28, 28).to(dev) * 2 - 1

    def forward():
        fe.eval()
        lp.eval()
        with torch.no_grad():
            lp(fe(xf))
        fe.train()
        lp.train()

    count = sum(p.numel() for p in params)
    return {"dann_train": (train, count), "dann_forward": (forward, count)}


# ----------------------------------------------------------------------------- running
CASES = ("dcgan_train", "dcgan_forward", "ddpm_train", "ddpm_forward", "dann_train", "dann_forward")


class Cases:
    """Each family (networks, optimizer, inputs) built once, on first use, for both its cases.
    Batches None: the family's defaults (DCGAN 64, DDPM 32 / 100, DANN 256)."""

    def __init__(self, batch=None, forward_batch=None, width=64, n_feat=128, device="cpu"):
        self.batch, self.forward_batch, self.width, self.n_feat = batch, forward_batch or batch, width, n_feat
        self.device = device
        self.families = {}

    def get(self, name, batch=None, width=None, n_feat=None):
        """The (step function, parameter count) pair of a case. batch, width, n_feat: a family
        built for them (batch is this case's: the train batch of a _train case, else the forward's)."""
        if name not in CASES:
            raise KeyError(f"unknown case {name} (cases: {', '.join(CASES)})")
        family = name.split("_")[0]
        b, fb = self.batch, self.forward_batch
        if batch is not None:
            b, fb = (batch, fb) if name.endswith("_train") else (b, batch)
        width, n_feat = width or self.width, n_feat or self.n_feat
        key = (family, b, fb, width, n_feat)
        if key not in self.families:
            dev = self.device
            if family == "dcgan":
                self.families[key] = dcgan_cases(b or 64, fb or 64, width, dev)
            elif family == "ddpm":
                self.families[key] = ddpm_cases(b or 32, fb or 100, n_feat, dev)
            else:
                self.families[key] = dann_cases(b or 256, fb or 256, dev)
        return self.families[key][name]


def blas_info():
    """Which BLAS this torch was built for and which library the process actually loaded."""
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=([^,\s]+)", cfg)
    torch.mm(torch.rand(64, 64), torch.rand(64, 64))  # loads the BLAS library
    libs = set()
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                p = line.strip().split()[-1]
                if re.search(r"(blas|mkl|blis)", os.path.basename(p)):
                    libs.add(os.path.realpath(p))
    except OSError:
        pass
    onednn = re.search(r"(MKL-DNN|oneDNN)[^\n]*?v([\d.]+)", cfg)
    return {"info": m.group(1) if m else "unknown", "libraries": sorted(libs), "onednn": onednn.group(2) if onednn else None}


def set_device(device):
    """Checks the device; on CUDA sets TF32 in cuBLAS and cuDNN from DLCV_TF32 (fp32 unless 1) and
    deterministic algorithms from DLCV_TORCH_DETERMINISTIC (on unless 0), as the libtorch engine."""
    if device == "cuda":
        if not torch.cuda.is_available():
            sys.exit("torch_reference.py: --device cuda, but torch sees no CUDA device")
        tf32 = os.environ.get("DLCV_TF32") == "1"
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        deterministic = os.environ.get("DLCV_TORCH_DETERMINISTIC") != "0"
        torch.backends.cudnn.deterministic = deterministic
        torch.backends.cudnn.benchmark = False
        torch.use_deterministic_algorithms(deterministic, warn_only=True)
        if torch_deterministic is not None:
            torch_deterministic.fill_uninitialized_memory = False


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def header(device="cpu"):
    out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_info(), "device": device}
    if device == "cuda":
        out.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                   tf32=torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32,
                   deterministic=torch.backends.cudnn.deterministic and torch.are_deterministic_algorithms_enabled())
    return out


def time_cases(a):
    torch.manual_seed(0)
    cases = Cases(a.batch, a.forward_batch, a.width, a.n_feat, a.device)
    out = {}
    for name in a.cases:
        fn, params = cases.get(name)
        seconds = []
        for i in range(a.warmup + a.steps):
            sync(a.device)
            t0 = time.perf_counter()
            fn()
            sync(a.device)
            if i >= a.warmup:
                seconds.append(time.perf_counter() - t0)
        out[name] = {"params": params, "seconds": seconds}
    print(json.dumps({**header(a.device), "cases": out}))


def profile_case(a):
    """One step of a case under torch.profiler: its ops by self device time (self CPU time on
    the CPU), as a markdown table."""
    from torch.profiler import ProfilerActivity, profile

    torch.manual_seed(0)
    name = a.cases[0]
    fn, _ = Cases(a.batch, a.forward_batch, a.width, a.n_feat, a.device).get(name)
    for _ in range(a.warmup):
        fn()
    sync(a.device)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if a.device == "cuda" else [])
    with profile(activities=activities) as prof:
        fn()
        sync(a.device)

    def device_us(e):
        # self_device_time_total in torch 2.x, self_cuda_time_total before
        return getattr(e, "self_device_time_total", None) or getattr(e, "self_cuda_time_total", 0) or 0

    events = list(prof.key_averages())
    on_device = a.device == "cuda"
    key = device_us if on_device else (lambda e: e.self_cpu_time_total)
    events.sort(key=key, reverse=True)
    total = sum(key(e) for e in events) / 1000
    aten_calls = sum(e.count for e in events if e.key.startswith("aten::"))
    launches = sum(e.count for e in events if e.key.startswith("cuda") and "Launch" in e.key)
    print(f"PyTorch {torch.__version__} profile of {name} on {a.device} (one step; "
          f"{'self device' if on_device else 'self CPU'} time sum {total:.1f} ms; "
          f"{aten_calls} ATen op calls with the nested ones, {launches} kernel launches)")
    print("| op | calls | device ms | host ms |\n|---|---|---|---|")
    for e in events[:30]:
        if key(e) <= 0:
            break
        print(f"| {e.key} | {e.count} | {device_us(e) / 1000:.2f} | {e.self_cpu_time_total / 1000:.2f} |")


def step_peak_bytes(step, device):
    """The most bytes one step allocates above what was allocated before it, and how that was
    measured: on CUDA the caching allocator's peak statistic; on the CPU the profiler's memory
    events in time order (each op's own allocations less its frees, counted at its start: an
    approximation within an op)."""
    if device == "cuda":
        sync(device)
        torch.cuda.reset_peak_memory_stats()
        start = torch.cuda.memory_allocated()
        step()
        sync(device)
        return torch.cuda.max_memory_allocated() - start, "the CUDA caching allocator's peak"
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    own = []
    for e in prof.profiler.function_events:
        # "[memory]" events are allocations and frees outside any op; an op's own are its self usage
        delta = e.cpu_memory_usage if e.name == "[memory]" else e.self_cpu_memory_usage
        if delta:
            own.append((e.time_range.start, delta))
    live = peak = 0
    for _, delta in sorted(own):
        live += delta
        peak = max(peak, live)
    return peak, "the profiler's memory events (approximate within an op)"


def case_options(words):
    """`batch=256 n_feat=128` -> {"batch": 256, "n_feat": 128}."""
    out = {}
    for w in words:
        k, _, v = w.partition("=")
        if k not in ("batch", "width", "n_feat") or not v.isdigit() or int(v) < 1:
            raise ValueError(f"bad option {w!r} (batch=N, width=N, n_feat=N)")
        out[k] = int(v)
    return out


def serve(device="cpu"):
    torch.manual_seed(0)
    cases = Cases(device=device)
    for line in sys.stdin:
        cmd = line.strip().split()
        if not cmd:
            continue
        try:
            if cmd[0] == "info":
                out = header(device)
            elif cmd[0] == "run":
                step = cases.get(cmd[1], **case_options(cmd[2:]))[0]
                sync(device)
                c0, t0 = time.process_time(), time.perf_counter()
                step()
                sync(device)
                out = {"t": time.perf_counter() - t0, "cpu": time.process_time() - c0}
            elif cmd[0] == "memory":
                step = cases.get(cmd[1], **case_options(cmd[2:]))[0]
                step()
                step()
                peak, method = step_peak_bytes(step, device)
                out = {"peak": peak, "method": method}
            elif cmd[0] == "quit":
                break
            else:
                out = {"error": f"unknown command {cmd[0]}"}
        except Exception as e:  # noqa: BLE001 - reported to the driver, which names the case
            out = {"error": repr(e)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=("time", "profile", "serve"))
    p.add_argument("cases", nargs="*")
    p.add_argument("--batch", type=int, default=None, help="batch of every case (default: the case's)")
    p.add_argument("--forward-batch", type=int, default=None, help="batch of the _forward cases (default: --batch)")
    p.add_argument("--width", type=int, default=64, help="DCGAN ngf = ndf (model A 64, B 128)")
    p.add_argument("--n-feat", type=int, default=128)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=int(os.environ.get("DLCV_THREADS", "0")),
                   help="intra-op threads (default $DLCV_THREADS, else torch's choice)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="where the networks and inputs live (cuda: TF32 when DLCV_TF32=1)")
    a = p.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    set_device(a.device)
    if a.mode == "serve":
        serve(a.device)
    elif a.mode == "profile":
        if len(a.cases) != 1:
            p.error("profile: name one case")
        profile_case(a)
    else:
        if not a.cases:
            p.error("time: name at least one case")
        time_cases(a)


if __name__ == "__main__":
    main()
