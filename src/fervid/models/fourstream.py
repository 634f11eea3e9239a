"""The paper's four-stream network (Fig. 2) and its ablation configurations (Table 2).

Streams, keyed by what they read:

    rgb_clip      (B, T, 3, H, W)  -> Enhanced ConvLSTM stack -> h_T pooled to (B, Ch, S, S)
    flow_clip     (B, T, 2, H, W)  -> Enhanced ConvLSTM stack -> h_T pooled to (B, Ch, S, S)
    rgb_dynamic   (B, 3, H, W)     -> narrow ResNet-50 -> 1×1 to Ch -> tanh -> (B, Ch, S, S)
    flow_dynamic  (B, 2, H, W)     -> narrow ResNet-50 -> 1×1 to Ch -> tanh -> (B, Ch, S, S)

The feature maps are summed, flattened and classified by three fully connected
layers into 6 expressions. H = W = face size; S = the ResNet's output size;
Ch = channels of the top ConvLSTM layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..clips.inputs import ALL_STREAMS, CLIP_STREAMS, DYNAMIC_STREAMS, STREAM_CHANNELS
from ..clips.windows import CLIP_LEN
from ..labels import EXPRESSIONS
from .convlstm import ConvLSTM, ConvLSTMConfig, ConvLSTMState, EnhancedConvLSTMCell
from .resnet import NarrowResNet50, ResNetConfig

CLIP_REFERENCES = ("first", "none")  # FourStreamConfig.rgb_clip_reference
CLIP_POOLS = ("max", "average")  # FourStreamConfig.clip_pool


@dataclass(frozen=True)
class FourStreamConfig:
    """The four-stream network. Where the paper is open, the field's comment says so and
    names its section of docs/method.md ("What the paper leaves open")."""

    streams: tuple[str, ...] = ALL_STREAMS  # configuration (e), the full method
    face_size: int = 112  # open: OpenFace 2.0's aligned faces are 112×112
    convlstm: ConvLSTMConfig = field(default_factory=lambda: ConvLSTMConfig(hidden_channels=(32, 32, 32, 32)))
    resnet: ResNetConfig = field(default_factory=ResNetConfig)
    fc_channels: tuple[int, ...] = (512, 128)  # open: widths of the first two of the three FC layers
    dropout: float = 0.5  # open: before the second and third FC layers
    # Each open choice below in one line; its measurements: docs/method.md, the section named.
    clip_stream_scale: float = 0.25  # open: start of the Enhanced streams' top GroupNorm γ ("Stream scale at initialisation")
    rgb_clip_reference: str = "first"  # open: RGB stream reads frame - first frame; "none": as is ("What the ConvLSTM streams read")
    clip_input_gain: float = 6.0  # open: ConvLSTM streams read input × this ("What the ConvLSTM streams read")
    clip_pool: str = "max"  # open: h_T pooled H×W -> S×S by block max; "average": block mean ("Fusion")
    stream_dropout: float = 0.0  # experiment only, measured worse: drop a stream's features per clip ("Experiment-only switches")
    num_classes: int = len(EXPRESSIONS)

    def __post_init__(self) -> None:
        unknown = [s for s in self.streams if s not in ALL_STREAMS]
        if unknown or not self.streams or len(set(self.streams)) != len(self.streams):
            raise ValueError(f"streams must be distinct names from {ALL_STREAMS}, got {self.streams}")
        if self.clip_pool not in CLIP_POOLS:
            raise ValueError(f"clip_pool must be one of {CLIP_POOLS}, got {self.clip_pool!r}")
        if self.rgb_clip_reference not in CLIP_REFERENCES:
            raise ValueError(f"rgb_clip_reference must be one of {CLIP_REFERENCES}, got {self.rgb_clip_reference!r}")
        if not 0.0 <= self.stream_dropout < 1.0:
            raise ValueError(f"stream_dropout is a probability in [0, 1), got {self.stream_dropout}")
        if len(self.fc_channels) != 2:
            raise ValueError(f"the paper's head has three FC layers: give two hidden widths, got {self.fc_channels}")

    @property
    def feature_channels(self) -> int:
        return self.convlstm.hidden_channels[-1]

    @property
    def feature_size(self) -> int:
        return self.resnet.output_size(self.face_size)


# Table 2: which streams, and which ConvLSTM cell.
ABLATIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "a": (DYNAMIC_STREAMS, "enhanced"),  # 2 ResNet streams only (no ConvLSTM, the cell is unused)
    "b": (CLIP_STREAMS, "conventional"),  # 2 conventional ConvLSTM streams
    "c": (CLIP_STREAMS, "enhanced"),  # 2 Enhanced ConvLSTM streams
    "d": (ALL_STREAMS, "conventional"),  # (a) + (b)
    "e": (ALL_STREAMS, "enhanced"),  # (a) + (c), the proposed method
}

PRESETS: dict[str, FourStreamConfig] = {
    # 112×112 faces as OpenFace 2.0 aligns them; a GPU preset.
    # Configuration (e): 14,996,086 parameters (per-position peepholes: 4.8M of them).
    "paper": FourStreamConfig(),
    # 32×32 faces, 16 hidden channels: trains on a 2-core CPU (see DESIGN.md, measured costs).
    # Configuration (e): 1,819,270 parameters.
    "small": FourStreamConfig(
        face_size=32,
        convlstm=ConvLSTMConfig(hidden_channels=(16, 16, 16, 16)),
        fc_channels=(128, 64),
        # Dropout 0.5 on heads this narrow kept configuration (a) at chance for 8 epochs of
        # momentum SGD on a synthetic tuning set (seed 1, not the reported seed 0); 0: 36%.
        dropout=0.0,
    ),
}


def with_ablation(config: FourStreamConfig, ablation: str) -> FourStreamConfig:
    """``config`` restricted to the streams and cell of configuration (a)-(e)."""
    if ablation not in ABLATIONS:
        raise ValueError(f"unknown configuration {ablation!r}; choose from {sorted(ABLATIONS)} (paper Table 2)")
    streams, cell = ABLATIONS[ablation]
    return dataclasses.replace(config, streams=streams, convlstm=dataclasses.replace(config.convlstm, cell=cell))


def build_config(preset: str = "small", ablation: str = "e") -> FourStreamConfig:
    """A named size preset with one of the paper's configurations (a)-(e)."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    return with_ablation(PRESETS[preset], ablation)


