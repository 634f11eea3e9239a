"""Saving and loading models without pickle: tensors as safetensors, configuration as JSON.

A model saved to ``out/model`` is two files, ``out/model.safetensors`` and
``out/model.json``. The JSON rebuilds the network (its ``FourStreamConfig``)
and carries anything else the caller adds (preprocessing settings, labels);
the safetensors file holds the state dict. Loading checks that the two agree
and says what does not.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .atomic import write_atomically
from .models.fourstream import FourStreamConfig, FourStreamNet

FORMAT = "fervid.model"
FORMAT_VERSION = 1
# FourStreamConfig fields added after models were first saved, with the value that the
# model computed before they existed: a model.json without them is read with these, not
# with today's defaults (which would feed its ConvLSTM streams other inputs than it learned on).
# (ConvLSTMConfig.skip_init is not here: it only initialises, and loaded weights replace it.)
CONFIG_FIELDS_BEFORE = {"rgb_clip_reference": "none", "clip_input_gain": 1.0, "clip_pool": "average"}


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message names the file and the problem."""


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def config_from_dict(cls: type, data: dict[str, Any], source: str = "config") -> Any:
    """Rebuild a (nested, frozen) config dataclass from ``config_to_dict``'s output.

    JSON turns tuples into lists; fields typed as tuples are turned back. Unknown
    keys are an error, missing keys take the dataclass default.
    """
    if not isinstance(data, dict):
        raise CheckpointError(f"{source}: expected an object for {cls.__name__}, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise CheckpointError(f"{source}: unknown {cls.__name__} field(s) {unknown}")
    kwargs = {name: _from_json(hints[name], value, f"{source}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise CheckpointError(f"{source}: invalid {cls.__name__}: {err}") from err


def _from_json(hint: Any, value: Any, source: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return config_from_dict(hint, value, source)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _from_json(inner[0], value, source) if len(inner) == 1 else value
    if origin is tuple and isinstance(value, list):
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json(args[0], v, source) for v in value)
        return tuple(_from_json(a, v, source) for a, v in zip(args, value))
    return value


def _paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """``out/model``, ``out/model.json`` or ``out/model.safetensors`` -> both file paths."""
    path = Path(path)
    if path.suffix in (".json", ".safetensors"):
        path = path.with_suffix("")
    return path.with_name(path.name + ".safetensors"), path.with_name(path.name + ".json")


def save_model(model: FourStreamNet, path: str | os.PathLike, extra: dict[str, Any] | None = None) -> Path:
    """Write ``path.safetensors`` and ``path.json``; returns the safetensors path."""
    from . import __version__

    weights_path, config_path = _paths(path)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "fervid_version": __version__,
        "model": type(model).__name__,
        "config": config_to_dict(model.config),
        "weights": weights_path.name,
        "extra": extra or {},
    }
    write_atomically(weights_path, lambda p: save_file(tensors, str(p), metadata={"format": FORMAT}))
    write_atomically(config_path, lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))
    return weights_path


def read_model_config(path: str | os.PathLike) -> tuple[FourStreamConfig, dict[str, Any]]:
    """The model's config and the ``extra`` dict from ``path.json``, without the weights."""
    _, config_path = _paths(path)
    if not config_path.is_file():
        raise CheckpointError(f"{config_path}: no such model config (expected next to the .safetensors file)")
    try:
        meta = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise CheckpointError(f"{config_path}: not valid JSON: {err}") from err
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{config_path}: not a fervid model config (no \"format\": \"{FORMAT}\")")
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(
            f"{config_path}: written by a newer fervid (format {meta['format_version']}, this reads {FORMAT_VERSION})"
        )
    if meta.get("model") != FourStreamNet.__name__:
        raise CheckpointError(f"{config_path}: model {meta.get('model')!r} is not {FourStreamNet.__name__}")
    config_dict = meta.get("config")
    if isinstance(config_dict, dict):
        config_dict = {**CONFIG_FIELDS_BEFORE, **config_dict}
    config = config_from_dict(FourStreamConfig, config_dict, f"{config_path}: config")
    return config, meta.get("extra", {})


def load_model(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> tuple[FourStreamNet, dict[str, Any]]:
    """Rebuild the model from ``path.json`` and fill it from ``path.safetensors``.

    Returns (model in eval mode, the ``extra`` dict). Raises ``CheckpointError``
    naming the file and every tensor that is missing, unexpected or misshapen.
    """
    config, extra = read_model_config(path)
    weights_path, _ = _paths(path)
    if not weights_path.is_file():
        raise CheckpointError(f"{weights_path}: no such weights file")
    try:
        tensors = load_file(str(weights_path), device=str(map_location))
    except Exception as err:  # safetensors raises its own error types for corrupt files
        raise CheckpointError(f"{weights_path}: not a readable safetensors file: {err}") from err
    model = FourStreamNet(config)
    expected = model.state_dict()
    problems = []
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing:
        problems.append(f"missing tensors {_abbrev(missing)}")
    if unexpected:
        problems.append(f"unexpected tensors {_abbrev(unexpected)}")
    for name in sorted(set(expected) & set(tensors)):
        if expected[name].shape != tensors[name].shape:
            problems.append(
                f"{name}: config gives shape {tuple(expected[name].shape)}, file has {tuple(tensors[name].shape)}"
            )
    if problems:
        raise CheckpointError(f"{weights_path} does not match its config: " + "; ".join(problems))
    model.load_state_dict(tensors)
    return model.to(map_location).eval(), extra


def _abbrev(names: list[str], limit: int = 8) -> str:
    """Tensor names grouped by their module (``streams.flow_dynamic.* (318 tensors)``)."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(".".join(name.split(".")[:2]), []).append(name)
    parts = [members[0] if len(members) == 1 else f"{prefix}.* ({len(members)} tensors)" for prefix, members in groups.items()]
    more = f", … ({len(parts) - limit} more groups)" if len(parts) > limit else ""
    return f"[{', '.join(parts[:limit])}{more}]"
