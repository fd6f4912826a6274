"""Whisper's decoder in PyTorch, built from and written back to CTranslate2 variables.

The layout follows CTranslate2's ``WhisperSpec`` (pre-norm Transformer decoder, exact GELU,
fused query/key/value in self-attention, fused key/value in cross-attention, output
projection tied to the token embedding). Training runs in float32; :meth:`Decoder.export`
gives float16 arrays under the same names, adapters merged into the weights they adapt.

Imported only by the adaptation command: nothing else of the program needs PyTorch.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

PREFIX = "decoder/"
EPS = 1e-5
ADAPTER_PARTS = {  # which linear layers of a block get adapters, by their model.bin name
    "all": lambda name: True,
    "text": lambda name: not name.startswith("attention/"),
    "no-audio-keys": lambda name: name != "attention/linear_1",
}


class Linear(nn.Module):
    """A linear layer with an optional low-rank adapter (``W + B·A · alpha/rank``)."""

    def __init__(self, weight: np.ndarray, bias: np.ndarray | None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.from_numpy(weight.astype(np.float32)))
        self.bias = nn.Parameter(torch.from_numpy(bias.astype(np.float32))) if bias is not None else None
        self.lora_a: nn.Parameter | None = None
        self.lora_b: nn.Parameter | None = None
        self.scale = 0.0

    def add_adapter(self, rank: int, alpha: float) -> None:
        out_features, in_features = self.weight.shape
        self.lora_a = nn.Parameter(torch.randn(rank, in_features) / math.sqrt(in_features))
        self.lora_b = nn.Parameter(torch.zeros(out_features, rank))
        self.scale = alpha / rank

    def merged_weight(self) -> torch.Tensor:
        if self.lora_a is None:
            return self.weight
        return self.weight + self.scale * (self.lora_b @ self.lora_a)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.linear(x, self.weight, self.bias)
        if self.lora_a is not None:
            y = y + self.scale * F.linear(F.linear(x, self.lora_a), self.lora_b)
        return y


class LayerNorm(nn.Module):
    def __init__(self, gamma: np.ndarray, beta: np.ndarray) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.from_numpy(gamma.astype(np.float32)))
        self.beta = nn.Parameter(torch.from_numpy(beta.astype(np.float32)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.gamma, self.beta, EPS)


class Block(nn.Module):
    def __init__(self, v: dict[str, np.ndarray], name: str, heads: int) -> None:
        super().__init__()
        self.heads = heads

        def linear(part: str) -> Linear:
            return Linear(v[f"{name}/{part}/weight"], v.get(f"{name}/{part}/bias"))

        def norm(part: str) -> LayerNorm:
            return LayerNorm(v[f"{name}/{part}/layer_norm/gamma"], v[f"{name}/{part}/layer_norm/beta"])

        self.self_norm, self.self_qkv, self.self_out = norm("self_attention"), linear("self_attention/linear_0"), linear("self_attention/linear_1")
        self.cross_norm, self.cross_q, self.cross_kv, self.cross_out = (
            norm("attention"), linear("attention/linear_0"), linear("attention/linear_1"), linear("attention/linear_2"),
        )  # fmt: skip
        self.ffn_norm, self.ffn_in, self.ffn_out = norm("ffn"), linear("ffn/linear_0"), linear("ffn/linear_1")
        self.names = {
            "self_attention/layer_norm": self.self_norm, "self_attention/linear_0": self.self_qkv,
            "self_attention/linear_1": self.self_out, "attention/layer_norm": self.cross_norm,
            "attention/linear_0": self.cross_q, "attention/linear_1": self.cross_kv, "attention/linear_2": self.cross_out,
            "ffn/layer_norm": self.ffn_norm, "ffn/linear_0": self.ffn_in, "ffn/linear_1": self.ffn_out,
        }  # fmt: skip

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        return x.view(b, t, self.heads, d // self.heads).transpose(1, 2)

    def _merge(self, x: torch.Tensor) -> torch.Tensor:
        b, h, t, d = x.shape
        return x.transpose(1, 2).reshape(b, t, h * d)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor, causal: torch.Tensor) -> torch.Tensor:
        q, k, v = self.self_qkv(self.self_norm(x)).chunk(3, dim=-1)
        h = F.scaled_dot_product_attention(self._heads(q), self._heads(k), self._heads(v), attn_mask=causal)
        x = x + self.self_out(self._merge(h))
        q = self.cross_q(self.cross_norm(x))
        k, v = self.cross_kv(memory).chunk(2, dim=-1)
        h = F.scaled_dot_product_attention(self._heads(q), self._heads(k), self._heads(v), attn_mask=memory_mask)
        x = x + self.cross_out(self._merge(h))
        return x + self.ffn_out(F.gelu(self.ffn_in(self.ffn_norm(x))))


class Decoder(nn.Module):
    """Whisper's decoder from the ``decoder/*`` variables of a ``model.bin``."""

    def __init__(self, variables: dict[str, np.ndarray]) -> None:
        super().__init__()
        v = {k.removeprefix(PREFIX): a for k, a in variables.items() if k.startswith(PREFIX)}
        heads = int(v["num_heads"])
        if int(v["activation"]) != 3 or int(v["pre_norm"]) != 1:
            raise ValueError("not a Whisper decoder (expected pre-norm layers with exact GELU)")
        self.embeddings = nn.Parameter(torch.from_numpy(v["embeddings/weight"].astype(np.float32)))
        self.register_buffer("positions", torch.from_numpy(v["position_encodings/encodings"].astype(np.float32)))
        layers = sorted({int(k.split("/")[0].removeprefix("layer_")) for k in v if k.startswith("layer_") and k.split("/")[0] != "layer_norm"})
        self.layers = nn.ModuleList(Block(v, f"layer_{i}", heads) for i in layers)
        self.norm = LayerNorm(v["layer_norm/gamma"], v["layer_norm/beta"])

    def forward(self, tokens: torch.Tensor, memory: torch.Tensor, memory_lengths: torch.Tensor) -> torch.Tensor:
        """Logits for every position of ``tokens`` (batch, time) over encoder output ``memory``.

        ``memory`` (batch, frames, width) is zero-padded; ``memory_lengths`` says how many
        frames of each row are real.
        """
        t = tokens.shape[1]
        x = F.embedding(tokens, self.embeddings) + self.positions[:t]
        causal = torch.ones(t, t, dtype=torch.bool, device=tokens.device).tril()
        frames = torch.arange(memory.shape[1], device=memory.device)
        memory_mask = (frames[None, :] < memory_lengths[:, None])[:, None, None, :]
        for layer in self.layers:
            x = layer(x, memory, memory_mask, causal)
        return F.linear(self.norm(x), self.embeddings)

    def use_adapters(self, rank: int, alpha: float, parts: str = "all") -> None:
        """Freeze everything and add trainable low-rank adapters to the linear layers of ``parts``:
        ``all``; ``text``: self-attention and feed-forward only (not the layers of cross-attention,
        which read the audio); ``no-audio-keys``: all but cross-attention's keys and values."""
        if parts not in ADAPTER_PARTS:
            raise ValueError(f"unknown adapter parts {parts!r}: {', '.join(ADAPTER_PARTS)}")
        for p in self.parameters():
            p.requires_grad_(False)
        for layer in self.layers:
            for name, module in layer.names.items():
                if isinstance(module, Linear) and ADAPTER_PARTS[parts](name):
                    module.add_adapter(rank, alpha)

    def export(self) -> dict[str, np.ndarray]:
        """The trained weights as float16 arrays under their ``model.bin`` names."""
        out = {PREFIX + "embeddings/weight": self.embeddings, PREFIX + "layer_norm/gamma": self.norm.gamma, PREFIX + "layer_norm/beta": self.norm.beta}
        for i, layer in enumerate(self.layers):
            for part, module in layer.names.items():
                base = f"{PREFIX}layer_{i}/{part}"
                if isinstance(module, LayerNorm):
                    out[f"{base}/gamma"], out[f"{base}/beta"] = module.gamma, module.beta
                else:
                    out[f"{base}/weight"] = module.merged_weight()
                    if module.bias is not None:
                        out[f"{base}/bias"] = module.bias
        return {name: value.detach().to(torch.float16).numpy() for name, value in out.items()}