class ClipStream(nn.Module):
    """(B, T, C, H, W) -> (B, Ch, S, S): the top layer's last hidden state, pooled from H×W
    to S×S (``FourStreamConfig.clip_pool``) so it can be summed with the ResNet streams
    (open in the paper).
    The stack reads its input times ``FourStreamConfig.clip_input_gain``; with
    ``subtract_first``, each frame minus the clip's first frame first
    (``FourStreamConfig.rgb_clip_reference``)."""

    def __init__(self, in_channels: int, config: FourStreamConfig, subtract_first: bool = False) -> None:
        super().__init__()
        self.subtract_first = subtract_first
        self.input_gain = config.clip_input_gain
        self.convlstm = ConvLSTM(in_channels, (config.face_size, config.face_size), config.convlstm)
        self.feature_size = config.feature_size
        self.max_pool = config.clip_pool == "max"
        top = self.convlstm.cells[-1]
        if isinstance(top, EnhancedConvLSTMCell):  # h_T = γ·GroupNorm(...) + β starts small: see FourStreamConfig
            nn.init.constant_(top.norm.weight, config.clip_stream_scale)

    def pool(self, h_last: Tensor) -> Tensor:
        pool = F.adaptive_max_pool2d if self.max_pool else F.adaptive_avg_pool2d
        return pool(h_last, self.feature_size)  # (B, Ch, H, W) -> (B, Ch, S, S)

    def prepare(self, clip: Tensor, reference: Tensor | None = None) -> Tensor:
        """What the stack reads: (B, T, C, H, W) -> the same shape. ``reference`` (B, C, H, W)
        is the clip's first frame, given when the clip arrives in pieces (streaming)."""
        if self.subtract_first:
            clip = clip - (clip[:, 0] if reference is None else reference).unsqueeze(1)
        return clip * self.input_gain if self.input_gain != 1.0 else clip

    def hidden_states(self, clip: Tensor, state: list[ConvLSTMState] | None = None,
                      reference: Tensor | None = None) -> tuple[Tensor, list[ConvLSTMState]]:
        """The stack through the frames of ``clip`` (B, T, C, H, W), from ``state`` (None: a
        clip's start) -> (the top layer's h at every frame (B, T, Ch, H, W), the new state);
        ``reference``: see ``prepare``. The model reads only the last (``step``)."""
        return self.convlstm(self.prepare(clip, reference), state)

    def step(self, clip: Tensor, state: list[ConvLSTMState] | None = None,
             reference: Tensor | None = None) -> tuple[Tensor, list[ConvLSTMState]]:
        """The stack through the frames of ``clip`` (B, T, C, H, W), from ``state`` (None: a
        clip's start) -> (the top layer's last h (B, Ch, H, W), the new state). A clip read
        in pieces (streaming), each piece from the state the last returned, gives the h_T of
        the clip read whole; ``reference``: see ``prepare``."""
        hidden, state = self.hidden_states(clip, state, reference)  # (B, T, Ch, H, W)
        return hidden[:, -1], state

    def forward(self, clip: Tensor) -> Tensor:
        h_last, _ = self.step(clip)
        return self.pool(h_last)

    def silence(self) -> None:
        """Zero the top layer's GroupNorm γ and β: the stream then outputs 0 for every clip
        (staged training, ``training.train.warm_start``); γ still gets a gradient."""
        top = self.convlstm.cells[-1]
        if not isinstance(top, EnhancedConvLSTMCell):
            raise ValueError("a conventional ConvLSTM stream has no output norm to start at zero")
        nn.init.zeros_(top.norm.weight)
        nn.init.zeros_(top.norm.bias)


