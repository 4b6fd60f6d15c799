"""PyTorch reference of OrleansSynth's diffusion training step and DDIM sampler, for the side-by-side benchmark.

The same network and noise schedule as src/OrleansSynth.ML/Models and Diffusion, taken from the release's PyTorch
port (src/OrleansSynth.ML/Release/sample.py, checked against the C# samplers by ReleasedModelTests), the same step as DiffusionTrainer.TrainStep (per-step CPU generator, warm-up, epsilon objective with label dropout,
gradient clipping at 1, Adam, EMA over the state dict) and the same sampler as DdimSampler (guided, batched
conditional and null branches, x0 clamped). Run by `dotnet run --project bench/OrleansSynth.Benchmarks -- versus-pytorch`,
which passes the threads, batch and data and reads the one JSON line this prints.
"""
import argparse
import gzip
import importlib.util
import json
import math
import pathlib
import struct
import time

import torch

# The network lives in one place: the sampler every release carries.
_RELEASED = pathlib.Path(__file__).resolve().parents[2] / "src" / "OrleansSynth.ML" / "Release" / "sample.py"
_spec = importlib.util.spec_from_file_location("orleanssynth_released_sampler", _RELEASED)
released = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(released)


def null_label(model):
    return model.config["num_classes"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">i", data[:4])[0]
    dims = struct.unpack(">" + "i" * (magic & 0xFF), data[4:4 + 4 * (magic & 0xFF)])
    return torch.frombuffer(bytearray(data[4 + 4 * len(dims):]), dtype=torch.uint8).reshape(dims)


def train(model, ema, images, labels, steps, warmup_steps, batch, seed, alpha_bars_tensor, timesteps):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    total = warmup_steps + steps
    snr = alpha_bars_tensor / (1 - alpha_bars_tensor)
    min_snr_weights = snr.clamp(max=5.0) / snr  # min-SNR-5, as TrainingConfig.MinSnrGamma
    permutation = torch.randperm(images.shape[0], generator=torch.Generator().manual_seed(seed))
    model.train()
    started = None
    for step in range(warmup_steps + steps):
        if step == warmup_steps:
            started = time.perf_counter()
        generator = torch.Generator().manual_seed(seed * 1_000_003 + step)
        start = (step * batch) % (images.shape[0] - batch)
        indices = permutation[start:start + batch]
        clean = images[indices].float().div_(127.5).sub_(1.0).unsqueeze(1)
        label = labels[indices].long()
        for group in optimizer.param_groups:
            # Warm-up over 100 steps, then a half cosine to zero at the last step (DiffusionTrainer.LearningRateAt).
            if step < 100:
                group["lr"] = 1e-3 * (step + 1.0) / 100
            else:
                group["lr"] = 1e-3 * 0.5 * (1 + math.cos(math.pi * min(1.0, (step - 100) / max(1, total - 100))))
        optimizer.zero_grad()
        t = torch.randint(0, timesteps, (batch,), generator=generator)
        noise = torch.randn(clean.shape, generator=generator)
        a = alpha_bars_tensor[t].view(-1, 1, 1, 1)
        noisy = a.sqrt() * clean + (1 - a).sqrt() * noise
        drop = torch.rand((batch,), generator=generator) < 0.1
        label = torch.where(drop, torch.full_like(label, null_label(model)), label)
        loss = (min_snr_weights[t] * (model(noisy, t, label) - noise).square().mean(dim=(1, 2, 3))).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        decay = min(0.995, (1.0 + step) / (10.0 + step))
        with torch.no_grad():
            source = model.state_dict()
            for name, target in ema.state_dict().items():
                if target.is_floating_point():
                    target.mul_(decay).add_(source[name], alpha=1 - decay)
                else:
                    target.copy_(source[name])
        loss.item()
    return steps * batch / (time.perf_counter() - started)


@torch.no_grad()
def sample(model, count, ddim_steps, guidance, alpha_bars, seed):
    model.eval()
    total = len(alpha_bars)
    ts = sorted(set(round(i * (total - 1) / max(ddim_steps - 1, 1)) for i in range(ddim_steps)))
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(count) % null_label(model)
    x = torch.randn((count, 1, 28, 28), generator=generator)
    started = time.perf_counter()
    for i in reversed(range(len(ts))):
        t = ts[i]
        alpha_bar = alpha_bars[t]
        alpha_bar_prev = alpha_bars[ts[i - 1]] if i > 0 else 1.0
        # Both branches in one batch, in slices of 64 images (128 network rows), as GaussianDiffusion.GuidedNoise does on a CPU.
        parts = []
        for start in range(0, count, 64):
            xs, ls = x[start:start + 64], labels[start:start + 64]
            steps = torch.full((xs.shape[0],), t, dtype=torch.long)
            both = model(torch.cat([xs, xs]), torch.cat([steps, steps]), torch.cat([ls, torch.full_like(ls, null_label(model))]))
            conditional, null = both.chunk(2)
            parts.append(null + guidance * (conditional - null))
        eps = torch.cat(parts)
        x0 = ((x - math.sqrt(1 - alpha_bar) * eps) / math.sqrt(alpha_bar)).clamp_(-1, 1)
        eps = (x - math.sqrt(alpha_bar) * x0) / math.sqrt(1 - alpha_bar)
        x = math.sqrt(alpha_bar_prev) * x0 + math.sqrt(max(1 - alpha_bar_prev, 0)) * eps
    return count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--base-channels", type=int, default=32)
    parser.add_argument("--timesteps", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=250)
    parser.add_argument("--ddim-steps", type=int, default=25)
    parser.add_argument("--guidance", type=float, default=2.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    images = read_idx(f"{args.data}/train-images-idx3-ubyte.gz")
    labels = read_idx(f"{args.data}/train-labels-idx1-ubyte.gz")
    model = released.UNet({"base_channels": args.base_channels})
    ema = released.UNet({"base_channels": args.base_channels})
    ema.load_state_dict(model.state_dict())
    alpha_bars = released.NoiseSchedule("cosine", args.timesteps).alpha_bars
    trainer = train(model, ema, images, labels, args.steps, args.warmup, args.batch, 1, torch.tensor(alpha_bars, dtype=torch.float32), args.timesteps)
    sampler = sample(ema, args.samples, args.ddim_steps, args.guidance, alpha_bars, 7)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "parameters": sum(p.numel() for p in model.parameters()),
                      "trainer_images_per_second": trainer, "sampler_images_per_second": sampler}))


if __name__ == "__main__":
    main()
