"""What reaches the ConvLSTM streams and what leaves them (issue 16, docs/stream-learning):
the scale of each input, the terms inside each Enhanced layer, the gradient reaching each
part of configuration (e), what each stream adds to the fused features, and linear probes
of the ways to read a clip stream's top layer.

Clips come from a preprocessed set (``load_clips``): {stream: (N, ...)} tensors, with
N clips' subjects, label indices (-1: not one of the six) and video indices."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..checkpoint import load_model
from ..clips.arrays import PreprocessSettings
from ..clips.cache import PreprocessCache
from ..clips.inputs import clip_inputs
from ..datasets import read_manifest
from ..evaluation.baselines import fit_softmax, log_prob
from ..labels import EXPRESSIONS
from ..models.fourstream import CLIP_STREAMS, FourStreamNet


def load_clips(data: Path, every: int, face_size: int = 32):
    """Every clip of every ``every``-th video of a preprocessed set: ({stream: (N, ...)} for
    the four streams, subjects (N,), labels (N,), each clip's video's index in the manifest
    (N,)). ValueError if none of those videos is preprocessed."""
    entries = read_manifest(data / "manifest.csv")[::every]
    cache = PreprocessCache(data / "cache", PreprocessSettings(face_size=face_size))
    inputs, subjects, labels, videos = [], [], [], []
    for index, e in enumerate(entries):
        if not cache.has(e.path):
            continue
        arrays = cache.load(e.path)
        for clip in range(len(arrays["clip_starts"])):
            inputs.append(clip_inputs(arrays, clip, cache.settings.clip_len))
            subjects.append(e.subject)
            videos.append(index)
            labels.append(EXPRESSIONS.index(e.label) if e.label in EXPRESSIONS else -1)
    if not inputs:
        raise ValueError(f"{data}: no preprocessed videos in {cache.folder}; run `fervid preprocess {data}/manifest.csv --cache {data}/cache`")
    stacked = {name: torch.stack([x[name] for x in inputs]) for name in inputs[0]}
    return stacked, np.array(subjects), np.array(labels), np.array(videos)


def input_scales(clips: dict[str, torch.Tensor]) -> tuple[list[dict], dict]:
    """Per stream and channel: mean, std, share clipped (|x| >= 0.999), share ~0 (|x| <
    0.01), p99 of |x|; and for the RGB clip the std of each clip's temporal mean (static
    appearance), of each frame minus that mean, and of each frame minus the clip's first."""
    rows = []
    for name, x in clips.items():
        channel_axis = 2 if x.ndim == 5 else 1  # (N, T, C, H, W) or (N, C, H, W)
        for ch in range(x.shape[channel_axis]):
            values = x.select(channel_axis, ch)
            v = values.abs()
            rows.append({"stream": name, "channel": ch, "mean": values.mean().item(), "std": values.std().item(),
                         "clipped": (v >= 0.999).float().mean().item(), "zero": (v < 0.01).float().mean().item(),
                         "p99": v.flatten().kthvalue(int(0.99 * v.numel())).values.item()})
    rgb = clips["rgb_clip"]
    mean = rgb.mean(1, keepdim=True)
    return rows, {"appearance": mean.std().item(), "within": (rgb - mean).std().item(),
                  "from_first": (rgb - rgb[:, :1]).std().item()}


def eta_squared(features: np.ndarray, groups: np.ndarray) -> float:
    """Share of the features' total variance that lies between the groups' means."""
    total = features.var(0).sum()
    between = sum((groups == g).sum() * ((features[groups == g].mean(0) - features.mean(0)) ** 2).sum() for g in np.unique(groups))
    return float(between / len(features) / max(total, 1e-12))


def chance_eta_squared(groups: np.ndarray) -> float:
    """η² of features unrelated to the groups, on average: (groups - 1) / (N - 1)."""
    return (len(set(groups)) - 1) / (len(groups) - 1)


@torch.no_grad()
def layer_statistics(model: FourStreamNet, clips: dict[str, torch.Tensor], subjects: np.ndarray, labels: np.ndarray):
    """Inside each Enhanced ConvLSTM layer of each clip stream, a row: the variance of the
    three terms eq. 2's GroupNorm sums (W_xs*x, o∘tanh(c), h_{t-2}; mean over t >= 2), the
    cosine of h_T with the earliest h of the same parity, and the share of the pooled h_T's
    variance between subjects and between expressions (η²)."""
    model.eval()
    known = labels >= 0
    for name in (n for n in CLIP_STREAMS if n in model.streams):
        stream = model.streams[name]
        layer_in = stream.prepare(clips[name]).transpose(0, 1)  # (B, T, C, H, W) -> (T, B, C, H, W)
        frames = layer_in.shape[0]
        for layer, cell in enumerate(stream.convlstm.cells):
            state, hidden, terms = None, [], []
            for t in range(frames):
                x_proj = cell.input_projection(layer_in[t])
                if t >= 2:
                    terms.append([term.var().item() for term in cell.summands(x_proj, state)])
                h, state = cell.step(x_proj, state)
                hidden.append(h)
            layer_in = torch.stack(hidden)  # (T, B, Ch, H, W)
            first = layer_in[(frames - 1) % 2]  # the earliest h of the same parity as h_T
            pooled = stream.pool(layer_in[-1]).flatten(1).numpy()
            skip, lstm_out, h_skip = np.mean(terms, 0)
            yield {"stream": name, "layer": layer + 1, "var_skip": skip, "var_lstm": lstm_out, "var_h_skip": h_skip,
                   "cosine_first": F.cosine_similarity(layer_in[-1].flatten(1), first.flatten(1)).mean().item(),
                   "eta2_subject": eta_squared(pooled, subjects), "eta2_expression": eta_squared(pooled[known], labels[known])}


