"""A character-level GPT of Shakespeare, and the token-by-token sampling loop every text model here uses.

An autoregressive language model factors the probability of a text into one prediction per token,
p(x) = prod_t p(x_t | x_<t) (Shannon 1951; Bengio et al. 2003; GPT, Radford et al. 2018). The network is a
decoder-only transformer: causal self-attention lets each position look only at the tokens before it, so one
forward pass trains every position at once, and generation feeds each sampled token back in as the next input.

The network is transformers' ``LlamaForCausalLM`` (pre-norm RMSNorm, rotary position embeddings, SwiGLU MLP;
Touvron et al. 2023), a small GPT in the style of nanoGPT's Shakespeare model, with one token per character.
The tokenizer is made with the tokenizers library: a BPE model with no merges, which is a character vocabulary
(65 characters plus ``<unk>`` for any character the text never contains). Both are saved the ecosystem's way,
so ``AutoModelForCausalLM.from_pretrained``, ``AutoTokenizer.from_pretrained`` and
``pipeline("text-generation")`` load the folder.

``sample_tokens`` is the sampling loop, written out rather than hidden in ``model.generate`` so that each step
can report the next-token probabilities before and after temperature, top-k and top-p. It is a coroutine that
asks for the next-token logits and draws from its own private ``torch.Generator``; ``SlotDecoder`` answers the
asks of every sequence being written at once in one pass per step (continuous batching, ``genai_demo.batching``),
keeping each sequence's attention cache (keys and values of earlier positions) in a slot of its own, and
``generate_stream`` is the plain iterator over one sequence's steps. It works for any transformers causal LM,
including hub models such as GPT-2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generator, Iterator

import torch
import torch.nn.functional as F
from transformers.cache_utils import Cache, CacheLayerMixin

from genai_demo import batching
from genai_demo.batching import Batcher, Engine, Need

UNK = "<unk>"

PRESETS = {
    # A 2-layer, 32-dim model for tests: seconds to build and train a few steps.
    "tiny": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                 max_position_embeddings=32),
    # The shipped model: about 3.2 M parameters, a 256-character context.
    "base": dict(hidden_size=256, num_hidden_layers=4, num_attention_heads=4, intermediate_size=704,
                 max_position_embeddings=256),
}


def build_tokenizer(text: str, context_length: int):
    """A character tokenizer for ``text``: every distinct character is one token, id 0 is ``<unk>``.

    Accents are stripped first (NFKD), so "é" reads as "e"; any other unseen character becomes ``<unk>``.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers
    from transformers import PreTrainedTokenizerFast

    chars = sorted(set(text))
    vocab = {UNK: 0, **{c: i + 1 for i, c in enumerate(chars)}}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=UNK))  # BPE with no merges = characters
    tok.normalizer = normalizers.Sequence([normalizers.NFKD(), normalizers.StripAccents()])
    tok.decoder = decoders.Fuse()  # join characters as they are, with no spaces between tokens
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token=UNK, clean_up_tokenization_spaces=False,
                                   model_max_length=context_length)


def make_model(vocab_size: int, preset: str = "base", **overrides):
    """A randomly initialised ``LlamaForCausalLM`` of the given preset, input and output embeddings tied."""
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = {**PRESETS[preset], **overrides}
    config = LlamaConfig(vocab_size=vocab_size, tie_word_embeddings=True, bos_token_id=None, eos_token_id=None,
                         pad_token_id=None, **cfg)
    return LlamaForCausalLM(config)


def context_length(model) -> int:
    """How many tokens the model can attend to at once."""
    cfg = model.config
    for name in ("max_position_embeddings", "n_positions", "n_ctx"):
        if getattr(cfg, name, None):
            return int(getattr(cfg, name))
    return 1024


# -- training and evaluation --------------------------------------------------


