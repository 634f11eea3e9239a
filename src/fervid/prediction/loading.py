"""A trained model and the preprocessing it was trained with, loaded for prediction:
``find_model`` (a weights file, its base name, or a folder holding one) and
``load_predictor``, which refuses a model that does not fit fervid's pipeline, saying why."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

from ..checkpoint import CheckpointError, config_from_dict, load_model
from ..clips.arrays import PreprocessSettings
from ..labels import EXPRESSIONS
from ..models.convlstm import fuse_gate_arithmetic
from ..models.fourstream import FourStreamNet
from ..precision import (
    autocast,
    prefers_channels_last,
    resolve_device,
    resolve_precision,
)
from ..training.recipes import STAGE_ONE


@dataclass
class Predictor:
    model: FourStreamNet
    settings: PreprocessSettings
    source: str
    precision: str = "float32"  # "float32", "bfloat16" or "auto" (fervid.precision), resolved here

    def __post_init__(self) -> None:
        self.precision = resolve_precision(self.precision, self.device)
        if prefers_channels_last(self.device, self.precision):
            self.model.to(memory_format=torch.channels_last)  # the same values, laid out for speed

    def autocast(self):
        return autocast(self.device, self.precision)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def find_model(path: str | os.PathLike) -> Path:
    """A weights file, its base name, a fold folder, or a run folder with a single model."""
    path = Path(path)
    for candidate in (path, path.with_suffix(".json"), Path(str(path) + ".json")):
        if candidate.suffix in (".json", ".safetensors") and candidate.is_file():
            return candidate.with_suffix("")
    if path.is_dir():
        if (path / "model.json").is_file():
            return path / "model"
        found = sorted(path.rglob("model.json"))
        # A staged run's first-stage models (<run>/stage1/...) are a means, not the run's models.
        found = [f for f in found if STAGE_ONE not in f.relative_to(path).parts] or found
        if len(found) == 1:
            return found[0].with_suffix("")
        if found:
            listing = ", ".join(str(f.parent.relative_to(path)) for f in found[:8])
            raise CheckpointError(f"{path}: holds {len(found)} models ({listing}{', …' if len(found) > 8 else ''}); name one")
    raise CheckpointError(f"{path}: no fervid model (expected model.json + model.safetensors, or a folder holding them)")


def load_predictor(path: str | os.PathLike, device: str = "auto", precision: str = "auto",
                   fuse_gates: bool = False) -> Predictor:
    """Load a model and the preprocessing settings it was trained with; refuse a model
    whose labels, classes or face size do not fit fervid's pipeline, saying why.
    ``precision``: "float32", "bfloat16" or "auto" (``fervid.precision``). ``fuse_gates``:
    the ConvLSTM gate arithmetic through torch.compile, each step's graph compiled in a
    background thread while that step runs eagerly (``fuse_gate_arithmetic(wait=False)``):
    the same predictions to float rounding, faster once compiled, never waiting for it."""
    base = find_model(path)
    model, extra = load_model(base, map_location=resolve_device(device))
    where = f"{base}.json"
    if "preprocess" not in extra:
        raise CheckpointError(f"{where}: no preprocessing settings stored (not a model trained by fervid train/crossval)")
    settings = config_from_dict(PreprocessSettings, extra["preprocess"], f"{where}: preprocess")
    labels = tuple(extra.get("labels", EXPRESSIONS))
    if labels != EXPRESSIONS or model.config.num_classes != len(EXPRESSIONS):
        raise CheckpointError(
            f"{where}: model predicts {model.config.num_classes} classes {list(labels)}; fervid's are {list(EXPRESSIONS)}"
        )
    if settings.face_size != model.config.face_size:
        raise CheckpointError(
            f"{where}: preprocessing makes {settings.face_size}×{settings.face_size} faces, the model reads "
            f"{model.config.face_size}×{model.config.face_size}"
        )
    if fuse_gates:
        fuse_gate_arithmetic(model, wait=False)
    return Predictor(model.eval(), settings, str(base), precision)
