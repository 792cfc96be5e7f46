"""Reading a visitor's text with the character model of ``charlm.py``: how surprised it is by each character
(``score_ids``) and where each layer's and head's attention goes (``attention_maps``).

Two read-only views of a text someone wrote. Neither samples, and neither changes the model or its settings, so
generation (``charlm.generate_stream``) reads the same bytes whatever these do.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from genai_demo.models.charlm import context_length


@dataclass
class Scored:
    """How well the model predicted each token of a text: ``logp[i]`` is log p(x_i | x_<i), in nats."""

    ids: list[int]  # the tokens read, the first being the start token (not scored)
    logp: list[float]  # one per token after the first
    candidates: list[list[tuple[int, float]]]  # per scored token: the likeliest tokens there and their probabilities

    @property
    def nats_per_token(self) -> float:
        return -sum(self.logp) / max(1, len(self.logp))


@torch.no_grad()
def score_ids(model, ids: list[int], num_candidates: int = 5, batch_size: int = 8) -> Scored:
    """-log p of every token of ``ids`` after the first, each predicted from up to a window of tokens before it.

    A text longer than the context is read in windows that overlap by half: every token is scored from at least
    half a window of context (the tokens of the first window from what comes before them), the way a sliding
    evaluation of a language model reads a long document.
    """
    window = context_length(model)
    if len(ids) < 2:
        raise ValueError("a text to score needs at least one token after the start token")
    stride = max(1, window // 2)
    # Window w covers ids[start : start + window] and scores the targets from ``first`` on (positions in ids).
    plans, start = [], 0
    while True:
        end = min(len(ids), start + window)
        first = 1 if start == 0 else start + window - stride
        plans.append((start, end, first))
        if end == len(ids):
            break
        start += stride
    logp: list[float] = [0.0] * (len(ids) - 1)
    candidates: list[list[tuple[int, float]]] = [[] for _ in range(len(ids) - 1)]
    for i in range(0, len(plans), batch_size):
        batch = plans[i : i + batch_size]
        length = max(end - start for start, end, _ in batch)
        x = torch.zeros((len(batch), length), dtype=torch.long)  # padding at the end is never read (causal)
        for row, (start, end, _) in enumerate(batch):
            x[row, : end - start] = torch.tensor(ids[start:end])
        logprobs = model(input_ids=x.to(model.device)).logits.float().log_softmax(-1)  # (B, T, vocab)
        for row, (start, end, first) in enumerate(batch):
            for pos in range(first, end):  # predict ids[pos] from the positions before it in this window
                dist = logprobs[row, pos - start - 1]
                logp[pos - 1] = float(dist[ids[pos]])
                top = dist.topk(min(num_candidates, dist.shape[-1]))
                candidates[pos - 1] = [(int(t), float(v.exp())) for v, t in zip(top.values, top.indices)]
    return Scored(list(ids), logp, candidates)


@torch.no_grad()
def attention_maps(model, ids: list[int]) -> torch.Tensor:
    """Every layer's and head's attention weights over ``ids``: (layers, heads, T, T), row t over positions <= t.

    For the Llama models of this file. The weights are computed from the same pieces the model uses (each layer's
    input after its RMSNorm, the query and key projections, the rotary embedding, softmax(q k^T / sqrt(d)) with the
    causal mask), so the model's attention implementation and settings stay as they are; tests check them against
    transformers' own eager attention.
    """
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    inner = model.model
    x = torch.tensor([ids], dtype=torch.long, device=model.device)  # (1, T)
    out = inner(input_ids=x, output_hidden_states=True, use_cache=False)
    hidden = out.hidden_states  # the embeddings, then each layer's output: hidden[i] is layer i's input
    position_ids = torch.arange(len(ids), device=model.device).unsqueeze(0)
    cos, sin = inner.rotary_emb(hidden[0], position_ids=position_ids)
    causal = torch.ones(len(ids), len(ids), dtype=torch.bool, device=model.device).tril()
    maps = []
    for i, layer in enumerate(inner.layers[: model.config.num_hidden_layers]):
        attn = layer.self_attn
        h = layer.input_layernorm(hidden[i])  # (1, T, C)
        shape = (1, len(ids), -1, attn.head_dim)
        q = attn.q_proj(h).view(shape).transpose(1, 2)  # (1, nh, T, hs)
        k = attn.k_proj(h).view(shape).transpose(1, 2)  # (1, n_kv, T, hs)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        k = k.repeat_interleave(q.shape[1] // k.shape[1], dim=1)  # grouped-query heads share keys
        scores = (q @ k.transpose(-1, -2)).float() * attn.scaling  # (1, nh, T, T)
        maps.append(scores.masked_fill(~causal, -float("inf")).softmax(-1)[0])
    return torch.stack(maps)  # (layers, nh, T, T)
