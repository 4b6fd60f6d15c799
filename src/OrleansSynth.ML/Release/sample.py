#!/usr/bin/env python3
"""Sample images from an OrleansSynth diffusion model release, with PyTorch alone.

This script ships in a released model folder next to ``model.safetensors`` (the EMA weights) and ``config.json``
(architecture, noise schedule, sampler defaults). It rebuilds the class-conditional UNet that OrleansSynth trains
with TorchSharp, loads the weights and runs the same samplers (DDIM, DPM-Solver++(2M), DDPM) with the same float32
arithmetic, so the same starting noise gives the same images as the .NET sampler.

Needs only PyTorch (1.10 or later). numpy is optional (used for .npy files when present); Pillow is needed only
for PNG output.

    python3 sample.py --count 16 --seed 0 --out samples/         # PNGs plus metadata.csv (imagefolder layout)
    python3 sample.py --labels 3,3,7 --sampler dpm-solver++ --steps 20 --array out.npy
    python3 sample.py --labels 0,1 --noise noise.npy --array out.npy  # start from given x_T, shape [N,C,H,W]

From Python or a notebook:

    from sample import load_model, sample
    model, config = load_model("path/to/release")
    images = sample(model, config, labels=[0, 1, 2], seed=0)   # float32 [N,C,H,W] in [-1, 1]

Label ``num_classes`` is the null label: it samples unconditionally.

A model trained with reports also reads a prompt (``--prompt "small left effusion"``, or ``prompts=[...]``): it
tokenizes it with GPT-2's byte-level BPE from the release's tokenizer.tiktoken, as .NET does (Python's ``regex``
module is used when installed; without it, letters and digits are told apart by ``re``, exact for ASCII text).
No prompt is the null prompt; guidance applies to the prompt and the label together.
"""

import argparse
import ast
import base64
import json
import math
import os
import re
import struct
import sys

import torch
from torch import nn
from torch.nn import functional as F

FORMAT_NAME = "orleanssynth-unet-diffusion"
SAMPLERS = ("ddim", "dpm-solver++", "ddpm")
# Network rows per evaluation on a CPU, as GaussianDiffusion.CpuRowsPerEvaluation: the batch is sliced the same
# way so every matrix product has the shape it had in .NET.
CPU_ROWS_PER_EVALUATION = 128


# --- The network. Attribute names are the C# field names, so the state-dict keys match the safetensors file. ---

def group_norm(groups, channels):
    return nn.GroupNorm(groups, channels)


class SinusoidalTimeEmbedding(nn.Module):
    def __init__(self, frequency_dim, output_dim):
        super().__init__()
        self.frequency_dim = frequency_dim
        self.mlp = nn.Sequential(nn.Linear(frequency_dim, output_dim), nn.SiLU(), nn.Linear(output_dim, output_dim))

    def forward(self, timesteps):
        half = self.frequency_dim // 2
        # Same operation order as C#: arange * -log(10000) / half, all float32.
        exponent = torch.arange(0, half, 1, dtype=torch.float32, device=timesteps.device) * (-math.log(10000.0))
        exponent = exponent / float(half)
        angles = timesteps.to(torch.float32).unsqueeze(1) * torch.exp(exponent).unsqueeze(0)
        return self.mlp(torch.cat([torch.sin(angles), torch.cos(angles)], dim=1))


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, out_channels, condition_dim, groups, dropout_rate):
        super().__init__()
        self.norm1 = group_norm(groups, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.conditionProjection = nn.Linear(condition_dim, out_channels)
        self.norm2 = group_norm(groups, out_channels)
        self.dropout = nn.Dropout(dropout_rate)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x, condition):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.conditionProjection(F.silu(condition)).unsqueeze(-1).unsqueeze(-1)
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
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


class Downsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x):
        return self.conv(x)


