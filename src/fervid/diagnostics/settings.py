"""One setting of a frozen config dataclass changed from the command line ("FIELD=VALUE",
the scripts' ``--set``), so each diagnostic run answers one question against the defaults."""

from __future__ import annotations

import ast
import dataclasses


def override(config, item: str):
    """``config`` (a frozen dataclass) with one field set from "name=value", or
    "sub.name=value" for a field of a nested dataclass; the value is cast to the field's type."""
    name, value = item.split("=", 1)
    *path, field = name.split(".")
    inner = config
    for part in path:
        inner = getattr(inner, part)
    current = getattr(inner, field)
    if isinstance(current, str):
        parsed = value
    else:  # numbers, booleans, tuples: Python literals ("6", "True", "(8, 8, 8, 8)")
        parsed = ast.literal_eval(value)
        if not isinstance(parsed, type(current)) and not (isinstance(current, float) and isinstance(parsed, int)):
            raise ValueError(f"{name}: expected a {type(current).__name__}, got {value!r}")
    new = dataclasses.replace(inner, **{field: parsed})
    for depth in range(len(path) - 1, -1, -1):
        parent = config
        for part in path[:depth]:
            parent = getattr(parent, part)
        new = dataclasses.replace(parent, **{path[depth]: new})
    return new


def overridden(config, items: list[str], **fields):
    """``config`` with ``fields`` replaced, then each "FIELD=VALUE" of ``items`` applied."""
    config = dataclasses.replace(config, **fields)
    for item in items:
        config = override(config, item)
    return config