def held_out_subjects(fold_dir: Path) -> list[str]:
    """The test subjects of a trained fold of a cross-validation run (its split.json)."""
    return json.loads((fold_dir / "split.json").read_text())["test_subjects"]


def stream_gradient_norms(model: FourStreamNet, clips: dict[str, torch.Tensor], labels: np.ndarray, seed: int,
                          batches: int = 4) -> dict[str, float]:
    """Gradient norm reaching each ConvLSTM layer, each ResNet stream and the head of a
    four-stream model, averaged over ``batches`` random batches of 8 clips."""
    norms: dict[str, list[float]] = {}
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    for b in range(batches):
        index = order[b * 8 : (b + 1) * 8]
        model.zero_grad()
        F.cross_entropy(model({k: v[index] for k, v in clips.items()}), torch.as_tensor(labels[index])).backward()
        groups = {f"{name} layer {i + 1}": cell for name in CLIP_STREAMS for i, cell in enumerate(model.streams[name].convlstm.cells)}
        groups.update({name: model.streams[name] for name in ("rgb_dynamic", "flow_dynamic")}, head=model.head)
        for key, module in groups.items():
            norms.setdefault(key, []).append(float(torch.cat([p.grad.flatten() for p in module.parameters()]).norm()))
    return {key: float(np.mean(values)) for key, values in norms.items()}


@torch.no_grad()
def stream_contributions(model: FourStreamNet, clips: dict[str, torch.Tensor], labels: np.ndarray, index: np.ndarray) -> dict:
    """For the clips ``index``: the head's accuracy on the summed features, and per stream
    its features' std between clips, the accuracy with it held at its mean (the others as
    they are) and with only it varying (the others at their means)."""
    model.eval()
    features = {name: torch.cat([stream(clips[name][index[s:s + 64]]) for s in range(0, len(index), 64)])
                for name, stream in model.streams.items()}
    means = {name: f.mean(0, keepdim=True) for name, f in features.items()}
    target = torch.as_tensor(labels[index])

    def accuracy(features: dict[str, torch.Tensor]) -> float:
        return (model.classify(features).argmax(1) == target).float().mean().item()

    held = {name: m.expand_as(features[name]) for name, m in means.items()}  # every clip at the stream's mean
    streams = {name: {"std": f.std(0).mean().item(), "at_mean": accuracy({**features, name: held[name]}),
                      "only": accuracy({**held, name: f})}
               for name, f in features.items()}
    return {"all": accuracy(features), "streams": streams}


@torch.no_grad()
def readout_probes(model: FourStreamNet, clips: dict[str, torch.Tensor], labels: np.ndarray, videos: np.ndarray,
                   held_out: np.ndarray) -> dict[str, dict]:
    """A linear probe (``baselines.fit_softmax``) of each way to read both clip streams' top
    layer: the last h_T (what the model reads) against h_t averaged and maxed over the clip,
    each pooled as the model pools; fitted on the clips not ``held_out``: held-out clip and
    video accuracy (clip log-probabilities summed), training clip accuracy."""
    model.eval()
    reads = {"last h_T": [], "mean over t": [], "max over t": []}
    for start in range(0, len(labels), 64):
        parts = {key: [] for key in reads}
        for stream_name in CLIP_STREAMS:
            stream = model.streams[stream_name]
            hidden, _ = stream.hidden_states(clips[stream_name][start:start + 64])  # (B, T, Ch, H, W)
            parts["last h_T"].append(stream.pool(hidden[:, -1]).flatten(1))
            parts["mean over t"].append(stream.pool(hidden.mean(1)).flatten(1))
            parts["max over t"].append(stream.pool(hidden.amax(1)).flatten(1))
        for key in reads:
            reads[key].append(torch.cat(parts[key], 1))
    out = {}
    for key, chunks in reads.items():
        x = torch.cat(chunks).float().numpy()
        probe = fit_softmax(x[~held_out], labels[~held_out], len(EXPRESSIONS))
        lp = log_prob(probe, x[held_out])
        test_videos = videos[held_out]
        video_hits = [lp[test_videos == v].sum(0).argmax() == labels[held_out][test_videos == v][0] for v in np.unique(test_videos)]
        out[key] = {"clip_acc": float(np.mean(lp.argmax(1) == labels[held_out])), "video_acc": float(np.mean(video_hits)),
                    "train_clip_acc": float(np.mean(log_prob(probe, x[~held_out]).argmax(1) == labels[~held_out]))}
    return out


def trained_fold(fold_dir: Path) -> FourStreamNet:
    """The model of a trained fold (``model.safetensors``)."""
    model, _ = load_model(fold_dir / "model.safetensors")
    return model