class Upsample(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class TransformerBlock(nn.Module):
    """Pre-norm self-attention (padding ignored through an additive key bias) and a GELU MLP."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.attentionNorm = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, dim * 3)
        self.attentionOutput = nn.Linear(dim, dim)
        self.mlpNorm = nn.LayerNorm(dim)
        self.mlpIn = nn.Linear(dim, dim * 4)
        self.mlpOut = nn.Linear(dim * 4, dim)

    def forward(self, x, key_bias):
        b, l, d = x.shape
        head_dim = d // self.heads
        q, k, v = self.qkv(self.attentionNorm(x)).view(b, l, 3, self.heads, head_dim).permute(2, 0, 3, 1, 4)
        scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(head_dim) + key_bias
        attended = torch.matmul(torch.softmax(scores, dim=-1), v).transpose(1, 2).reshape(b, l, d)
        x = x + self.attentionOutput(attended)
        return x + self.mlpOut(F.gelu(self.mlpIn(self.mlpNorm(x))))


def sine_positions(rows, dim):
    """Row p: sin(p w_i) in even columns, cos(p w_i) in odd ones, w_i = 10000^(-2i/D), in double, then float32."""
    table = []
    for p in range(rows):
        row = []
        for i in range(dim // 2):
            angle = p * math.pow(10000, -2.0 * i / dim)
            row += [math.sin(angle), math.cos(angle)]
        table.append(row)
    return torch.tensor(table, dtype=torch.float32)


class TextEncoder(nn.Module):
    """A token embedding plus fixed sine positions, transformer blocks, a final layer norm (TextEncoder.cs)."""

    PADDING_BIAS = -1e9

    def __init__(self, text):
        super().__init__()
        self.text = text
        # The vocabulary, then the start, padding and unknown tokens.
        self.tokenEmbedding = nn.Embedding(text["vocabulary_size"] + 3, text["dim"])
        self.positions = sine_positions(text["max_tokens"], text["dim"])
        self.layers = nn.ModuleList(TransformerBlock(text["dim"], text["heads"]) for _ in range(text["layers"]))
        self.outputNorm = nn.LayerNorm(text["dim"])

    def encode(self, tokens):
        """(token vectors [B,L,D], key bias [B,1,L], mean vector [B,D])."""
        b, l = tokens.shape
        valid = tokens != self.text["vocabulary_size"] + 1
        key_bias = torch.zeros(b, 1, l, device=tokens.device).masked_fill(~valid.unsqueeze(1), self.PADDING_BIAS)
        x = self.tokenEmbedding(tokens) + self.positions.to(tokens.device).unsqueeze(0)
        for layer in self.layers:
            x = layer(x, key_bias.unsqueeze(1))
        x = self.outputNorm(x)
        weights = valid.to(x.dtype).unsqueeze(-1)
        pooled = (x * weights).sum(1) / weights.sum(1).clamp_min(1)
        return x, key_bias, pooled


class CrossAttentionBlock(nn.Module):
    """Image features attend to the prompt's token vectors (single head, residual)."""

    def __init__(self, channels, text_dim, groups):
        super().__init__()
        self.norm = group_norm(groups, channels)
        self.query = nn.Conv2d(channels, channels, 1)
        self.key = nn.Linear(text_dim, channels)
        self.value = nn.Linear(text_dim, channels)
        self.output = nn.Conv2d(channels, channels, 1)

    def forward(self, x, prompt):
        tokens, key_bias, _ = prompt
        b, c, h, w = x.shape
        q = self.query(self.norm(x)).view(b, c, h * w).transpose(1, 2)
        scores = torch.matmul(q, self.key(tokens).transpose(1, 2)) / math.sqrt(c) + key_bias
        attended = torch.matmul(torch.softmax(scores, dim=-1), self.value(tokens)).transpose(1, 2).reshape(b, c, h, w)
        return x + self.output(attended)


class UNet(nn.Module):
    """Class-conditional noise predictor; label ``num_classes`` is the null (unconditional) label."""

    def __init__(self, model_config):
        super().__init__()
        cfg = _model_settings(model_config)
        self.config = cfg
        cond = cfg["base_channels"] * 4
        groups = cfg["group_norm_groups"]
        dropout = cfg["dropout"]
        levels = [cfg["base_channels"] * m for m in cfg["channel_multipliers"]]
        per_level = cfg["res_blocks_per_level"]

        self.timeEmbedding = SinusoidalTimeEmbedding(cfg["base_channels"], cond)
        self.labelEmbedding = nn.Embedding(cfg["num_classes"] + 1, cond)
        # Registered only when used, as the nullable C# field.
        if cfg["extra_condition_dim"] > 0:
            self.extraConditionProjection = nn.Linear(cfg["extra_condition_dim"], cond)
        else:
            self.extraConditionProjection = None
        text = cfg["text"]
        if text is not None:
            self.textEncoder = TextEncoder(text)
            self.promptProjection = nn.Linear(text["dim"], cond)
        else:
            self.textEncoder = None
            self.promptProjection = None
        self.downCrossAttention = nn.ModuleList()
        self.upCrossAttention = nn.ModuleList()
        self.inputConv = nn.Conv2d(cfg["image_channels"], cfg["base_channels"], 3, padding=1)

        self.downBlocks = nn.ModuleList()
        self.downsamplers = nn.ModuleList()
        channels = cfg["base_channels"]
        for level in range(len(levels)):
            for _ in range(per_level):
                self.downBlocks.append(ResidualBlock(channels, levels[level], cond, groups, dropout))
                channels = levels[level]
                if text is not None and level > 0:
                    self.downCrossAttention.append(CrossAttentionBlock(channels, text["dim"], groups))
            self.downsamplers.append(Downsample(channels) if level < len(levels) - 1 else nn.Identity())

        self.middleBlock1 = ResidualBlock(channels, channels, cond, groups, dropout)
        self.middleAttention = SelfAttentionBlock(channels, groups)
        self.middleCrossAttention = CrossAttentionBlock(channels, text["dim"], groups) if text is not None else None
        self.middleBlock2 = ResidualBlock(channels, channels, cond, groups, dropout)

        self.upBlocks = nn.ModuleList()
        self.upsamplers = nn.ModuleList()
        for level in range(len(levels) - 1, -1, -1):
            for i in range(per_level):
                # The first block of a level consumes the skip connection saved on the way down.
                in_channels = channels + levels[level] if i == 0 else channels
                self.upBlocks.append(ResidualBlock(in_channels, levels[level], cond, groups, dropout))
                channels = levels[level]
                if text is not None and level > 0:
                    self.upCrossAttention.append(CrossAttentionBlock(channels, text["dim"], groups))
            self.upsamplers.append(Upsample(channels) if level > 0 else nn.Identity())

        self.outputNorm = group_norm(groups, channels)
        self.outputConv = nn.Conv2d(channels, cfg["image_channels"], 3, padding=1)

    def null_prompts(self, count, device):
        """The null prompt for every row: the start token, then padding."""
        text = self.config["text"]
        row = [text["vocabulary_size"] + 1] * text["max_tokens"]
        row[0] = text["vocabulary_size"]
        return torch.tensor([row] * count, dtype=torch.int64, device=device)

    def forward(self, noisy_images, timesteps, labels, extra_condition=None, prompts=None):
        condition = self.timeEmbedding(timesteps) + self.labelEmbedding(labels)
        if prompts is not None and self.textEncoder is None:
            raise ValueError("The model reads no text, but prompts were passed.")
        prompt = None
        if self.textEncoder is not None:
            if prompts is None:
                prompts = self.null_prompts(noisy_images.shape[0], noisy_images.device)
            prompt = self.textEncoder.encode(prompts)
            condition = condition + self.promptProjection(prompt[2])
        if self.extraConditionProjection is not None:
            # No extra condition means the zero vector (UNet.Predict), which still adds the projection's bias.
            if extra_condition is None:
                extra_condition = torch.zeros(noisy_images.shape[0], self.config["extra_condition_dim"],
                                              dtype=noisy_images.dtype, device=noisy_images.device)
            condition = condition + self.extraConditionProjection(extra_condition)

        h = self.inputConv(noisy_images)
        skips = []
        levels = len(self.config["channel_multipliers"])
        per_level = self.config["res_blocks_per_level"]
        cross = 0
        for level in range(levels):
            for i in range(per_level):
                h = self.downBlocks[level * per_level + i](h, condition)
                if prompt is not None and level > 0:
                    h = self.downCrossAttention[cross](h, prompt)
                    cross += 1
            skips.append(h)
            h = self.downsamplers[level](h)

        h = self.middleAttention(self.middleBlock1(h, condition))
        if prompt is not None:
            h = self.middleCrossAttention(h, prompt)
        h = self.middleBlock2(h, condition)

        cross = 0
        for up in range(levels):
            h = torch.cat([h, skips.pop()], dim=1)
            for i in range(per_level):
                h = self.upBlocks[up * per_level + i](h, condition)
                if prompt is not None and up < levels - 1:
                    h = self.upCrossAttention[cross](h, prompt)
                    cross += 1
            h = self.upsamplers[up](h)

        # C# pads this convolution's output channels only while gradients are on (WholeBlockConvolution); without
        # gradients it is this plain convolution.
        return self.outputConv(F.silu(self.outputNorm(h)))


def _model_settings(model_config):
    """config.json's "model" with the C# defaults filled in and UNetConfig.Validate's checks."""
    cfg = {"image_channels": 1, "image_size": 28, "base_channels": 32, "channel_multipliers": [1, 2, 2],
           "res_blocks_per_level": 1, "num_classes": 10, "group_norm_groups": 8, "dropout": 0.0,
           "extra_condition_dim": 0}
    cfg.update(model_config or {})
    cfg["text"] = _text_settings(cfg.get("text"))
    cfg["channel_multipliers"] = [int(m) for m in cfg["channel_multipliers"]]
    for key in ("image_channels", "image_size", "base_channels", "res_blocks_per_level", "num_classes",
                "group_norm_groups", "extra_condition_dim"):
        cfg[key] = int(cfg[key])
    cfg["dropout"] = float(cfg["dropout"])
    if not 1 <= cfg["image_channels"] <= 4:
        raise ValueError(f"image_channels must be 1..4, was {cfg['image_channels']}.")
    if cfg["base_channels"] < cfg["group_norm_groups"] or cfg["base_channels"] % cfg["group_norm_groups"] != 0:
        raise ValueError(f"base_channels ({cfg['base_channels']}) must be a multiple of group_norm_groups "
                         f"({cfg['group_norm_groups']}).")
    if not cfg["channel_multipliers"]:
        raise ValueError("channel_multipliers must not be empty.")
    divisor = 1 << max(0, len(cfg["channel_multipliers"]) - 1)
    if cfg["image_size"] % divisor != 0:
        raise ValueError(f"image_size {cfg['image_size']} must be divisible by {divisor}.")
    if cfg["num_classes"] < 1:
        raise ValueError("num_classes must be at least 1.")
    return cfg


def _text_settings(text):
    """config.json's "model"."text" with TextEncoderConfig's defaults, or None for a model that reads no text."""
    if text is None:
        return None
    settings = {"vocabulary_size": 50257, "dim": 64, "layers": 2, "heads": 4, "max_tokens": 128}
    settings.update(text)
    known = settings.pop("known_tokens", None)
    settings = {key: int(value) for key, value in settings.items()}
    settings["known_tokens"] = None if known is None else {int(token) for token in known}
    if settings["dim"] % settings["heads"] != 0:
        raise ValueError(f"text dim ({settings['dim']}) must be a multiple of heads ({settings['heads']}).")
    return settings


# --- Prompts: GPT-2's byte-level BPE, as Microsoft.ML.Tokenizers' tiktoken port (ReportTokenizer.cs). ---

END_OF_TEXT = "<|endoftext|>"


class Gpt2Tokenizer:
    """Reads tiktoken's vocabulary file (a base64 token and its rank per line) and encodes text."""

    def __init__(self, path):
        self.ranks = {}
        with open(path, "rb") as f:
            for line in f:
                if line.strip():
                    token, rank = line.split()
                    self.ranks[base64.b64decode(token)] = int(rank)
        if sorted(self.ranks.values()) != list(range(len(self.ranks))):
            raise ValueError(f"{path}: the ranks are not 0..{len(self.ranks) - 1}.")
        self.end_of_text = len(self.ranks)
        try:
            import regex
            self.pattern = regex.compile(
                r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
        except ImportError:
            self.pattern = re.compile(r"""'(?:[sdmt]|ll|ve|re)| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")

    def encode(self, text):
        ids = []
        for i, part in enumerate(text.split(END_OF_TEXT)):
            if i > 0:
                ids.append(self.end_of_text)
            for piece in self.pattern.findall(part):
                ids.extend(self._merge(piece.encode("utf-8")))
        return ids

    def _merge(self, piece):
        if piece in self.ranks:
            return [self.ranks[piece]]
        parts = [piece[i:i + 1] for i in range(len(piece))]
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                rank = self.ranks.get(parts[i] + parts[i + 1])
                if rank is not None and (best_rank is None or rank < best_rank):
                    best, best_rank = i, rank
            if best is None:
                break
            parts[best:best + 2] = [parts[best] + parts[best + 1]]
        return [self.ranks[p] for p in parts]


def normalize_prompt(text):
    """Lower case, white space collapsed: ReportTokenizer.Normalize."""
    return " ".join(text.split()).lower()


def prompt_rows(tokenizer, text_settings, prompts):
    """Token rows [N, max_tokens]: the start token, the prompt's ids (those the model does not know as the unknown
    token), padding; empty or None is the null prompt."""
    start, width, known = text_settings["vocabulary_size"], text_settings["max_tokens"], text_settings["known_tokens"]
    pad, unknown = start + 1, start + 2
    rows = []
    for number, prompt in enumerate(prompts, 1):
        ids = [] if prompt is None or not prompt.strip() else tokenizer.encode(normalize_prompt(prompt))
        ids = [i if known is None or i in known else unknown for i in ids]
        if len(ids) > width - 1:
            raise ValueError(f"Prompt {number} of {len(prompts)}: the prompt is {len(ids)} tokens long; the model "
                             f"reads at most {width - 1}.")
        rows.append([start] + ids + [pad] * (width - 1 - len(ids)))
    return torch.tensor(rows, dtype=torch.int64)


# --- Noise schedule, in float64 as NoiseSchedule.cs. ---

class NoiseSchedule:
    def __init__(self, kind, timesteps):
        kind = str(kind).lower()
        if timesteps < 2:
            raise ValueError("A schedule needs at least 2 timesteps.")
        if kind == "linear":
            self.betas = _linear_betas(timesteps)
        elif kind == "cosine":
            self.betas = _cosine_betas(timesteps)
        else:
            raise ValueError(f"Unknown noise schedule '{kind}'; use linear or cosine.")
        self.kind = kind
        self.timesteps = timesteps
        self.alpha_bars = []
        product = 1.0
        for beta in self.betas:
            product *= 1.0 - beta
            self.alpha_bars.append(product)

    def alpha_bar_before(self, t):
        return self.alpha_bars[t - 1] if t > 0 else 1.0


def _linear_betas(timesteps):
    # The 1e-4..0.02 range was tuned for 1000 steps; scaled so shorter schedules still end near pure noise.
    scale = 1000.0 / timesteps
    start, end = scale * 1e-4, min(scale * 0.02, 0.999)
    return [start + (end - start) * i / (timesteps - 1) for i in range(timesteps)]


def _cosine_betas(timesteps, offset=0.008):
    def f(u, s):
        return math.pow(math.cos((u + s) / (1 + s) * math.pi / 2), 2)

    f0 = f(0.0, offset)
    betas = []
    for i in range(timesteps):
        nxt = f((i + 1.0) / timesteps, offset) / f0
        current = f(float(i) / timesteps, offset) / f0
        betas.append(min(1 - nxt / current, 0.999))
    return betas


# --- Guided noise prediction and the samplers (GaussianDiffusion.cs, SamplerSteps.cs, *Sampler.cs). ---

def guided_noise(model, x, timesteps, labels, guidance, extra=None, prompts=None):
    """eps = eps_null + w (eps_label - eps_null); on a CPU in slices of rows, as in .NET."""
    count = x.shape[0]
    rows = CPU_ROWS_PER_EVALUATION if guidance in (0.0, 1.0) else CPU_ROWS_PER_EVALUATION // 2
    if x.device.type != "cpu" or count <= rows:
        return _guided_noise_of_batch(model, x, timesteps, labels, guidance, extra, prompts)
    parts = []
    for start in range(0, count, rows):
        length = min(rows, count - start)
        parts.append(_guided_noise_of_batch(
            model, x.narrow(0, start, length), timesteps.narrow(0, start, length), labels.narrow(0, start, length),
            guidance, None if extra is None else extra.narrow(0, start, length),
            None if prompts is None else prompts.narrow(0, start, length)))
    return torch.cat(parts)


def _guided_noise_of_batch(model, x, timesteps, labels, guidance, extra, prompts):
    if guidance == 1.0:
        return model(x, timesteps, labels, extra, prompts)
    # The null branch: null label, zero features, the null prompt.
    null_labels = torch.full_like(labels, model.config["num_classes"])
    null_extra = None if extra is None else torch.zeros_like(extra)
    null_prompts = None if prompts is None else model.null_prompts(prompts.shape[0], prompts.device)
    if guidance == 0.0:
        return model(x, timesteps, null_labels, null_extra, null_prompts)
    # One batched forward pass for both branches.
    both = model(torch.cat([x, x]), torch.cat([timesteps, timesteps]), torch.cat([labels, null_labels]),
                 None if extra is None else torch.cat([extra, null_extra]),
                 None if prompts is None else torch.cat([prompts, null_prompts]))
    conditional, unconditional = both.chunk(2)
    return unconditional + (conditional - unconditional) * guidance


def denoise(schedule, model, x, t, conditions, guidance):
    """Clamped x0 estimate from x_t and the noise consistent with it; conditions = (labels, extra, prompts)."""
    alpha_bar = schedule.alpha_bars[t]
    timesteps = torch.full((x.shape[0],), t, dtype=torch.int64, device=x.device)
    labels, extra, prompts = conditions
    eps = guided_noise(model, x, timesteps, labels, guidance, extra, prompts)
    x0 = ((x - eps * math.sqrt(1 - alpha_bar)) / math.sqrt(alpha_bar)).clamp_(-1, 1)
    consistent_eps = (x - x0 * math.sqrt(alpha_bar)) / math.sqrt(1 - alpha_bar)
    return x0, consistent_eps


def _linear_combination(a, x, b, y):
    # a*x and b*y rounded separately, then added: TensorArithmetic.LinearCombination.
    return x * a + y * b


def _fresh_noise(shape, generator, device):
    return torch.randn(shape, generator=generator).to(device)


def ddim_timesteps(total, steps):
    if steps < 1 or steps > total:
        raise ValueError(f"DDIM steps must be 1..{total}, was {steps}.")
    # Python's round() rounds half to even, like C#'s Math.Round.
    return _distinct(int(round(i * (total - 1) / max(steps - 1, 1))) for i in range(steps))


def dpm_solver_timesteps(total, steps):
    if steps < 1 or steps > total - 1:
        raise ValueError(f"DPM-Solver++ steps must be 1..{total - 1}, was {steps}.")
    return _distinct(int(round(k * (total - 1) / steps)) for k in range(1, steps + 1))


def _distinct(values):
    seen, result = set(), []
    for v in values:
        if v not in seen:
            seen.add(v)
            result.append(v)
    return result


def sample_ddim(model, schedule, x, conditions, guidance, steps, eta, generator, progress=None):
    if eta < 0:
        raise ValueError("eta must be non-negative.")
    timesteps = ddim_timesteps(schedule.timesteps, steps)
    alpha_bars = schedule.alpha_bars
    for i in range(len(timesteps) - 1, -1, -1):
        t = timesteps[i]
        alpha_bar = alpha_bars[t]
        alpha_bar_prev = alpha_bars[timesteps[i - 1]] if i > 0 else 1.0
        x0, eps = denoise(schedule, model, x, t, conditions, guidance)
        sigma = eta * math.sqrt((1 - alpha_bar_prev) / (1 - alpha_bar) * (1 - alpha_bar / alpha_bar_prev))
        nxt = _linear_combination(math.sqrt(alpha_bar_prev), x0,
                                  math.sqrt(max(1 - alpha_bar_prev - sigma * sigma, 0)), eps)
        if sigma > 0 and i > 0:
            nxt = nxt + _fresh_noise(x.shape, generator, x.device) * sigma
        x = nxt
        if progress:
            progress(len(timesteps) - i, len(timesteps))
    return x


def _half_log_snr(alpha_bar):
    return 0.5 * math.log(alpha_bar / (1 - alpha_bar))


def sample_dpm_solver(model, schedule, x, conditions, guidance, steps, progress=None):
    """DPM-Solver++(2M), data-prediction form; the last step lands on the clean estimate."""
    timesteps = dpm_solver_timesteps(schedule.timesteps, steps)
    alpha_bars = schedule.alpha_bars
    previous_x0, previous_h = None, 0.0
    for i in range(len(timesteps) - 1, -1, -1):
        alpha_bar = alpha_bars[timesteps[i]]
        x0, _ = denoise(schedule, model, x, timesteps[i], conditions, guidance)
        h = 0.0
        if i == 0:
            nxt = x0.clone()
        else:
            alpha_bar_next = alpha_bars[timesteps[i - 1]]
            h = _half_log_snr(alpha_bar_next) - _half_log_snr(alpha_bar)
            estimate = x0 if previous_x0 is None else _linear_combination(
                1 + h / (2 * previous_h), x0, -(h / (2 * previous_h)), previous_x0)
            # .NET's double.ExpM1 is Math.Exp(x) - 1, not a true expm1: the same double here.
            nxt = _linear_combination(math.sqrt((1 - alpha_bar_next) / (1 - alpha_bar)), x,
                                      -(math.sqrt(alpha_bar_next) * (math.exp(-h) - 1)), estimate)
        previous_x0, previous_h = x0, h
        x = nxt
        if progress:
            progress(len(timesteps) - i, len(timesteps))
    return x


def sample_ddpm(model, schedule, x, conditions, guidance, generator, progress=None):
    """Ancestral sampling through every timestep."""
    total = schedule.timesteps
    for t in range(total - 1, -1, -1):
        alpha_bar, alpha_bar_prev, beta = schedule.alpha_bars[t], schedule.alpha_bar_before(t), schedule.betas[t]
        x0, _ = denoise(schedule, model, x, t, conditions, guidance)
        # Posterior q(x_{t-1} | x_t, x0).
        mean_x0 = beta * math.sqrt(alpha_bar_prev) / (1 - alpha_bar)
        mean_xt = (1 - alpha_bar_prev) * math.sqrt(1 - beta) / (1 - alpha_bar)
        nxt = _linear_combination(mean_x0, x0, mean_xt, x)
        if t > 0:
            variance = beta * (1 - alpha_bar_prev) / (1 - alpha_bar)
            nxt = nxt + _fresh_noise(x.shape, generator, x.device) * math.sqrt(variance)
        x = nxt
        if progress:
            progress(total - t, total)
    return x


def sample(model, config, labels, noise=None, seed=0, sampler=None, steps=None, eta=None, guidance=None,
           extra=None, progress=None, prompts=None, tokenizer=None):
    """Images [N,C,H,W] float32 in [-1, 1], one per label, on the model's device.

    Unset sampler settings come from config["sampler"]. ``noise`` replaces the starting noise x_T (the seed still
    drives any later random draws, after skipping the draw of x_T as .NET makes it). ``extra`` is an optional
    [N, extra_condition_dim] tensor; without it the model sees the zero vector, as in .NET. ``prompts`` (a text
    model only) is one string per label, or one for all; ``tokenizer`` is ``load_tokenizer(folder)``.
    ``progress(done, total)`` is called after every step.
    """
    defaults = config.get("sampler") or {}
    name = str(sampler if sampler is not None else defaults.get("name", "ddim")).lower()
    steps = int(steps if steps is not None else defaults.get("steps", 50))
    eta = float(eta if eta is not None else defaults.get("eta", 0.0))
    guidance = float(guidance if guidance is not None else defaults.get("guidance_scale", 1.0))
    if name not in SAMPLERS:
        raise ValueError(f"Unknown sampler '{name}'; use {', '.join(SAMPLERS)}.")
    diffusion = config.get("diffusion") or {}
    schedule = NoiseSchedule(diffusion.get("schedule", "cosine"), int(diffusion.get("timesteps", 1000)))
    cfg = model.config
    labels = [int(label) for label in (labels.tolist() if torch.is_tensor(labels) else labels)]
    if not labels:
        raise ValueError("Nothing to sample: no labels were given.")
    for label in labels:
        if label < 0 or label > cfg["num_classes"]:
            raise ValueError(f"Label {label} is outside 0..{cfg['num_classes']} (the last is the null label).")

    device = next(model.parameters()).device
    shape = (len(labels), cfg["image_channels"], cfg["image_size"], cfg["image_size"])
    # A CPU generator, as in .NET, so results do not depend on the device. C# casts the seed to ulong.
    generator = torch.Generator().manual_seed(int(seed) % (1 << 64))
    x = torch.randn(shape, generator=generator)
    if noise is not None:
        noise = torch.as_tensor(noise, dtype=torch.float32)
        if tuple(noise.shape) != shape:
            raise ValueError(f"The noise has shape {list(noise.shape)}; expected {list(shape)}.")
        x = noise.clone()
    x = x.to(device)
    label_tensor = torch.tensor(labels, dtype=torch.int64, device=device)
    if extra is not None:
        extra = torch.as_tensor(extra, dtype=torch.float32).reshape(len(labels), cfg["extra_condition_dim"])
        extra = extra.to(device)

    prompt_tensor = None
    if prompts is not None:
        if cfg["text"] is None:
            raise ValueError("This model was trained without reports and reads no text.")
        if tokenizer is None:
            raise ValueError("Prompts need the release's tokenizer: pass tokenizer=load_tokenizer(folder).")
        prompts = [prompts] * len(labels) if isinstance(prompts, str) else list(prompts)
        if len(prompts) != len(labels):
            raise ValueError(f"{len(prompts)} prompts for {len(labels)} labels.")
        prompt_tensor = prompt_rows(tokenizer, cfg["text"], prompts).to(device)
    conditions = (label_tensor, extra, prompt_tensor)

    with torch.no_grad():
        if name == "ddim":
            return sample_ddim(model, schedule, x, conditions, guidance, min(steps, schedule.timesteps),
                               eta, generator, progress)
        if name == "dpm-solver++":
            # Second order needs a step before the last timestep to look back on.
            return sample_dpm_solver(model, schedule, x, conditions, guidance,
                                     min(steps, schedule.timesteps - 1), progress)
        return sample_ddpm(model, schedule, x, conditions, guidance, generator, progress)


# --- Files: config.json, safetensors, .npy, PNG. ---

def load_config(folder):
    with open(os.path.join(folder, "config.json"), "r", encoding="utf-8") as f:
        config = json.load(f)
    if config.get("format") != FORMAT_NAME:
        raise ValueError(f"{folder}: config.json describes '{config.get('format')}', not a released model.")
    if int(config.get("format_version", 1)) > 1:
        print(f"warning: config.json has format_version {config['format_version']}; this script reads version 1.",
              file=sys.stderr)
    return config


def _require_little_endian():
    # torch.frombuffer reads native byte order; safetensors and '<f4' .npy are little-endian.
    if sys.byteorder != "little":
        raise RuntimeError("This script reads little-endian files and needs a little-endian machine.")


def read_safetensors(path):
    """Every tensor in a safetensors file (F32 only), by name, as independent float32 CPU tensors."""
    _require_little_endian()
    with open(path, "rb") as f:
        blob = bytearray(f.read())  # writable, so torch.frombuffer does not warn
    if len(blob) < 8:
        raise ValueError(f"{path}: not a safetensors file.")
    (header_len,) = struct.unpack("<Q", bytes(blob[:8]))
    if header_len > min(16 * 1024 * 1024, len(blob) - 8):
        raise ValueError(f"{path}: not a safetensors file (header of {header_len} bytes).")
    header = json.loads(bytes(blob[8:8 + header_len]).decode("utf-8"))
    data_start = 8 + header_len
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry.get("dtype") != "F32":
            raise ValueError(f"{path}: tensor '{name}' is {entry.get('dtype')}; only F32 is read here.")
        shape = [int(d) for d in entry["shape"]]
        begin, end = (int(o) for o in entry["data_offsets"])
        count = _product(shape)
        if end - begin != count * 4 or data_start + end > len(blob):
            raise ValueError(f"{path}: tensor '{name}' does not fit its declared byte range.")
        if count == 0:
            tensors[name] = torch.zeros(shape, dtype=torch.float32)
        else:
            flat = torch.frombuffer(blob, dtype=torch.float32, count=count, offset=data_start + begin)
            tensors[name] = flat.reshape(shape).clone()
    return tensors


def _product(values):
    result = 1
    for v in values:
        result *= v
    return result


def load_model(folder, device="cpu"):
    """The UNet of a release folder with its weights, in eval mode on ``device``, and the parsed config.json."""
    config = load_config(folder)
    model = UNet(config.get("model") or {})
    weights = read_safetensors(os.path.join(folder, config.get("weights") or "model.safetensors"))
    model.load_state_dict(weights, strict=True)
    model.to(device).eval()
    return model, config


def load_tokenizer(folder):
    """The release's prompt tokenizer (a text model's release has tokenizer.tiktoken), else None."""
    path = os.path.join(folder, "tokenizer.tiktoken")
    return Gpt2Tokenizer(path) if os.path.exists(path) else None


def read_npy(path):
    """A float32 tensor from a .npy file: with numpy if installed, else '<f4' (or '<f8') C-order arrays."""
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None:
        return torch.from_numpy(np.ascontiguousarray(np.load(path), dtype=np.float32))
    _require_little_endian()
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise ValueError(f"{path}: not a .npy file.")
        major, _minor = f.read(2)
        (header_len,) = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))
        header = ast.literal_eval(f.read(header_len).decode("latin1"))
        data = bytearray(f.read())
    descr, shape = header["descr"], tuple(header["shape"])
    if header.get("fortran_order"):
        raise ValueError(f"{path}: Fortran-order arrays need numpy.")
    dtypes = {"<f4": torch.float32, "<f8": torch.float64}
    if descr not in dtypes:
        raise ValueError(f"{path}: dtype {descr} needs numpy; only <f4 and <f8 are read without it.")
    count = _product(shape)
    if count == 0:
        return torch.zeros(shape, dtype=torch.float32)
    return torch.frombuffer(data, dtype=dtypes[descr], count=count).reshape(shape).to(torch.float32).clone()


def write_npy(path, tensor):
    """A float32 tensor as .npy (format 1.0), with numpy if installed, else written by hand."""
    tensor = tensor.detach().to("cpu", torch.float32).contiguous()
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None:
        np.save(path, tensor.numpy())
        return
    shape = tuple(tensor.shape)
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % (repr(shape),)
    # Magic, version and length take 10 bytes; the header pads with spaces to a multiple of 64, ending in '\n'.
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        f.write(struct.pack("<%df" % tensor.numel(), *tensor.flatten().tolist()))


def to_uint8(images):
    """round((x + 1) * 127.5), clamped to 0..255 (round half to even, as torch and TorchSharp round)."""
    return ((images.detach().to("cpu", torch.float32) + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)


def _have_pillow():
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def write_pngs(folder, images, labels):
    """000000.png, ... and metadata.csv (file_name,label): the Hugging Face imagefolder layout."""
    try:
        from PIL import Image
    except ImportError:
        raise RuntimeError("PNG output needs Pillow (pip install pillow); use --array to save a .npy instead.")
    import csv
    os.makedirs(folder, exist_ok=True)
    pixels = to_uint8(images)
    modes = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
    names = []
    for i in range(pixels.shape[0]):
        c, h, w = pixels[i].shape
        name = f"{i:06d}.png"
        data = bytes(pixels[i].permute(1, 2, 0).contiguous().flatten().tolist())
        Image.frombytes(modes[c], (w, h), data).save(os.path.join(folder, name))
        names.append(name)
    with open(os.path.join(folder, "metadata.csv"), "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["file_name", "label"])
        for name, label in zip(names, labels):
            writer.writerow([name, label])


# --- Command line. ---

def main(argv=None):
    parser = argparse.ArgumentParser(description="Sample images from an OrleansSynth diffusion model release.")
    parser.add_argument("--model", default=os.path.dirname(os.path.abspath(__file__)),
                        help="release folder (default: this script's folder)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--count", type=int, help="images to sample, labels cycling 0..num_classes-1")
    which.add_argument("--labels", help="comma-separated labels, one image each (num_classes = unconditional)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sampler", choices=SAMPLERS, help="default: config.json's sampler")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--eta", type=float, help="DDIM stochasticity (0: deterministic)")
    parser.add_argument("--guidance", type=float, help="classifier-free guidance: 1 conditional, 0 unconditional")
    parser.add_argument("--noise", help="float32 .npy [N,C,H,W] used as the starting noise x_T")
    parser.add_argument("--prompt", help="text every image is drawn from (a model trained with reports)")
    parser.add_argument("--out", help="folder for PNGs and metadata.csv (needs Pillow)")
    parser.add_argument("--array", help="write the raw float32 result in [-1, 1] to this .npy")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--verbose", action="store_true", help="print a line per step to stderr")
    args = parser.parse_args(argv)

    if args.out and not _have_pillow():
        # Checked before sampling, which can take minutes.
        print("error: PNG output needs Pillow (pip install pillow); use --array to save a .npy instead.",
              file=sys.stderr)
        return 1
    model, config = load_model(args.model, args.device)
    num_classes = model.config["num_classes"]
    noise = read_npy(args.noise) if args.noise else None
    if args.labels is not None:
        labels = [int(v) for v in args.labels.split(",") if v.strip()]
    else:
        # Without --count: one image per noise row if noise is given, else one per class.
        count = args.count if args.count is not None else (noise.shape[0] if noise is not None else num_classes)
        labels = [i % num_classes for i in range(count)]

    def progress(done, total):
        print(f"step {done}/{total}", file=sys.stderr)

    try:
        images = sample(model, config, labels, noise=noise, seed=args.seed, sampler=args.sampler, steps=args.steps,
                        eta=args.eta, guidance=args.guidance, progress=progress if args.verbose else None,
                        prompts=args.prompt,
                        tokenizer=load_tokenizer(args.model) if args.prompt is not None else None)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.array:
        write_npy(args.array, images)
    if args.out:
        write_pngs(args.out, images, labels)
    if not args.array and not args.out:
        print("Sampled %d images; pass --out DIR or --array FILE.npy to keep them." % len(labels), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
