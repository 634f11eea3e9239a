"""ConvLSTM (paper eq. 1) and Enhanced ConvLSTM (paper eq. 2), one step and stacked.

Conventional ConvLSTM, eq. 1 (``*`` convolution, ``∘`` Hadamard product)::

    i_t = σ(W_xi*x_t + W_hi*h_{t-1} + W_ci∘c_{t-1} + b_i)
    f_t = σ(W_xf*x_t + W_hf*h_{t-1} + W_cf∘c_{t-1} + b_f)
    c_t = f_t∘c_{t-1} + i_t∘tanh(W_xc*x_t + W_hc*h_{t-1} + b_c)
    o_t = σ(W_xo*x_t + W_ho*h_{t-1} + W_co∘c_{t-1} + b_o)
    h_t = o_t∘tanh(c_t)

Enhanced ConvLSTM, eq. 2: the same gates, and

    h_t = GroupNorm(o_t∘tanh(c_t) + h_{t-2} + W_xs*x_t)

with ``h_{t-2}`` the temporal skip (zero for t < 2) and ``W_xs*x_t`` the spatial
skip (a 1×1 convolution, the ResNet shortcut projection).

Shapes: B batch, T frames, C input channels, Ch hidden channels, H×W pixels.

Speed: ``W_x*x_t`` does not depend on the recurrence, so the stack computes it
for all T frames as one batched convolution (``input_projection``); only
``W_h*h_{t-1}`` runs inside the time loop (``step``). A fused convolution over
``cat[x, h]`` is the same sum, split in two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .compiling import Fused, wait_for_background_compiles  # noqa: F401 - wait_for_background_compiles: for callers of fuse_gate_arithmetic(wait=False)

CELL_TYPES = ("conventional", "enhanced")
PEEPHOLE_TYPES = ("position", "channel", "none")
GATES = ("i", "f", "o", "g")  # channel blocks of the gate convolutions, in this order


@dataclass(frozen=True)
class ConvLSTMConfig:
    """A stack of ConvLSTM layers. Sizes the paper leaves open carry a comment."""

    cell: str = "enhanced"  # "enhanced" (eq. 2) or "conventional" (eq. 1)
    hidden_channels: tuple[int, ...] = (16, 16, 16, 16)  # open: the paper gives no widths
    kernel_sizes: tuple[int, ...] = (5, 5, 3, 3)  # paper, section 3.1: layers 1-2 5×5, 3-4 3×3
    # Each open choice below in one line; its measurements: docs/method.md, the section named.
    peephole: str = "position"  # open: W_c∘c per position (Shi et al. 2015), "channel" or "none" ("Peepholes")
    output_gate_cell: str = "previous"  # paper: o reads c_{t-1}; "current": Shi et al.'s c_t, experiment only ("Output gate")
    norm_groups: int = 4  # open: GroupNorm groups in eq. 2
    norm_eps: float = 0.1  # open: GroupNorm's epsilon in eq. 2, not PyTorch's 1e-5 ("GroupNorm epsilon")
    forget_bias: float = 1.0  # open: usual LSTM practice ("Initialisation")
    skip_init: str = "lecun"  # open: W_xs init; "pytorch": nn.Conv2d's, before issue 16, experiment only ("What the ConvLSTM streams read")

    def __post_init__(self) -> None:
        if self.cell not in CELL_TYPES:
            raise ValueError(f"cell must be one of {CELL_TYPES}, got {self.cell!r}")
        if self.peephole not in PEEPHOLE_TYPES:
            raise ValueError(f"peephole must be one of {PEEPHOLE_TYPES}, got {self.peephole!r}")
        if self.skip_init not in ("lecun", "pytorch"):
            raise ValueError(f"skip_init must be 'lecun' or 'pytorch', got {self.skip_init!r}")
        if self.output_gate_cell not in ("previous", "current"):
            raise ValueError(f"output_gate_cell must be 'previous' or 'current', got {self.output_gate_cell!r}")
        if len(self.hidden_channels) != len(self.kernel_sizes):
            raise ValueError(
                f"hidden_channels {self.hidden_channels} and kernel_sizes {self.kernel_sizes} "
                "must give one entry per layer"
            )
        for k in self.kernel_sizes:
            if k % 2 == 0:
                raise ValueError(f"kernel sizes must be odd so that padding k//2 keeps H×W, got {k}")
        for ch in self.hidden_channels:
            if ch % self.norm_groups:
                raise ValueError(f"hidden channels {ch} not divisible by norm_groups {self.norm_groups}")


class ConvLSTMState(NamedTuple):
    """Recurrent state of one layer after step t."""

    h: Tensor  # h_t, (B, Ch, H, W)
    c: Tensor  # c_t, (B, Ch, H, W)
    h_prev: Tensor | None = None  # h_{t-1}, read as h_{t-2} by the next Enhanced step; None = zero


# ------------------------------------------------------------ per-step arithmetic
# Pure functions of tensors (no module in their arguments), so that one torch.compile of
# each serves every cell, layer and stream: guards on tensor shapes and on which state
# is None (t = 0, t = 1, t >= 2), not on module identity.


def lstm_pointwise(gates: Tensor, c_prev: Tensor | None, peephole: Tensor | None,
                   output_from_current: bool, out_dtype: torch.dtype | None = None) -> tuple[Tensor, Tensor]:
    """Eq. 1 after its convolutions: gate pre-activations (B, 4Ch, H, W), c_{t-1} (None: zero)
    and the peephole weights W_c{i,f,o} -> (o_t∘tanh(c_t), c_t), each (B, Ch, H, W).
    ``out_dtype``: the dtype of o_t∘tanh(c_t) (see ``state_dtype``); c_t keeps its own."""
    # Split, unbind and stack have gradients that concatenate; indexing a slice
    # would make autograd fill a zero tensor of the full size for each piece.
    gates = gates.unflatten(1, (4, gates.shape[1] // 4))  # (B, 4Ch, H, W) -> (B, 4, Ch, H, W)
    no_peephole_term = peephole is None or c_prev is None  # W_c∘c_{t-1} vanishes when c_{t-1} = 0
    if output_from_current:  # Shi et al.: i, f read c_{t-1}; o reads c_t
        pre_if, pre_o, pre_g = gates.split([2, 1, 1], dim=1)
        if not no_peephole_term:
            peep_if, peep_o = peephole.split([2, 1])
            pre_if = torch.addcmul(pre_if, peep_if, c_prev.unsqueeze(1))
        i, f = torch.sigmoid(pre_if).unbind(1)
        g = torch.tanh(pre_g.squeeze(1))
        c = i * g if c_prev is None else torch.addcmul(i * g, f, c_prev)
        pre_o = pre_o.squeeze(1)
        o = torch.sigmoid(pre_o if peephole is None else torch.addcmul(pre_o, peephole[2], c))
    else:  # paper as printed: i, f and o all read c_{t-1}
        pre_ifo, pre_g = gates.split([3, 1], dim=1)
        if not no_peephole_term:
            pre_ifo = torch.addcmul(pre_ifo, peephole, c_prev.unsqueeze(1))
        i, f, o = torch.sigmoid(pre_ifo).unbind(1)
        g = torch.tanh(pre_g.squeeze(1))
        c = i * g if c_prev is None else torch.addcmul(i * g, f, c_prev)
    out = o * torch.tanh(c)
    return (out if out_dtype is None else out.to(out_dtype)), c


def enhanced_pointwise(gates: Tensor, c_prev: Tensor | None, peephole: Tensor | None, output_from_current: bool,
                       skip: Tensor, h_prev: Tensor | None, norm_weight: Tensor, norm_bias: Tensor,
                       norm_groups: int, norm_eps: float, out_dtype: torch.dtype | None = None) -> tuple[Tensor, Tensor]:
    """Eq. 2 after its convolutions: ``lstm_pointwise``, then
    h_t = GroupNorm(o_t∘tanh(c_t) + h_{t-2} + W_xs*x_t) -> (h_t, c_t); ``out_dtype`` as there."""
    lstm_out, c = lstm_pointwise(gates, c_prev, peephole, output_from_current)
    pre_norm = lstm_out + skip  # o_t∘tanh(c_t) + W_xs*x_t
    if h_prev is not None:
        pre_norm = pre_norm + h_prev  # + h_{t-2}
    h = F.group_norm(pre_norm, norm_groups, norm_weight, norm_bias, norm_eps)
    return (h if out_dtype is None else h.to(out_dtype)), c


def state_dtype(device: torch.device) -> torch.dtype | None:
    """The dtype of h_t under autocast: the convolutions' (bfloat16), so that h_t is cast
    once where it is made instead of by autocast at each of the two convolutions that read
    it (the next step's W_h*h and the next layer's W_x*x), forward and backward; c_t stays
    float32. None (no cast) without autocast. Its speed effect was within noise on an AMX
    CPU (the copies there, 14-39% of the bfloat16 stack's time, were mostly the
    convolutions' output reorders: see ``fuse_gate_arithmetic``); tests/test_precision.py
    bounds its effect on the output."""
    kind = device.type
    return torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else None


FUSED_LSTM_POINTWISE = Fused(lstm_pointwise)  # eq. 1's arithmetic through torch.compile (fuse_gate_arithmetic)
FUSED_ENHANCED_POINTWISE = Fused(enhanced_pointwise)  # eq. 2's


class ConvLSTMCell(nn.Module):
    """One step of the conventional ConvLSTM (eq. 1) with peepholes.

    ``forward(x, state)``: x (B, C, H, W), state a ``ConvLSTMState`` or None
    (all zeros, t = 0) -> (h_t (B, Ch, H, W), new state).
    """

    enhanced = False
    fused = False  # the per-step arithmetic through torch.compile (fuse_gate_arithmetic)
    fused_without_waiting = False  # ... eager until compiled in the background (fuse_gate_arithmetic wait=False)

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int,
        input_size: tuple[int, int],
        peephole: str = "position",
        output_gate_cell: str = "previous",
        forget_bias: float = 1.0,
    ) -> None:
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.output_from_current = output_gate_cell == "current"
        padding = kernel_size // 2
        # W_x{i,f,o,c} and b_{i,f,o,c}: one convolution, gate blocks in GATES order.
        self.input_conv = nn.Conv2d(in_channels, 4 * hidden_channels, kernel_size, padding=padding)
        # W_h{i,f,o,c}: bias lives in input_conv (one b per gate, as in eq. 1).
        self.hidden_conv = nn.Conv2d(hidden_channels, 4 * hidden_channels, kernel_size, padding=padding, bias=False)
        if peephole == "position":
            self.peephole = nn.Parameter(torch.zeros(3, hidden_channels, *input_size))  # W_c{i,f,o}
        elif peephole == "channel":
            self.peephole = nn.Parameter(torch.zeros(3, hidden_channels, 1, 1))
        elif peephole == "none":
            self.register_parameter("peephole", None)
        else:
            raise ValueError(f"peephole must be one of {PEEPHOLE_TYPES}, got {peephole!r}")
        self.reset_parameters(forget_bias)

    def reset_parameters(self, forget_bias: float = 1.0) -> None:
        # LeCun normal, std 1/sqrt(fan_in): unit-variance input gives unit-variance gate
        # pre-activations. (Xavier counts all four gates in fan_out and shrank the
        # conventional stack's output to ~1e-3 after four layers.)
        for conv in (self.input_conv, self.hidden_conv):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="linear")
        nn.init.zeros_(self.input_conv.bias)
        ch = self.hidden_channels
        with torch.no_grad():
            self.input_conv.bias[ch : 2 * ch].fill_(forget_bias)  # b_f
        if self.peephole is not None:
            nn.init.uniform_(self.peephole, -0.1, 0.1)

    def input_projection(self, x: Tensor) -> tuple[Tensor, ...]:
        """Everything in the step that reads x only: (N, C, H, W) -> ((N, 4Ch, H, W),),
        W_x*x + b. N may be B*T: the stack runs many frames through it at once."""
        return (self.input_conv(x),)

    def step(self, x_proj: tuple[Tensor, ...], state: ConvLSTMState | None) -> tuple[Tensor, ConvLSTMState]:
        """One time step from a precomputed ``input_projection`` of x_t."""
        (gates,) = x_proj
        if state is not None:  # with h_{t-1} = 0 the hidden convolution adds nothing
            gates = gates + self.hidden_conv(state.h)
        c_prev = None if state is None else state.c
        out, c = self._gates_to_output(gates, c_prev)
        return out, ConvLSTMState(h=out, c=c)

    def forward(self, x: Tensor, state: ConvLSTMState | None = None) -> tuple[Tensor, ConvLSTMState]:
        return self.step(self.input_projection(x), state)

    def _pointwise(self, fused: Fused, eager):
        """The per-step arithmetic as ``fuse_gate_arithmetic`` set it: eager, compiled, or
        compiled without waiting for the compiler."""
        if not self.fused:
            return eager
        return fused.without_waiting if self.fused_without_waiting else fused

    def _gates_to_output(self, gates: Tensor, c_prev: Tensor | None) -> tuple[Tensor, Tensor]:
        """Gate pre-activations (B, 4Ch, H, W) and c_{t-1} -> (o_t∘tanh(c_t), c_t)."""
        pointwise = self._pointwise(FUSED_LSTM_POINTWISE, lstm_pointwise)
        return pointwise(gates, c_prev, self.peephole, self.output_from_current, state_dtype(gates.device))


class EnhancedConvLSTMCell(ConvLSTMCell):
    """One step of the Enhanced ConvLSTM (eq. 2): the gates of eq. 1, and
    ``h_t = GroupNorm(o_t∘tanh(c_t) + h_{t-2} + W_xs*x_t)``.

    Same call signature as ``ConvLSTMCell``; the state also carries h_{t-1},
    which the next step reads as h_{t-2}.
    """

    enhanced = True

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int,
        kernel_size: int,
        input_size: tuple[int, int],
        peephole: str = "position",
        output_gate_cell: str = "previous",
        forget_bias: float = 1.0,
        norm_groups: int = 4,
        norm_eps: float = 0.1,
        skip_init: str = "lecun",
    ) -> None:
        super().__init__(in_channels, hidden_channels, kernel_size, input_size, peephole, output_gate_cell, forget_bias)
        # W_xs: spatial skip, a 1×1 projection of the layer input (no bias: GroupNorm's shift covers it).
        self.skip_conv = nn.Conv2d(in_channels, hidden_channels, 1, bias=False)
        if skip_init == "lecun":  # see ConvLSTMConfig.skip_init
            nn.init.kaiming_normal_(self.skip_conv.weight, nonlinearity="linear")
        self.norm = nn.GroupNorm(norm_groups, hidden_channels, eps=norm_eps)  # g in eq. 2

    def input_projection(self, x: Tensor) -> tuple[Tensor, ...]:
        """(N, C, H, W) -> (W_x*x + b (N, 4Ch, H, W), W_xs*x (N, Ch, H, W))."""
        return self.input_conv(x), self.skip_conv(x)

    def step(self, x_proj: tuple[Tensor, ...], state: ConvLSTMState | None) -> tuple[Tensor, ConvLSTMState]:
        gates, skip = x_proj
        if state is not None:
            gates = gates + self.hidden_conv(state.h)
        pointwise = self._pointwise(FUSED_ENHANCED_POINTWISE, enhanced_pointwise)
        h, c = pointwise(gates, None if state is None else state.c, self.peephole, self.output_from_current,
                         skip, None if state is None else state.h_prev,
                         self.norm.weight, self.norm.bias, self.norm.num_groups, self.norm.eps, state_dtype(gates.device))
        return h, ConvLSTMState(h=h, c=c, h_prev=None if state is None else state.h)

    def summands(self, x_proj: tuple[Tensor, ...], state: ConvLSTMState | None) -> tuple[Tensor, Tensor, Tensor | None]:
        """The three terms eq. 2's GroupNorm sums at this step, each (B, Ch, H, W):
        (W_xs*x_t, o_t∘tanh(c_t), h_{t-2} or None while it is zero); for looking inside a
        layer (benchmarks/diagnose_streams.py layers), ``step`` does not call it."""
        gates, skip = x_proj
        if state is not None:
            gates = gates + self.hidden_conv(state.h)
        lstm_out, _ = lstm_pointwise(gates, None if state is None else state.c, self.peephole, self.output_from_current)
        return skip, lstm_out, None if state is None else state.h_prev


class ConvLSTM(nn.Module):
    """A stack of ConvLSTM or Enhanced ConvLSTM layers run over a clip.

    ``forward(x, state)``: x (B, T, C, H, W), state a list with one
    ``ConvLSTMState`` per layer or None -> (top layer's h for every frame
    (B, T, Ch_top, H, W), new state). Feeding a clip in two halves with the
    state carried gives the same result as feeding it whole.
    """

    def __init__(self, in_channels: int, input_size: tuple[int, int], config: ConvLSTMConfig = ConvLSTMConfig()) -> None:
        super().__init__()
        self.config = config
        cells = []
        layer_in = in_channels
        for hidden, kernel in zip(config.hidden_channels, config.kernel_sizes):
            kwargs = dict(
                peephole=config.peephole, output_gate_cell=config.output_gate_cell, forget_bias=config.forget_bias
            )
            if config.cell == "enhanced":
                cell = EnhancedConvLSTMCell(layer_in, hidden, kernel, input_size, norm_groups=config.norm_groups, norm_eps=config.norm_eps, skip_init=config.skip_init, **kwargs)
            else:
                cell = ConvLSTMCell(layer_in, hidden, kernel, input_size, **kwargs)
            cells.append(cell)
            layer_in = hidden
        self.cells = nn.ModuleList(cells)

    @property
    def out_channels(self) -> int:
        return self.config.hidden_channels[-1]

    frames_per_projection: int | None = None  # None: automatic, see _project_frames

    def _project_frames(self, cell: ConvLSTMCell, layer_in: Tensor, frames: int, batch: int) -> list[tuple[Tensor, ...]]:
        """The input projection of every frame, (T*B, C, H, W) -> T × tuple of (B, P, H, W).

        On CUDA all T frames go through one convolution. On the CPU, oneDNN's float32
        convolution backward slows down per image once a call holds many pixels, and
        small calls pay a fixed cost each, so frames go in chunks of at most ~64,000 pixels
        (images × H × W). Measured on 2 cores, forward + backward of the 4-layer stack:
        paper preset (batch 2, 112×112, 32 channels) float32 6.6 s with 2 frames per call,
        9.1 s with 4, 9.4 s with all 16 (bfloat16: 4.1 s in each case); the small preset
        (batch 8, 32×32, 16 channels) is within noise from 1 to 8 frames per call.
        """
        chunk = self.frames_per_projection
        if chunk is None:
            pixels = batch * layer_in.shape[-2] * layer_in.shape[-1]  # one frame of the batch
            chunk = frames if layer_in.is_cuda else max(1, 64_000 // pixels)
        per_frame = []
        for part in layer_in.split(chunk * batch):
            n = part.shape[0] // batch
            projections = [p.unflatten(0, (n, batch)).unbind(0) for p in cell.input_projection(part)]
            per_frame.extend(zip(*projections))  # n × tuple of (B, P, H, W)
        return per_frame

    def forward(
        self, x: Tensor, state: list[ConvLSTMState] | None = None
    ) -> tuple[Tensor, list[ConvLSTMState]]:
        batch, frames = x.shape[:2]
        # Time-major inside: frame t of a (T*B, ...) tensor is a contiguous slice.
        # .contiguous(): an input with channels-last strides (a frame read from an (H, W, C)
        # array, as in streaming) would make the convolutions return channels-last gates, on
        # which the per-step gate arithmetic ran 5-15× slower (measured on the CPU).
        layer_in = x.transpose(0, 1).flatten(0, 1).contiguous()  # (B, T, C, H, W) -> (T*B, C, H, W)
        new_state = []
        for layer, cell in enumerate(self.cells):
            x_proj = self._project_frames(cell, layer_in, frames, batch)
            layer_state = None if state is None else state[layer]
            outputs = []
            for t in range(frames):
                h, layer_state = cell.step(x_proj[t], layer_state)
                outputs.append(h)
            new_state.append(layer_state)
            layer_in = torch.stack(outputs).flatten(0, 1)  # T × (B, Ch, H, W) -> (T*B, Ch, H, W)
        out = layer_in.unflatten(0, (frames, batch)).transpose(0, 1)  # (T*B, Ch, H, W) -> (B, T, Ch, H, W)
        return out, new_state


def fuse_gate_arithmetic(module: nn.Module, enabled: bool = True, wait: bool = True) -> nn.Module:
    """Run the per-step arithmetic of every ConvLSTM cell in ``module`` (gates, cell state,
    the Enhanced sum and GroupNorm) through ``torch.compile``, and hold the ConvLSTM stacks'
    weights channels-last, so that their convolutions return channels-last gates, the
    layout oneDNN's bfloat16 convolution computes in: an NCHW output cost a reorder
    (``aten::copy_``) 4× the convolution's own time on an AMX CPU (20.5 vs 4.9 ms for 32 ->
    128 channels, 4×112×112), 39% of the paper-preset stack's time. Eagerly, the gate
    arithmetic is slower on channels-last gates (their channel blocks interleave); fused,
    it is not. Measured (``benchmarks/bench_speed.py --compile``): Enhanced stack,
    bfloat16, forward + backward, 0.55× eager at the paper preset, 0.74× at the small one.
    The results are the eager ones to float rounding (tested); ``enabled=False`` undoes it.

    ``wait=False`` (prediction, ``fervid stream/predict --fuse-gates``): without gradients,
    a step whose graph is not compiled yet runs eagerly while a background thread compiles
    it (``Fused.without_waiting``), so the first frames do not wait for the compiler."""
    for part in module.modules():
        if isinstance(part, ConvLSTMCell):
            part.fused = enabled
            part.fused_without_waiting = enabled and not wait
        if isinstance(part, ConvLSTM):
            part.to(memory_format=torch.channels_last if enabled else torch.contiguous_format)
    return module
