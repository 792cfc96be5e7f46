"""The one-token decode step of the Llama and GPT-2 networks, without transformers' Python wrappers.

Why: ``SlotDecoder`` (``genai_demo.models.charlm``) advances every text and chorale request by one token per step,
and these networks are small: on a CPU a step is a few dozen tiny tensor operations, and part of its time went to
the Python around them in transformers' forward (keyword deprecation, output capture, config defaults, the cache and
mask plumbing). This module is that step with the arithmetic only: one pass 8-12% faster for text and 9-17% for
the chorales (``bench/batching.py --forward``); at 8 or 16 requests a batched step is about as fast as before,
within this machine's spread, since the arithmetic and each request's sampling dominate there. Prefill (a new
prompt, a (1, T) pass per request) is rare and stays on the transformers forward.

What it must equal: the logits of
``model(input_ids=tokens, position_ids=positions[:, None], attention_mask=mask, cache=cache, use_cache=True,
logits_to_keep=1)`` bit for bit (``torch.equal``), with the same keys and values written into the same
``SlotLayer`` buffers: same seed, same text and music. A CPU kernel chooses its blocking from the shapes and
strides of its operands, so an equal formula written another way (a fused projection, a reshape before a product)
can round differently. Hence the step calls the network's own modules (the embeddings, ``nn.Linear``, GPT-2's
``Conv1D`` (addmm), the norms, the MLPs, ``LlamaRotaryEmbedding``), and where transformers writes the arithmetic
inline (the rotary embedding, eager attention) it makes the same torch calls in the same order on tensors of the
same shapes, copied from ``modeling_llama.py`` and ``modeling_gpt2.py`` (transformers 5.24).
``tests/test_lean_decode.py`` checks the equality; if a transformers upgrade changes its code, that test fails
before any output changes. Another architecture, a network in training mode or attention other than eager has no
lean step here (``lean_step`` returns None) and runs transformers' forward.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F


def lean_step(model) -> Callable | None:
    """The lean decode step for ``model``, or None where there is none (then call transformers' forward).

    The step is ``step(model, input_ids (W, 1), position_ids (W, 1), mask (W, 1, 1, L), layers) -> logits (W, 1, V)``,
    ``layers`` the ``SlotLayer`` of each decoder layer, their ``positions`` already set."""
    from transformers import GPT2LMHeadModel, LlamaForCausalLM

    config = model.config
    if config._attn_implementation != "eager":
        return None
    if type(model) is LlamaForCausalLM:
        return llama_step
    if type(model) is GPT2LMHeadModel and not (config.add_cross_attention or config.reorder_and_upcast_attn):
        return gpt2_step
    return None


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    # Copied from transformers.models.llama.modeling_llama.rotate_half
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2 :]
    return torch.cat((-x2, x1), dim=-1)


def attend(q, keys, values, mask, scaling, softmax_dtype):
    """Eager attention of one new query per row over its slot: softmax(q k^T * scaling + mask) v, (W, 1, heads, hd).

    Llama's softmax is asked for float32 and cast back to the query's dtype, GPT-2's runs in the input's dtype and
    is cast to the values' (``softmax_dtype`` None): the same calls as each file's ``eager_attention_forward``."""
    weights = torch.matmul(q, keys.transpose(-2, -1)) * scaling  # (W, heads, 1, L)
    weights = weights + mask  # additive: 0 where the row may look, the float32 minimum elsewhere
    if softmax_dtype is None:
        weights = F.softmax(weights, dim=-1).type(values.dtype)
    else:
        weights = F.softmax(weights, dim=-1, dtype=softmax_dtype).to(q.dtype)
    return torch.matmul(weights, values).transpose(1, 2)  # (W, 1, heads, hd)


def llama_step(model, input_ids, position_ids, mask, layers):
    """``LlamaForCausalLM``: pre-norm RMSNorm, rotary positions, SwiGLU MLP (``modeling_llama.py``)."""
    from transformers.models.llama.modeling_llama import repeat_kv

    net = model.model
    hidden = net.embed_tokens(input_ids)  # (W, 1, D)
    cos, sin = net.rotary_emb(hidden, position_ids=position_ids)  # (W, 1, head_dim): each row's own position
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)  # (W, 1, 1, head_dim), broadcast over the heads
    for block, layer in zip(net.layers[: net.config.num_hidden_layers], layers):
        attn = block.self_attn
        residual = hidden
        x = block.input_layernorm(hidden)  # float32 RMSNorm, then weight *
        shape = (*x.shape[:-1], -1, attn.head_dim)  # (W, 1, heads, head_dim)
        q = attn.q_proj(x).view(shape).transpose(1, 2)  # (W, heads, 1, head_dim)
        k = attn.k_proj(x).view(shape).transpose(1, 2)
        v = attn.v_proj(x).view(shape).transpose(1, 2)
        q = (q * cos) + (rotate_half(q) * sin)  # rotary position embedding (Su et al. 2021)
        k = (k * cos) + (rotate_half(k) * sin)
        keys, values = layer.update(k, v)  # (W, kv_heads, L, head_dim): the new key at each row's position
        keys = repeat_kv(keys, attn.num_key_value_groups)  # grouped-query attention: kv heads shared
        values = repeat_kv(values, attn.num_key_value_groups)
        out = attend(q, keys, values, mask, attn.scaling, torch.float32).contiguous()
        out = attn.o_proj(out.reshape(*x.shape[:-1], -1).contiguous())  # (W, 1, D)
        hidden = residual + out
        residual = hidden
        hidden = residual + block.mlp(block.post_attention_layernorm(hidden))
    hidden = net.norm(hidden)
    return model.lm_head(hidden[:, -1:, :])  # (W, 1, vocab)


def gpt2_step(model, input_ids, position_ids, mask, layers):
    """``GPT2LMHeadModel``: learned positions, pre-norm LayerNorm, Conv1D projections, GELU MLP
    (``modeling_gpt2.py``; dropout is off in eval mode)."""
    net = model.transformer
    hidden = net.wte(input_ids) + net.wpe(position_ids)  # (W, 1, D): token and position embeddings
    for block, layer in zip(net.h, layers):
        attn = block.attn
        residual = hidden
        q, k, v = attn.c_attn(block.ln_1(hidden)).split(attn.split_size, dim=2)  # (W, 1, D) each
        shape = (*k.shape[:-1], -1, attn.head_dim)  # (W, 1, heads, head_dim)
        k = k.view(shape).transpose(1, 2)  # (W, heads, 1, head_dim)
        v = v.view(shape).transpose(1, 2)
        q = q.view(shape).transpose(1, 2)
        keys, values = layer.update(k, v)  # (W, heads, L, head_dim): the new key at each row's position
        out = attend(q, keys, values, mask, attn.scaling, None)
        out = attn.c_proj(out.reshape(*out.shape[:-2], -1).contiguous())  # (W, 1, D)
        hidden = out + residual
        residual = hidden
        hidden = residual + block.mlp(block.ln_2(hidden))
    hidden = net.ln_f(hidden)
    return model.lm_head(hidden[:, -1:, :])  # (W, 1, vocab)
