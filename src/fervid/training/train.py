"""Training one model on preprocessed clips: 16-frame clips, cross-entropy over six
expressions, under a ``TrainConfig`` (``training.recipes``: the named recipes ``"paper"``
and ``"fervid"``).

A plain loop in the nanoGPT manner rather than a trainer library: PyTorch
Lightning and Accelerate checkpoint optimizer and RNG state with pickle
(``torch.save``), which fervid does not write or load; the loop is short enough
to read whole. Counting and statistics are left to scikit-learn and SciPy
(``evaluation/metrics.py``).

- Checkpoint after every epoch: model, optimizer, scheduler, epoch and RNG state
  as safetensors + JSON, written atomically. A rerun in the same folder resumes
  from the last epoch and ends with the same weights as an uninterrupted run
  (CPU, same seed): the clip order of an epoch depends on (seed, epoch) only.
- The number of epochs is fixed in advance (``TrainConfig.epochs``): nothing here
  looks at test data. An optional validation set (training subjects only) is
  evaluated per epoch for the curves.
- A non-finite loss stops training with the step, the loss and the last good
  checkpoint named.
- Several processes through ``torchrun`` (DDP; gloo on CPU, NCCL on CUDA): each
  global batch is split across the ranks, so the result matches one process.
- On CUDA (or CPU), ``precision="bfloat16"`` runs the forward pass under autocast
  with float32 master weights; ``compile=True`` wraps the model in ``torch.compile``.

Long (over 400 lines) because exact resume and DDP touch every part of the loop: the
clip order, the mirror draws, the RNG state and the checkpoint have to agree, and are
read best beside the loop that uses them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from safetensors.torch import load_file, save_file
from torch import nn
from torch.utils.data import DataLoader

from ..atomic import write_atomically, write_json, write_rows
from ..checkpoint import config_to_dict, load_model, save_model
from ..clips.inputs import ClipSet, collate, mirror
from ..evaluation.inference import evaluate, flush_denormals, predict_clips, to_device
from ..evaluation.metrics import evaluate_predictions
from ..models.convlstm import fuse_gate_arithmetic
from ..models.fourstream import (
    FourStreamConfig,
    FourStreamNet,
    StreamHeads,
    WithStreamHeads,
)
from ..precision import autocast, describe, resolve_device, resolve_precision
from ..progress import progress_bar, wanted
from .lars import LARS
from .recipes import TrainConfig, values_before_added

CHECKPOINT = "checkpoint"  # checkpoint.json names its checkpoint-<epoch>.safetensors


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


# ---------------------------------------------------------------- helpers


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def seeded_generator(seed: int, *counters: int) -> torch.Generator:
    """A generator that depends on (seed, epoch[, step]) only, so that resume and DDP
    ranks draw what one uninterrupted process draws."""
    value = seed
    for counter in counters:
        value = value * 100_003 + counter
    return torch.Generator().manual_seed(value)


def global_batches(clip_videos: np.ndarray, batch_size: int, seed: int, epoch: int, clips_per_video: int | None = None,
                   video_loss: int = 0) -> list[list[int]]:
    """The clip order of one epoch, a function of (seed, epoch) only: every clip, or
    ``clips_per_video`` clips drawn from each video; with ``video_loss`` k, every video's k
    clips side by side (drawn without repeats; a video with fewer repeats its own), the
    videos in a random order, ``batch_size / k`` videos a batch."""
    generator = seeded_generator(seed, epoch)
    if video_loss:
        videos, order = np.unique(clip_videos), []
        for v in torch.randperm(len(videos), generator=generator).tolist():
            own = np.flatnonzero(clip_videos == videos[v])
            drawn = torch.randperm(len(own), generator=generator).tolist()
            order += [int(own[drawn[i % len(own)]]) for i in range(video_loss)]
    else:
        order = torch.randperm(len(clip_videos), generator=generator).tolist()
    if clips_per_video is not None:
        taken: dict[int, int] = {}
        chosen = []
        for i in order:  # the first clips_per_video of each video in a random order
            v = int(clip_videos[i])
            if taken.get(v, 0) < clips_per_video:
                taken[v] = taken.get(v, 0) + 1
                chosen.append(i)
        order = chosen
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


def warm_start(model: FourStreamNet, path: str | os.PathLike) -> list[str]:
    """Staged training (not in the paper): start ``model`` from the trained model at
    ``path`` (``model.safetensors``). Every stream the two share, and the head, take its
    weights; each stream it lacks is silenced (``silence``: output zero for every input),
    so ``model`` starts computing exactly what the trained model computes and learns what
    the new streams add from there. Returns the new streams' names. Refused, naming the
    file, when the two share no stream or differ in anything but their streams (size,
    cell, an input choice): with the configs equal, the shared parts' tensors match."""
    source, _ = load_model(path)
    if dataclasses.replace(source.config, streams=model.config.streams) != model.config:
        raise ValueError(f"{path}: a model of other settings than this one (size, cell or an input choice), not only other streams")
    shared = [name for name in model.streams if name in source.streams]
    if not shared:
        raise ValueError(f"{path}: shares no stream with this model ({list(source.streams)} vs {list(model.streams)})")
    parts = tuple(f"streams.{name}." for name in shared) + ("head.",)
    model.load_state_dict({k: v for k, v in source.state_dict().items() if k.startswith(parts)}, strict=False)
    new = [name for name in model.streams if name not in source.streams]
    for name in new:
        try:
            model.streams[name].silence()
        except ValueError as err:
            raise ValueError(f"{path}: cannot add stream {name} silent: {err}") from err
    return new


