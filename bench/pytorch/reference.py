"""PyTorch reference of OrleansSynth's diffusion training step and DDIM sampler, for the side-by-side benchmark.

The same network as src/OrleansSynth.ML/Models (class-conditional UNet: residual blocks with GroupNorm and SiLU,
sinusoidal time embedding, label embedding with a null label, single-head attention at the lowest resolution), the
same step as DiffusionTrainer.TrainStep (per-step CPU generator, warm-up, epsilon objective with label dropout,
gradient clipping at 1, Adam, EMA over the state dict) and the same sampler as DdimSampler (guided, batched
conditional and null branches, x0 clamped). Run by `dotnet run --project bench/OrleansSynth.Benchmarks -- versus-pytorch`,
which passes the threads, batch and data and reads the one JSON line this prints.
"""
import argparse
import gzip
import json
import math
import struct
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def group_norm(groups, channels):
    return nn.GroupNorm(groups, channels)


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, condition_dim, groups):
        super().__init__()
        self.norm1 = group_norm(groups, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.condition_projection = nn.Linear(condition_dim, out_channels)
        self.norm2 = group_norm(groups, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x, condition):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.condition_projection(F.silu(condition))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return h + self.skip(x)


class SelfAttentionBlock(nn.Module):
    def __init__(self, channels, groups):
        super().__init__()
        self.norm = group_norm(groups, channels)
        self.qkv = nn.Conv2d(channels, channels * 3, 1)
        self.output = nn.Conv2d(channels, channels, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        weights = torch.softmax(torch.matmul(q.transpose(1, 2), k) / math.sqrt(c), dim=-1)
        attended = torch.matmul(v, weights.transpose(1, 2)).reshape(b, c, h, w)
        return x + self.output(attended)


class SinusoidalTimeEmbedding(nn.Module):
    def __init__(self, frequency_dim, output_dim):
        super().__init__()
        self.frequency_dim = frequency_dim
        self.mlp = nn.Sequential(nn.Linear(frequency_dim, output_dim), nn.SiLU(), nn.Linear(output_dim, output_dim))

    def forward(self, timesteps):
        half = self.frequency_dim // 2
        exponent = -math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half
        angles = timesteps.float()[:, None] * torch.exp(exponent)[None, :]
        return self.mlp(torch.cat([torch.sin(angles), torch.cos(angles)], dim=1))


class UNet(nn.Module):
    def __init__(self, image_channels=1, base_channels=32, multipliers=(1, 2, 2), res_blocks=1, num_classes=10, groups=8):
        super().__init__()
        self.null_label = num_classes
        self.res_blocks = res_blocks
        self.levels = len(multipliers)
        cond = base_channels * 4
        widths = [base_channels * m for m in multipliers]
        self.time_embedding = SinusoidalTimeEmbedding(base_channels, cond)
        self.label_embedding = nn.Embedding(num_classes + 1, cond)
        self.input_conv = nn.Conv2d(image_channels, base_channels, 3, padding=1)
        self.down_blocks, self.downsamplers = nn.ModuleList(), nn.ModuleList()
        channels = base_channels
        for level, width in enumerate(widths):
            for _ in range(res_blocks):
                self.down_blocks.append(ResidualBlock(channels, width, cond, groups))
                channels = width
            self.downsamplers.append(nn.Conv2d(channels, channels, 3, stride=2, padding=1) if level < len(widths) - 1 else nn.Identity())
        self.middle_block1 = ResidualBlock(channels, channels, cond, groups)
        self.middle_attention = SelfAttentionBlock(channels, groups)
        self.middle_block2 = ResidualBlock(channels, channels, cond, groups)
        self.up_blocks, self.upsamplers = nn.ModuleList(), nn.ModuleList()
        for level in reversed(range(len(widths))):
            for i in range(res_blocks):
                self.up_blocks.append(ResidualBlock(channels + widths[level] if i == 0 else channels, widths[level], cond, groups))
                channels = widths[level]
            self.upsamplers.append(Upsample(channels) if level > 0 else nn.Identity())
        self.output_norm = group_norm(groups, channels)
        self.output_conv = nn.Conv2d(channels, image_channels, 3, padding=1)

    def forward(self, x, timesteps, labels):
        condition = self.time_embedding(timesteps) + self.label_embedding(labels)
        h = self.input_conv(x)
        skips = []
        for level in range(self.levels):
            for i in range(self.res_blocks):
                h = self.down_blocks[level * self.res_blocks + i](h, condition)
            skips.append(h)
            h = self.downsamplers[level](h)
        h = self.middle_block2(self.middle_attention(self.middle_block1(h, condition)), condition)
        for up in range(self.levels):
            h = torch.cat([h, skips.pop()], dim=1)
            for i in range(self.res_blocks):
                h = self.up_blocks[up * self.res_blocks + i](h, condition)
            h = self.upsamplers[up](h)
        return self.output_conv(F.silu(self.output_norm(h)))


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


def cosine_alpha_bars(timesteps, offset=0.008):
    f = lambda u: math.cos((u + offset) / (1 + offset) * math.pi / 2) ** 2
    betas = [min(1 - f((i + 1) / timesteps) / f(i / timesteps), 0.999) for i in range(timesteps)]
    alpha_bars, product = [], 1.0
    for beta in betas:
        product *= 1 - beta
        alpha_bars.append(product)
    return alpha_bars


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
        label = torch.where(drop, torch.full_like(label, model.null_label), label)
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
    labels = torch.arange(count) % model.null_label
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
            both = model(torch.cat([xs, xs]), torch.cat([steps, steps]), torch.cat([ls, torch.full_like(ls, model.null_label)]))
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
    model = UNet(base_channels=args.base_channels)
    ema = UNet(base_channels=args.base_channels)
    ema.load_state_dict(model.state_dict())
    alpha_bars = cosine_alpha_bars(args.timesteps)
    trainer = train(model, ema, images, labels, args.steps, args.warmup, args.batch, 1, torch.tensor(alpha_bars, dtype=torch.float32), args.timesteps)
    sampler = sample(ema, args.samples, args.ddim_steps, args.guidance, alpha_bars, 7)
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "parameters": sum(p.numel() for p in model.parameters()),
                      "trainer_images_per_second": trainer, "sampler_images_per_second": sampler}))


if __name__ == "__main__":
    main()