def random_batch(ids: torch.Tensor, batch_size: int, block: int, generator: torch.Generator):
    """``batch_size`` random windows of ``block`` tokens (x) and the same windows shifted by one (y, the targets)."""
    block = min(block, len(ids) - 1)
    starts = torch.randint(0, len(ids) - block, (batch_size,), generator=generator)
    x = torch.stack([ids[s : s + block] for s in starts.tolist()])  # (B, T)
    y = torch.stack([ids[s + 1 : s + 1 + block] for s in starts.tolist()])  # (B, T)
    return x, y


def lm_loss(model, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of each next token, -log p(x_t | x_<t), in nats, averaged over the batch and positions."""
    logits = model(input_ids=x).logits  # (B, T, vocab)
    return F.cross_entropy(logits.float().flatten(0, 1), y.flatten())


@torch.no_grad()
def nats_per_char(model, ids: torch.Tensor, num_chars: int, block: int, batch_size: int = 16) -> float:
    """Negative log-likelihood of a held-out text, in nats per character.

    As nanoGPT measures it: the text is cut into windows of ``block`` tokens and every position of every window
    is predicted from the positions before it in its window. The total is divided by the number of characters,
    so a tokenizer with longer tokens is compared fairly (for characters, tokens and characters are the same).
    """
    model.eval()
    block = min(block, len(ids) - 1)
    starts = list(range(0, len(ids) - 1 - block + 1, block))
    total, count = 0.0, 0
    for i in range(0, len(starts), batch_size):
        x = torch.stack([ids[s : s + block] for s in starts[i : i + batch_size]])
        y = torch.stack([ids[s + 1 : s + 1 + block] for s in starts[i : i + batch_size]])
        logits = model(input_ids=x).logits.float()
        total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
        count += y.numel()
    return total / count * (len(ids) / num_chars)


# -- sampling -------------------------------------------------------------------


@dataclass
class Step:
    """One generated token and the probabilities it was drawn from."""

    token_id: int
    p_model: float  # the model's probability of the chosen token, before any sampling setting
    p_sampled: float  # its probability in the distribution actually sampled from
    candidates: list[tuple[int, float, float]]  # (token id, p_model, p_sampled), most likely first
    kept: int  # how many tokens could still be drawn after top-k and top-p
    recomputed: bool  # the context was full: the oldest half was dropped and the cache rebuilt


def make_processors(do_sample: bool, temperature: float, top_k: int, top_p: float, repetition_penalty: float):
    """transformers' own logits processors, in ``model.generate``'s order: penalty, temperature, top-k, top-p (the
    suppression of tokens never written, which comes first there, is ``sample_tokens``'s own mask)."""
    from transformers import (LogitsProcessorList, RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper,
                              TopKLogitsWarper, TopPLogitsWarper)

    processors = LogitsProcessorList()
    if repetition_penalty != 1.0:
        processors.append(RepetitionPenaltyLogitsProcessor(repetition_penalty))
    if do_sample:
        if temperature != 1.0:
            processors.append(TemperatureLogitsWarper(temperature))
        if top_k > 0:
            processors.append(TopKLogitsWarper(top_k))
        if top_p < 1.0:
            processors.append(TopPLogitsWarper(top_p))
    return processors


def reshaped(processors, ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """``processors(ids, scores)``, the same calls in the same order, without ``LogitsProcessorList``'s look at each
    processor's signature on every call (with the candidates read in two calls below: 173 -> 108 us per token
    and request; with the suppression's mask made once, the tokens in a list and ``draw``: 52 us)."""
    for processor in processors:
        scores = processor(ids, scores)
    return scores


class Prefill(Need):
    """Read these tokens from scratch (a new request, or a window that slid); the answer: the next-token logits."""

    def __init__(self, ids: list[int], cache: bool = True):
        self.ids, self.cache = ids, cache  # cache=False: recompute, keep nothing (``use_cache=False``)


class NextToken(Need):
    """Read one more token after those already read; the answer: the next-token logits."""

    def __init__(self, token: int):
        self.token = token


class SlotLayer(CacheLayerMixin):
    """One layer's keys and values for a chunk of ``width`` sequences, each in its own row of a fixed-size buffer.

    transformers' caches give all rows one position; here every row writes its new key at its own position
    (``positions``, set before each step), and the buffer never changes shape, so neither do the sums over it."""

    def __init__(self, width: int, length: int):
        super().__init__()
        self.width, self.length = width, length
        self.positions: torch.Tensor | None = None  # (width,): where each row's new token goes

    def lazy_initialization(self, key_states: torch.Tensor, value_states: torch.Tensor) -> None:
        _, heads, _, k_dim = key_states.shape
        self.keys = key_states.new_zeros(self.width, heads, self.length, k_dim)  # (W, heads, L, head_dim)
        self.values = value_states.new_zeros(self.width, value_states.shape[1], self.length, value_states.shape[-1])
        self.is_initialized = True

    def update(self, key_states, value_states, *args, **kwargs):
        if not self.is_initialized:
            self.lazy_initialization(key_states, value_states)
        rows = torch.arange(self.width, device=key_states.device)
        self.keys[rows, :, self.positions] = key_states[:, :, 0]  # (W, heads, head_dim) at each row's position
        self.values[rows, :, self.positions] = value_states[:, :, 0]
        return self.keys, self.values

    def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
        return self.length, 0

    def get_seq_length(self) -> int:
        return self.length

    def get_max_length(self) -> int:
        return self.length


class SlotDecoder(Engine):
    """Continuous batching for a transformers causal LM (``genai_demo.batching``): requests read their prompt alone
    (``Prefill``, a (1, T) pass whose keys and values are copied into the request's slot) and then advance one
    token per step together (``NextToken``), in chunks of exactly ``width`` slots over a ``length``-token buffer,
    so a sequence's numbers never depend on which others share its step.

    The one-token steps of a Llama or GPT-2 network run ``genai_demo.models.lean_decode`` (the same arithmetic as
    transformers' forward, bit for bit, without its Python wrappers); ``lean=False``, or any other network, calls
    transformers' forward."""

    lean = True  # the default for ``lean`` (bench/batching.py --transformers-step turns it off to compare)

    def __init__(self, model, width: int, length: int, lean: bool | None = None):
        from genai_demo.models.lean_decode import lean_step

        self.model, self.width, self.length = model, width, length
        # transformers' default attention (PyTorch's scaled_dot_product_attention) splits a batch between threads
        # that round differently: a sequence in the second half of a chunk got other bits than in the first. The
        # plain "eager" attention (two matrix products and a softmax) gives a row the same bits in every place.
        if model.config._attn_implementation != "eager":
            model.set_attn_implementation("eager")
        self.slots: dict[object, tuple[int, int]] = {}  # request -> (chunk, index)
        self.filled: dict[object, int] = {}  # request -> tokens in its slot
        self.chunks: list[list[object | None]] = []  # per chunk: the request in each slot, or None
        self.caches: list[Cache] = []
        self.lean_step = lean_step(model) if (self.lean if lean is None else lean) else None

    def _slot(self, request: object) -> tuple[int, int]:
        if request not in self.slots:
            free = [(c, i) for c, chunk in enumerate(self.chunks) for i, r in enumerate(chunk) if r is None]
            if not free:
                self.chunks.append([None] * self.width)
                self.caches.append(Cache(layers=[SlotLayer(self.width, self.length)
                                                 for _ in range(self.model.config.num_hidden_layers)]))
                free = [(len(self.chunks) - 1, 0)]
            c, i = free[0]
            self.chunks[c][i] = request
            self.slots[request] = (c, i)
        return self.slots[request]

    def leave(self, request: object) -> None:
        if request in self.slots:
            c, i = self.slots.pop(request)
            self.filled.pop(request, None)
            self.chunks[c][i] = None
            while self.chunks and all(r is None for r in self.chunks[-1]):  # give back the memory of empty chunks
                self.chunks.pop()
                self.caches.pop()

    @torch.no_grad()
    def compute(self, work):
        answers: dict[object, torch.Tensor] = {}
        device = self.model.device
        # (1) Every request that reads one more token, chunk by chunk, all slots at once. First: a slot that is
        # idle, or refilled below, gets a harmless dummy write at position 0.
        stepping = {r: need for r, need in work if isinstance(need, NextToken)}
        for c in sorted({self._slot(r)[0] for r in stepping}):
            rows = [(stepping[r].token, self.filled[r]) if r in stepping else (0, 0) for r in self.chunks[c]]
            tokens = torch.tensor([[token] for token, _ in rows], dtype=torch.long)
            positions = torch.tensor([position for _, position in rows], dtype=torch.long)
            # Each row sees its own slot's positions 0..p (its tokens so far and the new one): (W, 1, 1, L), additive.
            visible = torch.arange(self.length)[None, :] <= positions[:, None]
            mask = torch.zeros(self.width, 1, 1, self.length).masked_fill(~visible[:, None, None, :],
                                                                          torch.finfo(torch.float32).min)
            cache = self.caches[c]
            for layer in cache.layers:
                layer.positions = positions.to(device)
            ids, where, mask = tokens.to(device), positions[:, None].to(device), mask.to(device)
            if self.lean_step is not None and not self.model.training:
                logits = self.lean_step(self.model, ids, where, mask, cache.layers)  # (W, 1, vocab)
            else:
                logits = self.model(input_ids=ids, position_ids=where, attention_mask=mask, cache=cache,
                                    use_cache=True, logits_to_keep=1).logits
            logits = logits[:, -1, :].float()
            for i, r in enumerate(self.chunks[c]):
                if r in stepping:
                    answers[r] = logits[i : i + 1]  # (1, vocab)
                    self.filled[r] += 1
        # (2) Every request that reads a prompt (or a window that slid) from scratch: alone, as a (1, T) pass.
        for r, need in work:
            if isinstance(need, Prefill):
                ids = torch.tensor([need.ids], dtype=torch.long, device=device)
                if not need.cache:
                    answers[r] = self.model(input_ids=ids, use_cache=False, logits_to_keep=1).logits[:, -1, :].float()
                    continue
                out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1)
                c, i = self._slot(r)
                for mine, theirs in zip(self.caches[c].layers, out.cache.layers):
                    if not mine.is_initialized:
                        mine.lazy_initialization(theirs.keys, theirs.values)
                    mine.keys[i, :, : ids.shape[1]] = theirs.keys[0]
                    mine.values[i, :, : ids.shape[1]] = theirs.values[0]
                self.filled[r] = ids.shape[1]
                answers[r] = out.logits[:, -1, :].float()
        return [answers[r] for r, _ in work]


def decoder(model, window: int, width: int = 8) -> Batcher:
    """The process's one batcher for ``model`` with a ``window``-token context, ``width`` sequences per chunk."""
    return batching.shared(model, ("tokens", window, width), lambda: SlotDecoder(model, width, window), "text")


def sample_tokens(input_ids: list[int], generator: torch.Generator | None, *, window: int, max_new_tokens: int,
                  do_sample: bool = True, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                  repetition_penalty: float = 1.0, eos_token_id: int | list[int] | None = None,
                  suppress_ids: list[int] = (), use_cache: bool = True, num_candidates: int = 10,
                  device="cpu") -> Generator:
    """The sampling loop of one sequence, as a coroutine for ``genai_demo.batching``: it yields what it needs from
    the network (``Prefill``, ``NextToken``) and receives the next-token logits (1, vocab); after each draw it
    yields a ``Step``. Sample x_t ~ p(x_t | x_<t), append it, repeat.

    When the context fills up, the oldest half is dropped and the rest read again, so generation can run past the
    context length. ``use_cache=False`` rereads the whole window at every step instead (same tokens, much slower).
    """
    eos = {eos_token_id} if isinstance(eos_token_id, int) else set(eos_token_id or ())
    processors = make_processors(do_sample, temperature, top_k, top_p, repetition_penalty)
    suppressed = None  # (vocab,): the tokens never written, as transformers' SuppressTokensLogitsProcessor masks them
    tokens = list(input_ids)  # the prompt, then each new token
    start, fresh = 0, True  # the window the model reads is tokens[start:]; fresh: it must be read from scratch
    for _ in range(max_new_tokens):
        recomputed = len(tokens) - start > window
        if recomputed:  # keep the newest half of the context and read it again
            start, fresh = len(tokens) - window // 2, True
        if fresh or not use_cache:
            logits = yield Prefill(tokens[start:], cache=use_cache)  # (1, vocab): scores for the next token
            fresh = False
        else:
            logits = yield NextToken(tokens[-1])

        # (1) The model's own distribution p(x_t | x_<t).
        p_model = logits.softmax(-1)
        # (2) Reshape it: suppressed tokens, repetition penalty, temperature (divide logits by T), top-k, top-p
        # (nucleus): transformers' processors in ``generate``'s order (the suppression's mask made once, here).
        if suppressed is None and suppress_ids:
            suppressed = torch.isin(torch.arange(logits.shape[-1], device=logits.device),
                                    torch.tensor(list(suppress_ids), device=logits.device))
        scores = logits.masked_fill(suppressed, -float("inf")) if suppress_ids else logits.clone()
        ids = torch.tensor([tokens], dtype=torch.long, device=device) if repetition_penalty != 1.0 else None
        scores = reshaped(processors, ids, scores)  # (only the repetition penalty reads the tokens so far)
        # (3) Draw the next token from the reshaped distribution, or take the most likely one (greedy).
        if do_sample:
            p_sampled = scores.softmax(-1)
            token = int(draw(p_sampled, generator))  # this request's own generator
        else:
            token = int(scores.argmax(-1))
            p_sampled = torch.zeros_like(p_model)
            p_sampled[0, token] = 1.0
        tokens.append(token)

        top = p_model[0].topk(min(num_candidates, p_model.shape[1])).indices.tolist()
        if token not in top:
            top.append(token)
        model_p, sampled_p = p_model[0, top].tolist(), p_sampled[0, top].tolist()  # two reads, not one per candidate
        yield Step(token_id=token, p_model=model_p[top.index(token)], p_sampled=sampled_p[top.index(token)],
                   candidates=list(zip(top, model_p, sampled_p)), kept=int(p_sampled.count_nonzero()),
                   recomputed=recomputed)
        if token in eos:
            return


def draw(probs: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """One draw from each row's categorical distribution (N, K) -> (N,): argmax(p / q) with q ~ Exp(1) per entry,
    the numbers ``torch.multinomial(probs, 1, generator=generator)`` draws, in fewer operations."""
    return (probs / torch.empty_like(probs).exponential_(generator=generator)).argmax(-1)


def generate_stream(model, input_ids: list[int], generator: torch.Generator | None = None, *, max_new_tokens: int,
                    max_context: int | None = None, width: int = 8, **settings) -> Iterator[Step]:
    """Yield one ``Step`` per new token (``sample_tokens``'s settings), computed in this process's shared batch for
    ``model``: requests running at once advance together, and each gets the same tokens as alone.

    ``input_ids`` must hold at least one token and at most the model's context (or ``max_context``)."""
    window = max_context or context_length(model)
    if not 0 < len(input_ids) <= window:
        raise ValueError(f"the prompt must hold 1 to {window} tokens, not {len(input_ids)}")
    steps = sample_tokens(input_ids, generator, window=window, max_new_tokens=max_new_tokens, device=model.device,
                          **settings)
    return decoder(model, window, width).stream(steps)