def lr_factor(step: int, steps_per_epoch: int, config: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to zero at the last step."""
    total = config.epochs * steps_per_epoch
    warmup = config.warmup_epochs * steps_per_epoch
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


class Distributed:
    """Rank and world size from torchrun's environment; one process otherwise."""

    def __init__(self, device: torch.device):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.active = self.world > 1
        self.device = device
        if self.active and device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))  # before NCCL starts
        if self.active and not dist.is_initialized():
            dist.init_process_group("nccl" if device.type == "cuda" else "gloo")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def mean(self, value: float) -> float:
        if not self.active:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)  # NCCL reduces device tensors only
        dist.all_reduce(t)
        return t.item() / self.world


# ---------------------------------------------------------------- checkpoints


def _rng_state() -> tuple[dict[str, torch.Tensor], dict]:
    tensors = {"rng.torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = state
    np_state = np.random.get_state()
    meta = {
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
        "python": [random.getstate()[0], list(random.getstate()[1]), random.getstate()[2]],
    }
    return tensors, meta


def _set_rng_state(tensors: dict[str, torch.Tensor], meta: dict) -> None:
    torch.set_rng_state(tensors["rng.torch"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("rng.cuda."))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    n = meta["numpy"]
    np.random.set_state((n[0], np.array(n[1], dtype=np.uint32), *n[2:]))
    p = meta["python"]
    random.setstate((p[0], tuple(p[1]), p[2]))


def save_checkpoint(folder: Path, epoch: int, model: nn.Module, optimizer, scheduler, history: list[dict], extra: dict,
                    stream_heads: nn.Module | None = None) -> Path:
    """Everything needed to resume after ``epoch`` (1-based count of finished epochs)."""
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if stream_heads is not None:
        tensors.update({f"stream_heads.{k}": v.detach().cpu().contiguous() for k, v in stream_heads.state_dict().items()})
    optim_state = optimizer.state_dict()
    optim_meta = {"param_groups": optim_state["param_groups"], "state": {}}
    for index, state in optim_state["state"].items():
        optim_meta["state"][str(index)] = {}
        for name, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                optim_meta["state"][str(index)][name] = value
    rng_tensors, rng_meta = _rng_state()
    tensors.update(rng_tensors)
    weights = folder / f"{CHECKPOINT}-{epoch:04d}.safetensors"
    write_atomically(weights, lambda tmp: save_file(tensors, str(tmp)))
    meta = {
        "epoch": epoch,
        "weights": weights.name,
        "optimizer": optim_meta,
        "scheduler": scheduler.state_dict(),
        "rng": rng_meta,
        "history": history,
        **extra,
    }
    index = write_json(folder / f"{CHECKPOINT}.json", meta)  # the checkpoint exists from this rename on
    for old in folder.glob(f"{CHECKPOINT}-*.safetensors"):
        if old.name != weights.name:
            old.unlink()
    return index


def load_checkpoint(folder: Path, model: nn.Module, optimizer, scheduler,
                    stream_heads: nn.Module | None = None) -> tuple[int, list[dict]]:
    """Restore from ``folder/checkpoint.json``; returns (finished epochs, history)."""
    meta = json.loads((folder / f"{CHECKPOINT}.json").read_text())
    tensors = load_file(str(folder / meta["weights"]))
    model.load_state_dict({k[len("model.") :]: v for k, v in tensors.items() if k.startswith("model.")})
    if stream_heads is not None:
        stream_heads.load_state_dict({k[len("stream_heads.") :]: v for k, v in tensors.items() if k.startswith("stream_heads.")})
    state = {}
    for index, values in meta["optimizer"]["state"].items():
        state[int(index)] = dict(values)
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer"]["param_groups"]})
    scheduler.load_state_dict(meta["scheduler"])
    _set_rng_state(tensors, meta["rng"])
    return meta["epoch"], meta["history"]


# ---------------------------------------------------------------- training


def train(
    model_config: FourStreamConfig,
    config: TrainConfig,
    train_clips: ClipSet,
    out_dir: str | os.PathLike,
    val_clips: ClipSet | None = None,
    extra: dict | None = None,
    progress: bool | None = None,
) -> tuple[FourStreamNet, list[dict]]:
    """Train from scratch (or resume from ``out_dir``'s checkpoint); returns the model
    after the last epoch and the per-epoch history, and writes to ``out_dir``:
    ``metrics.csv``, ``checkpoint.json`` + ``.safetensors``, and ``model.safetensors`` +
    ``model.json`` (with ``extra``, for example the preprocessing settings)."""
    if config.stage_epochs and config.init_from is None:
        raise ValueError(f"stage_epochs={config.stage_epochs} (the fervid recipe's staged training) trains one "
                         "configuration after another: run it through crossval (fervid crossval / fervid train), give "
                         "init_from, or set stage_epochs=0 (then epochs is the whole training)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device(config.device)
    precision = resolve_precision(config.precision, device)
    ddp = Distributed(device)
    flush_denormals()
    seed_everything(config.seed)
    model = FourStreamNet(model_config).to(device)
    if config.fuse_gates:
        fuse_gate_arithmetic(model)
    if ddp.active and device.type == "cuda":
        # Batch statistics over all ranks, so the ResNet streams see the global batch. (On the
        # CPU, SyncBatchNorm is unsupported: there each rank normalises its own share.)
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    stream_heads = None
    if config.stream_heads:
        # Drawn apart (CPU and CUDA generators restored after), so probes leave the model's training as it was.
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(config.seed + 1)
            stream_heads = StreamHeads(model_config).to(device)
    decay, no_decay = [], []
    trained = list(model.named_parameters()) + (list(stream_heads.named_parameters()) if stream_heads else [])
    for name, p in trained:  # no weight decay on norms, biases and peepholes
        (no_decay if p.ndim <= 1 or name.endswith("peephole") else decay).append(p)
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    if config.optimizer == "adamw":
        optimizer = torch.optim.AdamW(groups, lr=config.lr)
    elif config.optimizer == "lars":  # the trust ratio for the weights; norms, biases and peepholes plain momentum SGD
        optimizer = LARS([groups[0], {**groups[1], "adapt": False}], lr=config.lr, momentum=config.momentum, trust=config.trust)
    else:
        optimizer = torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)
    recurrent = [p for name, p in model.named_parameters() if ".convlstm." in name]  # clipped, see TrainConfig
    clip_videos = train_clips.clip_videos

    def epoch_batches(epoch: int) -> list[list[int]]:
        # Every rank takes a share of each global batch; a last batch too small to give
        # every rank a clip is dropped, so all ranks take the same number of steps.
        batches = global_batches(clip_videos, config.batch_size, config.seed, epoch, config.clips_per_video, config.video_loss)
        return [b for b in batches if len(b) >= ddp.world]

    if config.video_loss and ddp.active:
        raise ValueError("video_loss takes a video's clips in one process: train it without torchrun")

    steps_per_epoch = len(epoch_batches(0))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, steps_per_epoch, config))
    start_epoch, history = 0, []
    fingerprint = settings_fingerprint(model_config, config, extra)
    if (out / f"{CHECKPOINT}.json").exists():
        found = json.loads((out / f"{CHECKPOINT}.json").read_text()).get("fingerprint")
        if found != fingerprint:
            raise ValueError(
                f"{out}: holds a checkpoint made with other settings (model, training or preprocessing); "
                "resume with the same settings (a run made before named recipes with the defaults of then: "
                "--recipe paper), or use a new folder"
            )
        start_epoch, history = load_checkpoint(out, model, optimizer, scheduler, stream_heads)
        if ddp.main and wanted(progress):
            print(f"resuming {out} after epoch {start_epoch}", file=sys.stderr)
    elif config.init_from is not None:  # in place: the optimizer holds these parameters
        warm_start(model, config.init_from)
    net: nn.Module = model if stream_heads is None else WithStreamHeads(model, stream_heads, detach=config.stream_loss == 0)
    if ddp.active:
        net = nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile:
        net = torch.compile(net)
    meta = {"model_config": config_to_dict(model_config), "train_config": config_to_dict(config), "precision": precision, **(extra or {})}
    if ddp.main:
        if wanted(progress) and start_epoch == 0:
            print(f"training on {device} in {describe(config.precision, device)}", file=sys.stderr)
        write_json(out / "train_config.json", meta)
    tensorboard = _tensorboard(out) if ddp.main else None

    for epoch in range(start_epoch, config.epochs):
        model.train()
        this_epoch = epoch_batches(epoch)
        global_sizes = [len(b) for b in this_epoch]
        batches = [b[ddp.rank :: ddp.world] for b in this_epoch]
        loader = DataLoader(
            train_clips,
            batch_sampler=batches,
            num_workers=config.loader_workers,
            collate_fn=collate,
            persistent_workers=False,
        )
        bar = progress_bar(len(batches), f"epoch {epoch + 1}/{config.epochs}", "batch", progress if ddp.main else False)
        start = time.perf_counter()
        loss_sum = correct = seen = 0.0
        stream_correct = dict.fromkeys(model.streams, 0.0) if stream_heads else {}
        for step, (inputs, labels, _) in enumerate(loader):
            if config.mirror:
                draws = torch.rand(global_sizes[step], generator=seeded_generator(config.seed, epoch, step))
                inputs = mirror(inputs, draws[ddp.rank :: ddp.world] < config.mirror)
            inputs, labels = to_device(inputs, device), labels.to(device)
            with autocast(device, precision):
                logits = net(inputs)
            logits, stream_logits = logits if stream_heads else (logits, {})
            if config.video_loss:  # one loss per video, on its k clips' mean logits (k side by side)
                per_video = logits.float().unflatten(0, (-1, config.video_loss)).mean(1)  # (B, K) -> (B/k, K)
                batch_loss = nn.functional.cross_entropy(per_video, labels[:: config.video_loss], reduction="sum") * config.video_loss
            else:
                batch_loss = nn.functional.cross_entropy(logits.float(), labels, reduction="sum")
            total_loss = batch_loss
            if stream_logits:  # probes (detached features) learn at weight 1, without touching the network
                stream_loss = sum(nn.functional.cross_entropy(v.float(), labels, reduction="sum") for v in stream_logits.values())
                total_loss = batch_loss + (config.stream_loss or 1.0) * stream_loss / len(stream_logits)
                for name, v in stream_logits.items():
                    stream_correct[name] += (v.argmax(1) == labels).sum().item()
            # Sum over this rank's share / global batch size, × world because DDP averages the
            # ranks' gradients: the gradient of the mean over the global batch, as in one process.
            loss = total_loss * ddp.world / global_sizes[step]
            if not torch.isfinite(batch_loss if config.stream_loss == 0 else loss):  # a probe's loss does not stop training
                last = out / f"{CHECKPOINT}.json"
                raise TrainingDiverged(
                    f"{out}: loss is {loss.item()} at epoch {epoch + 1}, step {step + 1}; "
                    + (f"last good checkpoint {last}" if last.exists() else "no checkpoint yet")
                    + " (lower TrainConfig.lr?)"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip and recurrent:
                nn.utils.clip_grad_norm_(recurrent, config.grad_clip)
            optimizer.step()
            scheduler.step()
            loss_sum += batch_loss.item()
            correct += (logits.argmax(1) == labels).sum().item()
            seen += len(labels)
            bar.update(1)
            bar.set_postfix_str(f"loss {loss_sum / seen:.3f}")
        bar.close()
        row = {
            "epoch": epoch + 1,
            "train_loss": ddp.mean(loss_sum / max(seen, 1)),
            "train_clip_acc": ddp.mean(correct / max(seen, 1)),
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - start,
            "clips_per_s": ddp.mean(seen / (time.perf_counter() - start)) * ddp.world,
        }
        row.update({f"train_clip_acc_{name}": ddp.mean(n / max(seen, 1)) for name, n in stream_correct.items()})
        if val_clips is not None and ddp.main:
            val, _ = evaluate(model, val_clips, precision=precision)
            row.update(val_clip_acc=val["clip"]["accuracy"], val_video_acc=val["video"]["accuracy"], val_video_uar=val["video"]["uar"])
            if stream_heads is not None:
                for name, metrics in evaluate_stream_heads(model, stream_heads, val_clips, precision).items():
                    row.update({f"val_clip_acc_{name}": metrics["clip"]["accuracy"], f"val_video_acc_{name}": metrics["video"]["accuracy"]})
        history.append(row)
        if ddp.main:
            write_rows(out / "metrics.csv", history)
            if tensorboard:
                for k, v in row.items():
                    if k != "epoch":
                        tensorboard.add_scalar(k, v, epoch + 1)
            save_checkpoint(out, epoch + 1, model, optimizer, scheduler, history,
                            {"model_config": config_to_dict(model_config), "fingerprint": fingerprint}, stream_heads)
        if ddp.active:
            dist.barrier()
    if ddp.main:
        save_model(model, out / "model", extra={"train_config": config_to_dict(config), "precision": precision, **(extra or {})})
    if ddp.active:  # the model file exists on every rank's return (staged training reads it next)
        dist.barrier()
    if tensorboard:
        tensorboard.close()
    return model, history


class _EveryStreamHead(nn.Module):
    """inputs -> (B, N streams, K): every stream head's logits, so that
    ``inference.predict_clips`` batches them as it batches the network's."""

    def __init__(self, model: FourStreamNet, stream_heads: StreamHeads) -> None:
        super().__init__()
        self.model, self.stream_heads, self.config = model, stream_heads, model.config

    def forward(self, inputs):
        return torch.stack(list(self.stream_heads(self.model.stream_features(inputs)).values()), 1)


def evaluate_stream_heads(model: FourStreamNet, stream_heads: StreamHeads, clips: ClipSet, precision: str) -> dict[str, dict]:
    """Each stream head's clip- and video-level metrics on ``clips`` (one pass; ``precision``
    resolved)."""
    probs = predict_clips(_EveryStreamHead(model, stream_heads), clips, precision=precision)  # (clips, N, K)
    return {name: evaluate_predictions(probs[:, i], clips.clip_labels, clips.clip_videos) for i, name in enumerate(model.streams)}


def settings_fingerprint(model_config: FourStreamConfig, config: TrainConfig, extra: dict | None) -> str:
    """A hash of everything that shapes the result: the model, the fields of ``config`` whose
    role is "method" or "run" (not "speed" or the recipe's name), each left out while at the
    value it had before it was ``added``, so that older runs keep their fingerprints.
    The precision enters as resolved on this machine: a run begun in bfloat16 under "auto"
    is not resumed in float32 on a machine where "auto" means float32."""
    values, before = config_to_dict(config), values_before_added()
    train = {f.name: values[f.name] for f in dataclasses.fields(config)
             if f.metadata["role"] in ("method", "run") and not (f.name in before and values[f.name] == before[f.name])}
    train["precision"] = resolve_precision(config.precision, resolve_device(config.device))
    if config.init_from is not None:  # the model started from, by content: not by how its path was spelled
        train["init_from"] = file_digest(config.init_from)
    blob = json.dumps({"model": config_to_dict(model_config), "train": train, "extra": extra or {}}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def file_digest(path: str | os.PathLike) -> str:
    """The first 16 hex digits of a file's SHA-256."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        raise FileNotFoundError(f"{path}: cannot read the model to start from: {err.strerror}") from err
    return "sha256:" + digest.hexdigest()[:16]


def _tensorboard(out: Path):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:  # tensorboard is optional
        return None
    return SummaryWriter(str(out / "tensorboard"))
