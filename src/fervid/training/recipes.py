"""Training settings (``TrainConfig``, a field per setting with its flag's help and its
role) and the named recipes (``RECIPES``): ``"paper"``, the paper's momentum SGD and
nothing added, or ``"fervid"`` (the default), every departure measured in
docs/method.md, "Training recipes"."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..precision import PRECISIONS

OPTIMIZERS = ("sgd", "lars", "adamw")
STAGE_ONE = "stage1"  # <run>/stage1/<configuration>/fold<g>/: the first stage of staged training (stage_epochs)


# What each TrainConfig field is, for the code that reads the fields generically (the
# command line's flags, the run fingerprint, the report's "recipe ... with"):
#   "method": a setting of the training method, what a recipe chooses;
#   "run":    shapes this run's result but is not the method (seed, device, precision, compile);
#   "speed":  changes only how fast (the same result): not part of the fingerprint;
#   "label":  the recipe's name (its values count, not its name).
# ``added``: the value the code had before the field existed; at that value the field is
# left out of the fingerprint, so that runs made before it still resume (``ORIGINAL``: a
# field from the start, always in it).
ORIGINAL = dataclasses.MISSING


def _setting(default, role: str, help: str, *, added=ORIGINAL, choices=None):
    return dataclasses.field(default=default, metadata={"role": role, "help": help, "added": added, "choices": choices})


@dataclass(frozen=True)
class TrainConfig:
    """Training settings. The defaults are the ``"fervid"`` recipe; ``RECIPES["paper"]`` is
    the paper's (it states only "momentum SGD"; the rest are fervid's choices). Every
    departure of the fervid recipe from the paper's is measured in docs/method.md,
    "Training recipes". Each field's ``help`` is its command-line flag's help
    (``fervid crossval/train --<field>``), its ``role`` says where else it counts (above)."""

    recipe: str = _setting("fervid", "label", "the recipe these settings started from; single settings may differ (recipe_changes)")
    # With stage_epochs (the fervid recipe: 16 then 8), the second stage's epochs; the whole
    # training is stage_epochs + epochs (set stage_epochs 0 and epochs 24 for the same budget in one stage).
    epochs: int = _setting(8, "method", "training epochs, fixed in advance, never chosen on the test fold "
                           "(with stage_epochs: the second stage's, after the first stage's stage_epochs)")
    batch_size: int = _setting(8, "method", "clips per step (global, across DDP ranks)")
    lr: float = _setting(1e-3, "method", "peak learning rate")
    # "adamw": per-parameter step sizes, which the ConvLSTM streams need under this
    # initialisation (their gradients are 10-100x smaller than the ResNet streams' and the
    # head's; docs/stream-learning). Its weight decay is decoupled (lr × weight_decay per
    # step), so 5e-4 decays next to nothing.
    optimizer: str = _setting("adamw", "method", "sgd: momentum SGD (the paper); lars: momentum SGD, each weight tensor's "
                              "step scaled to lr × trust × its norm (LARS); adamw: AdamW, not in the paper",
                              choices=OPTIMIZERS)
    trust: float = _setting(0.1, "method", "LARS's trust coefficient (optimizer lars only)", added=0.1)
    momentum: float = _setting(0.9, "method", "SGD momentum (paper: momentum SGD)")
    weight_decay: float = _setting(5e-4, "method", "weight decay (AdamW: decoupled)")
    warmup_epochs: float = _setting(1.0, "method", "linear warm-up epochs, then cosine decay to 0")
    # The ResNet streams and the head are not clipped: their gradient norm at initialisation
    # is ~50-400 (batch-normalised, many parameters), and clipping everything to 5 cut their step 10-80×.
    grad_clip: float = _setting(5.0, "method", "max gradient norm of the ConvLSTM streams' parameters (usual for LSTMs)")
    # Fewer clips per epoch keep every subject in every epoch at a fraction of the cost (TSN-style sampling).
    clips_per_video: int | None = _setting(None, "method", "clips drawn per video and epoch (None: every clip, as the paper)")
    # Drawn from (seed, epoch, step) so that resume and DDP see the same draws.
    mirror: float = _setting(0.5, "method", "probability of mirroring a training clip left-right, flow dx negated (not in the paper)")
    # loss = CE(network) + stream_loss × mean over streams of CE(stream head); at 1, (e) did
    # not gain (docs/defaults-that-learn, section 2), so 0 in both recipes.
    stream_loss: float = _setting(0.0, "method", "weight of the per-stream losses (fourstream.StreamHeads, training only; not in the paper)",
                                  added=0.0)
    stream_probes: bool = _setting(False, "method", "with stream_loss 0: train the stream heads on detached features, "
                                   "logging each stream's accuracy per epoch (metrics.csv) without changing training", added=False)
    # Each clip carries its video's label, but most clips of a video hold no expression
    # change (docs/defaults-that-learn, section 4): their labels are noise. k > 0 draws k
    # clips per video into each step and takes one loss on their mean logits (a
    # multiple-instance loss), as a video is judged at test time by its clips' mean.
    video_loss: int = _setting(0, "method", "clips drawn per video whose mean logits take one loss against the video's "
                               "label (0: every clip its own loss, as the paper; not in the paper)", added=0)
    # Staged training (training.train.warm_start): a model of fewer streams trained first,
    # e.g. (c), starts this one, e.g. (e); the streams it lacks start silent (output zero).
    init_from: str | None = _setting(None, "method", "start from a trained model: a model.safetensors (fervid train), or in "
                                     "crossval a configuration folder (each fold from its fold<g>/model.safetensors); the streams and "
                                     "head it shares are copied, the others start with their output at zero (staged "
                                     "training; not in the paper)", added=None)
    # Staged training across configurations (training.crossval): (e) from a trained (c)
    # measured level with (c) trained as long, where (e) from scratch fell below it, on the
    # tuning fold (docs/defaults-that-learn, section 7) and on the evidence set (section 10).
    stage_epochs: int = _setting(16, "method", "staged training (fervid crossval and train; not in the paper; 0: one stage): first this many epochs "
                                 "of the configuration's ConvLSTM streams alone ((e) -> (c), (d) -> (b); a configuration "
                                 "without them, its own streams), shared by the configurations that have them, then "
                                 "`epochs` more of all its streams from there (the others start silent)", added=0)
    seed: int = _setting(0, "run", "training seed (initialisation, clip order, mirror draws)")
    precision: str = _setting("auto", "run", "float32, bfloat16 (autocast, float32 weights) or auto: bfloat16 where the "
                              "device runs it natively (fervid.precision)", choices=PRECISIONS)
    device: str = _setting("auto", "run", "auto: CUDA if present, else the CPU")
    compile: bool = _setting(False, "run", "torch.compile the model")
    # models.convlstm.fuse_gate_arithmetic: the same results to float rounding, so a run may
    # be resumed with or without it.
    fuse_gates: bool = _setting(False, "speed", "fuse the ConvLSTM gate arithmetic with torch.compile, stacks "
                                "channels-last (faster in bfloat16; compiles first)")
    loader_workers: int = _setting(0, "speed", "DataLoader worker processes")

    def __post_init__(self) -> None:
        if self.recipe not in RECIPE_NAMES:
            raise ValueError(f"recipe must be one of {RECIPE_NAMES}, got {self.recipe!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if not 0.0 <= self.mirror <= 1.0:
            raise ValueError(f"mirror is a probability in [0, 1], got {self.mirror}")
        if self.stream_loss < 0:
            raise ValueError(f"stream_loss is a loss weight, >= 0, got {self.stream_loss}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be positive")
        if self.video_loss < 0 or (self.video_loss and self.batch_size % self.video_loss):
            raise ValueError(f"video_loss is a number of clips per video dividing batch_size {self.batch_size}, got {self.video_loss}")
        if self.trust <= 0:
            raise ValueError(f"trust is LARS's step size relative to each weight's norm, > 0, got {self.trust}")
        if self.stage_epochs < 0:
            raise ValueError(f"stage_epochs is a number of epochs, >= 0, got {self.stage_epochs}")
        if self.video_loss and self.clips_per_video is not None:
            raise ValueError("video_loss draws its own clips per video: leave clips_per_video unset")

    @property
    def stream_heads(self) -> bool:
        """Whether training builds ``StreamHeads`` (as a loss or as probes)."""
        return self.stream_loss > 0 or self.stream_probes


RECIPE_NAMES = ("paper", "fervid")
RECIPES: dict[str, TrainConfig] = {
    # The paper's optimizer and nothing added; where the paper is silent, fervid's values.
    "paper": TrainConfig(recipe="paper", epochs=30, lr=0.01, optimizer="sgd", mirror=0.0, stream_loss=0.0, stage_epochs=0),
    # The default: docs/method.md, "Training recipes", names and measures each departure.
    "fervid": TrainConfig(),
}


def values_before_added() -> dict[str, object]:
    """The fields added since the start, each with the value the code had before it
    (``added``): what an older run's stored settings mean for a field they lack."""
    return {f.name: f.metadata["added"] for f in dataclasses.fields(TrainConfig) if f.metadata["added"] is not ORIGINAL}


def recipe_changes(config: TrainConfig) -> dict[str, object]:
    """The settings of ``config`` that differ from its recipe's (only those that shape
    the result: not the device, precision, workers or speed switches)."""
    base = RECIPES[config.recipe]
    return {f.name: getattr(config, f.name) for f in dataclasses.fields(config)
            if f.metadata["role"] == "method" and getattr(config, f.name) != getattr(base, f.name)}


def describe_recipe(config: TrainConfig) -> str:
    """One line for reports: the recipe and what was changed from it."""
    changes = recipe_changes(config)
    text = f"recipe `{config.recipe}`"
    if changes:
        text += " with " + ", ".join(f"{k}={v}" for k, v in changes.items())
    return text