class DynamicImageStream(nn.Module):
    """(B, C, H, W) -> (B, Ch, S, S): narrow ResNet-50, a 1×1 projection from its 128
    channels to the ConvLSTM streams' Ch (open in the paper; none when they agree), and
    tanh so its scale matches the ConvLSTM streams (paper, section 3.2)."""

    def __init__(self, in_channels: int, config: FourStreamConfig) -> None:
        super().__init__()
        self.resnet = NarrowResNet50(in_channels, config.resnet)
        if self.resnet.out_channels == config.feature_channels:
            self.project = nn.Identity()
        else:
            self.project = nn.Conv2d(self.resnet.out_channels, config.feature_channels, 1)

    def forward(self, image: Tensor) -> Tensor:
        return torch.tanh(self.project(self.resnet(image)))

    def silence(self) -> None:
        """Zero the 1×1 projection: the stream then outputs tanh(0) = 0 for every image
        (staged training, ``training.train.warm_start``); the projection still gets a
        gradient, and the ResNet one from the first step on."""
        if not isinstance(self.project, nn.Conv2d):
            raise ValueError("a dynamic-image stream without a projection has no layer to start at zero")
        nn.init.zeros_(self.project.weight)
        nn.init.zeros_(self.project.bias)


class FourStreamNet(nn.Module):
    """``forward(inputs)``: a mapping from stream name to tensor (shapes in the module
    docstring; only the configured streams are read) -> logits (B, num_classes)."""

    def __init__(self, config: FourStreamConfig = FourStreamConfig()) -> None:
        super().__init__()
        self.config = config
        streams = {}
        for name in config.streams:
            if name in CLIP_STREAMS:
                subtract_first = name == "rgb_clip" and config.rgb_clip_reference == "first"
                streams[name] = ClipStream(STREAM_CHANNELS[name], config, subtract_first)
            else:
                streams[name] = DynamicImageStream(STREAM_CHANNELS[name], config)
        self.streams = nn.ModuleDict(streams)
        in_features = config.feature_channels * config.feature_size**2
        hidden1, hidden2 = config.fc_channels
        self.head = nn.Sequential(
            nn.Flatten(),  # (B, Ch, S, S) -> (B, Ch*S*S)
            nn.Linear(in_features, hidden1),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(hidden1, hidden2),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(hidden2, config.num_classes),
        )
        # He initialisation for the ReLU layers (PyTorch's default shrinks the variance ~6×
        # per layer, so the streams below got ~1/15 of the gradient: plain SGD barely moved).
        for layer in self.head:
            if isinstance(layer, nn.Linear) and layer.out_features != config.num_classes:
                nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                nn.init.zeros_(layer.bias)

    def stream_features(self, inputs: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """Each stream's feature map, (B, Ch, S, S), by stream name."""
        missing = [name for name in self.streams if name not in inputs]
        if missing:
            raise KeyError(f"inputs lack the stream(s) {missing}; this model reads {list(self.streams)}")
        return {name: stream(inputs[name]) for name, stream in self.streams.items()}

    def fuse(self, features: Mapping[str, Tensor]) -> Tensor:
        """The streams' feature maps summed: {name: (B, Ch, S, S)} -> (B, Ch, S, S)."""
        stacked = torch.stack(list(features.values()))  # (N, B, Ch, S, S)
        if self.training and self.config.stream_dropout > 0 and len(self.streams) > 1:
            stacked = stacked * self._stream_mask(stacked)
        return stacked.sum(0)

    def forward_features(self, inputs: Mapping[str, Tensor]) -> Tensor:
        """The sum of the streams' feature maps, (B, Ch, S, S)."""
        return self.fuse(self.stream_features(inputs))

    def classify(self, features: Mapping[str, Tensor]) -> Tensor:
        """Every stream's feature map {name: (B, Ch, S, S)} -> logits (B, num_classes): fused
        and through the head. ``forward`` is ``classify(stream_features(inputs))``;
        streaming computes the features its own way (``ClipStream.step``, then ``pool``)
        and classifies them here."""
        missing = [name for name in self.streams if name not in features]
        if missing:
            raise KeyError(f"features lack the stream(s) {missing}; this model reads {list(self.streams)}")
        return self.head(self.fuse({name: features[name] for name in self.streams}))  # in the model's stream order

    def _stream_mask(self, features: Tensor) -> Tensor:
        """(N, B, 1, 1, 1): per clip, 0 for a dropped stream, 1/(1-p) for a kept one; a clip
        whose streams all drew "drop" keeps one of them, chosen at random."""
        p = self.config.stream_dropout
        n, b = features.shape[:2]
        keep = torch.rand(n, b, device=features.device) >= p
        rescue = torch.randint(n, (b,), device=features.device)
        keep |= ~keep.any(0) & (torch.arange(n, device=features.device)[:, None] == rescue)
        return (keep.to(features.dtype) / (1.0 - p)).view(n, b, 1, 1, 1)

    def forward(self, inputs: Mapping[str, Tensor]) -> Tensor:
        return self.classify(self.stream_features(inputs))


class StreamHeads(nn.Module):
    """Training only, not in the paper: one linear classifier per stream, reading that
    stream's feature map alone, {name: (B, Ch, S, S)} -> {name: logits (B, num_classes)}.
    ``TrainConfig.stream_loss`` adds their losses to the fused network's (deep
    supervision per stream, as Gradient-Blending's per-modality heads), so every stream is
    pushed to be discriminative on its own; with weight 0 they read detached features and
    only measure what each stream has learned. They are not part of the saved model."""

    def __init__(self, config: FourStreamConfig) -> None:
        super().__init__()
        in_features = config.feature_channels * config.feature_size**2
        self.heads = nn.ModuleDict({name: nn.Linear(in_features, config.num_classes) for name in config.streams})

    def forward(self, features: Mapping[str, Tensor]) -> dict[str, Tensor]:
        return {name: self.heads[name](f.flatten(1)) for name, f in features.items()}  # (B, Ch, S, S) -> (B, classes)


class WithStreamHeads(nn.Module):
    """The network and its training-only ``StreamHeads``, as one module (for DDP and
    torch.compile): inputs -> (fused logits, {stream: logits}). ``detach``: the heads
    read the features without passing gradients back (probes)."""

    def __init__(self, model: FourStreamNet, heads: StreamHeads, detach: bool) -> None:
        super().__init__()
        self.model, self.stream_heads, self.detach = model, heads, detach

    def forward(self, inputs: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        features = self.model.stream_features(inputs)
        logits = self.model.classify(features)
        heard = {name: f.detach() for name, f in features.items()} if self.detach else features
        return logits, self.stream_heads(heard)


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def random_inputs(model: FourStreamNet, batch: int, frames: int = CLIP_LEN, generator=None) -> dict[str, torch.Tensor]:
    """Random stand-ins for every stream the model reads (shapes as in ``fourstream``)."""
    size = model.config.face_size
    inputs = {}
    for name in model.streams:
        channels = STREAM_CHANNELS[name]
        shape = (batch, frames, channels, size, size) if name in CLIP_STREAMS else (batch, channels, size, size)
        inputs[name] = torch.rand(shape, generator=generator) * 2 - 1
    return inputs
