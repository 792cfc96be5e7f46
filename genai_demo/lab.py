"""The GAN lab: a tiny GAN learning a 2-D toy distribution, live, one small step at a time.

Two small multilayer perceptrons play the minimax game of Goodfellow et al. (2014, "Generative Adversarial Nets",
eq. 1): the generator G maps noise z ~ N(0, I) to a point in the plane, the discriminator D gives each point a logit
of "this is real". Training alternates Algorithm 1's two updates, D first (``d_steps`` times), then G with the
non-saturating loss (section 3). The data is a ring of 8 Gaussians (the test bed of Metz et al., 2017, "Unrolled
GANs", where a plain GAN drops modes), two moons, or a grid of 25 Gaussians.

A run is a pure function of its settings and seed: the weights are initialised and every batch is drawn from one
private ``torch.Generator``, so the same seed and settings give the same weights, losses and pictures after the same
number of steps, however the steps were split between Train, Step and Pause.

What a visitor's runs may cost (time, one at a time, a share of one core) is ``genai_demo.lab_sessions``'s
business; the pictures are ``genai_demo.lab_draw``'s. Nothing here imports gradio.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from genai_demo.contract import Param, ParameterError, Preset, seed_param

BATCH = 128  # real and generated points per training step
PREVIEW = 1000  # generated points drawn in a picture and counted for the modes (fixed noise per run)
LINK_ID = "lab/gan"  # what a share link names: ?tab=lab&model=lab/gan&seed=...

# -- the toy distributions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Toy:
    """A 2-D distribution: a mixture of Gaussians at ``centres`` with standard deviation ``std`` (or the moons)."""

    name: str
    extent: float  # the pictures show [-extent, extent] on both axes
    std: float
    centres: tuple = ()  # (x, y) per mode; empty: no modes to count (two moons)

    def sample(self, n: int, generator):
        import torch

        if self.name == "moons":  # two interleaved half circles (as scikit-learn's make_moons), centred and scaled
            upper = torch.rand(n, generator=generator) < 0.5
            angle = torch.rand(n, generator=generator) * math.pi
            x = torch.where(upper, torch.cos(angle), 1 - torch.cos(angle))
            y = torch.where(upper, torch.sin(angle), 0.5 - torch.sin(angle))
            points = torch.stack([x - 0.5, y - 0.25], 1) * 1.6
            return points + self.std * torch.randn(n, 2, generator=generator)
        centres = torch.tensor(self.centres, dtype=torch.float32)
        which = torch.randint(0, len(centres), (n,), generator=generator)
        return centres[which] + self.std * torch.randn(n, 2, generator=generator)


def _ring(k: int = 8, radius: float = 2.0) -> tuple:
    return tuple((round(radius * math.cos(2 * math.pi * i / k), 6), round(radius * math.sin(2 * math.pi * i / k), 6))
                 for i in range(k))


TOYS = {
    "ring": Toy("ring", 3.0, 0.1, _ring()),
    "moons": Toy("moons", 3.0, 0.05),
    "grid": Toy("grid", 5.0, 0.1, tuple((float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4))),
}


def modes_covered(points, toy: Toy, fair_share: float = 0.4) -> int | None:
    """How many modes hold at least ``fair_share`` of their fair share of ``points`` (for the ring of 8: 5%) within
    2 standard deviations of their centre; None for a distribution without modes. A generator that has collapsed
    onto a few modes covers only those."""
    import torch

    if not toy.centres:
        return None
    distance = torch.cdist(points, torch.tensor(toy.centres, dtype=torch.float32))  # (N, modes)
    near = (distance < 2 * toy.std).float().mean(0)
    return int((near >= fair_share / len(toy.centres)).sum())


# -- the settings -----------------------------------------------------------------------------------------------------


def _lr(name: str, label: str, who: str, ko: tuple) -> Param:
    return Param(name, "slider", 0.002, f"How big a step the {who} takes after each batch: too small and nothing "
                 "happens, too large and training swings or breaks.", label=label, minimum=0.0001, maximum=1.0,
                 step=0.0001, translations={"ko": ko})


PARAMS = (
    seed_param(),
    Param("distribution", "choice", "ring", "The real data the generator must learn to imitate.", label="Real data",
          choices=tuple(TOYS),
          translations={"ko": ("진짜 데이터", "생성자가 흉내 내야 할 진짜 데이터입니다.")},
          choice_names={"en": {"ring": "ring of 8", "moons": "two moons", "grid": "grid of 25"},
                        "ko": {"ring": "8개의 고리", "moons": "두 개의 초승달", "grid": "25개의 격자"}}),
    _lr("lr_g", "Generator learning rate", "generator",
        ("생성자 학습률", "배치마다 생성자가 얼마나 크게 움직일지입니다. 너무 작으면 변화가 없고, 너무 크면 학습이 흔들리거나 "
                     "망가집니다.")),
    _lr("lr_d", "Discriminator learning rate", "discriminator",
        ("판별자 학습률", "배치마다 판별자가 얼마나 크게 움직일지입니다. 너무 작으면 변화가 없고, 너무 크면 학습이 흔들리거나 "
                     "망가집니다.")),
    Param("d_steps", "integer", 1, "How many times the discriminator learns before each step of the generator.",
          label="Discriminator steps per generator step", minimum=1, maximum=5, step=1, advanced=True,
          translations={"ko": ("생성자 한 번에 판별자 학습 횟수", "생성자가 한 번 배울 때마다 판별자가 몇 번 배울지입니다.")}),
    Param("noise_size", "integer", 2, "How many random numbers the generator turns into one point.",
          label="Noise size", minimum=1, maximum=16, step=1,
          translations={"ko": ("노이즈 크기", "생성자가 점 하나로 바꾸는 무작위 숫자의 개수입니다.")}),
    Param("width", "integer", 64, "Neurons in each hidden layer of both networks: more can draw finer shapes.",
          label="Network width", minimum=2, maximum=128, step=1,
          translations={"ko": ("신경망 너비", "두 신경망의 은닉층마다 있는 뉴런 수입니다. 많을수록 더 섬세한 모양을 그릴 수 "
                                          "있습니다.")}),
    Param("optimizer", "choice", "adam", "How each network turns its gradient into a step: Adam adapts the step "
          "size, plain gradient descent does not.", label="Optimiser", choices=("adam", "sgd"), advanced=True,
          translations={"ko": ("최적화 방법", "각 신경망이 기울기를 한 걸음으로 바꾸는 방법입니다. Adam은 걸음 크기를 "
                                          "스스로 조절하고, 경사 하강법은 그렇지 않습니다.")},
          choice_names={"en": {"adam": "Adam", "sgd": "plain gradient descent"},
                        "ko": {"adam": "Adam", "sgd": "경사 하강법"}}),
)
STRUCTURE = ("seed", "distribution", "noise_size", "width", "optimizer")  # changing one of these starts a new run

PRESETS = (
    Preset("default", {}, {
        "en": ("Good: the defaults", "both networks learn at the same pace; within half a minute the generator's "
                                     "points spread over every mode of the ring."),
        "ko": ("좋음: 기본값", "두 신경망이 같은 빠르기로 배웁니다. 30초 안에 생성자의 점들이 고리의 모든 봉우리로 "
                             "퍼집니다.")}),
    Preset("collapse", {"lr_g": 0.02, "lr_d": 0.0001}, {
        "en": ("Broken: mode collapse", "the generator learns 200 times faster than the discriminator. Whatever "
               "spot the discriminator likes best right now, all of the generator's points rush there together, so "
               "they stay bunched on one or two spots (or between modes) instead of spreading over all eight: "
               "the generator found one answer that fools the discriminator and has no reason to vary."),
        "ko": ("망가짐: 모드 붕괴", "생성자가 판별자보다 200배 빨리 배웁니다. 판별자가 지금 가장 좋아하는 곳으로 생성자의 "
               "점들이 한꺼번에 몰려가, 여덟 봉우리로 퍼지지 못하고 한두 곳(또는 봉우리 사이)에 뭉쳐 있습니다. 판별자를 "
               "속이는 답 하나를 찾았으니 생성자는 다양해질 이유가 없습니다.")}, broken=True),
    Preset("diverge", {"lr_g": 1.0, "lr_d": 1.0, "optimizer": "sgd"}, {
        "en": ("Broken: far too fast", "plain gradient descent with a learning rate of 1: each step overshoots, the "
                                       "numbers grow without bound and the training diverges within moments."),
        "ko": ("망가짐: 너무 빠름", "학습률 1의 경사 하강법: 걸음마다 지나쳐 숫자가 끝없이 커지고, 학습이 곧 발산합니다.")},
        broken=True),
)


def validate(values: dict) -> dict:
    """Every setting checked against its declaration (the contract's messages: name, value, allowed range)."""
    unknown = sorted(set(values) - {p.name for p in PARAMS})
    if unknown:
        raise ParameterError(f"the lab has no setting {', '.join(unknown)}")
    return {p.name: p.validate(values.get(p.name, p.default)) for p in PARAMS}


# -- the networks and one run -----------------------------------------------------------------------------------------


def mlp(sizes: list[int], generator):
    """Linear layers with LeakyReLU between them, initialised from ``generator`` (PyTorch's default uniform bounds,
    drawn privately: the global random state is never touched, so two visitors' runs never mix)."""
    import torch
    import torch.nn as nn

    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = nn.Linear(n_in, n_out)
        bound = 1 / math.sqrt(n_in)
        with torch.no_grad():
            linear.weight.copy_((torch.rand(linear.weight.shape, generator=generator) * 2 - 1) * bound)
            linear.bias.copy_((torch.rand(linear.bias.shape, generator=generator) * 2 - 1) * bound)
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


class LabRun:
    """One training run: G and D, their optimisers, the private random state, and the losses so far."""

    def __init__(self, values: dict):
        import torch

        self.values = dict(values)
        self.toy = TOYS[values["distribution"]]
        self.generator = torch.Generator().manual_seed(values["seed"])
        w, z = values["width"], values["noise_size"]
        self.G = mlp([z, w, w, 2], self.generator)  # noise -> point
        self.D = mlp([2, w, w, 1], self.generator)  # point -> logit of "real"
        # Fixed for the run, so that every picture shows the same noise and the same real points.
        self.preview_z = torch.randn(PREVIEW, z, generator=self.generator)
        self.preview_real = self.toy.sample(PREVIEW // 2, self.generator)
        self.steps = 0
        self.d_losses: list[float] = []
        self.g_losses: list[float] = []
        self.trained_seconds = 0.0
        self.diverged = False
        self._make_optimisers()

    def _make_optimisers(self) -> None:
        import torch

        # foreach: one call updates all of a network's tensors (a tiny network's step is mostly per-call overhead).
        if self.values["optimizer"] == "adam":  # beta1 = 0.5, as DCGAN (Radford et al., 2015) advises for GANs
            make = lambda params, lr: torch.optim.Adam(params, lr=lr, betas=(0.5, 0.999), foreach=True)  # noqa: E731
        else:
            make = lambda params, lr: torch.optim.SGD(params, lr=lr, foreach=True)  # noqa: E731
        self.opt_g = make(self.G.parameters(), self.values["lr_g"])
        self.opt_d = make(self.D.parameters(), self.values["lr_d"])

    def retune(self, values: dict) -> None:
        """New learning rates or discriminator steps take effect at the next step, as in GAN Lab."""
        self.values.update({k: values[k] for k in ("lr_g", "lr_d", "d_steps")})
        for group in self.opt_g.param_groups:
            group["lr"] = values["lr_g"]
        for group in self.opt_d.param_groups:
            group["lr"] = values["lr_d"]

    def train(self, n: int) -> None:
        """``n`` steps of Goodfellow et al.'s Algorithm 1; stops early, marking the run, if a loss stops being a
        number (it diverged)."""
        import torch
        import torch.nn.functional as F

        z_size = self.values["noise_size"]
        targets = torch.cat([torch.ones(BATCH, 1), torch.zeros(BATCH, 1)])  # real first, then generated
        ones = targets[:BATCH]
        for _ in range(n):
            # The step's generated points, kept for G's update (as pytorch/examples' DCGAN does).
            fake = self.G(torch.randn(BATCH, z_size, generator=self.generator))
            # (1) Update D d_steps times: maximise log D(x) + log(1 - D(G(z))), as a loss to minimise; real and
            # generated points go through D together (the mean over both, times 2, is the sum of the two means).
            for k in range(self.values["d_steps"]):
                real = self.toy.sample(BATCH, self.generator)
                if k == 0:
                    shown = fake.detach()
                else:
                    with torch.no_grad():
                        shown = self.G(torch.randn(BATCH, z_size, generator=self.generator))
                d_loss = 2 * F.binary_cross_entropy_with_logits(self.D(torch.cat([real, shown])), targets)
                self.opt_d.zero_grad(set_to_none=True)
                d_loss.backward()
                self.opt_d.step()
            # (2) Update G: maximise log D(G(z)) (the non-saturating loss).
            g_loss = F.binary_cross_entropy_with_logits(self.D(fake), ones)
            self.opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            self.opt_g.step()
            self.steps += 1
            d, g = d_loss.item(), g_loss.item()
            self.d_losses.append(d)
            self.g_losses.append(g)
            if not (math.isfinite(d) and math.isfinite(g)):
                self.diverged = True
                return
        self.diverged = not self._finite()  # weights can overflow before the losses show it

    def _finite(self) -> bool:
        import torch

        return all(torch.isfinite(p).all() for p in self.G.parameters())

    def sample(self, z=None):
        """Generated points for the fixed preview noise (or ``z``), (N, 2)."""
        import torch

        with torch.no_grad():
            return self.G(self.preview_z if z is None else z)

    def surface(self, cells: int = 48):
        """D's probability of "real" on a ``cells`` x ``cells`` grid over the picture, top row first."""
        import torch

        e = self.toy.extent
        axis = torch.linspace(-e, e, cells)
        ys, xs = torch.meshgrid(axis.flip(0), axis, indexing="ij")
        with torch.no_grad():
            return torch.sigmoid(self.D(torch.stack([xs.flatten(), ys.flatten()], 1))).view(cells, cells)

    def coverage(self) -> int | None:
        return None if self.diverged else modes_covered(self.sample(), self.toy)
