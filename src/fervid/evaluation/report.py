"""Figures (matplotlib, PNG): confusion matrices, training curves, expression timelines."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ..atomic import write_atomically
from ..labels import EXPRESSIONS


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, no screen needed
    import matplotlib.pyplot as plt

    return plt


def drawable(text: str) -> str:
    """``text`` with each character the plot's font has no glyph for written as its Python
    escape (a video named in Japanese gets ``\\u6012...`` in its title instead of empty
    boxes and one matplotlib warning per missing glyph; the JSON and CSV keep the name)."""
    if text.isascii():
        return text
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    charmap = FT2Font(font_manager.findfont(font_manager.FontProperties())).get_charmap()
    return "".join(c if ord(c) in charmap else c.encode("ascii", "backslashreplace").decode() for c in text)


def _save(fig, path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=110, bbox_inches="tight"))


def plot_confusions(matrices: Mapping[str, np.ndarray], path: str | os.PathLike, title: str = "") -> Path:
    """One row-normalised confusion matrix per named result (rows: true class)."""
    plt = _pyplot()
    n = len(matrices)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.6), squeeze=False)
    short = [e[:4] for e in EXPRESSIONS]
    for ax, (name, matrix) in zip(axes[0], matrices.items()):
        m = np.asarray(matrix, float)
        rates = m / np.maximum(m.sum(1, keepdims=True), 1)
        ax.imshow(rates, vmin=0, vmax=1, cmap="Blues")
        for i in range(len(m)):
            for j in range(len(m)):
                ax.text(j, i, int(m[i, j]), ha="center", va="center", fontsize=7, color="white" if rates[i, j] > 0.5 else "black")
        ax.set_xticks(range(len(short)), short, rotation=45, fontsize=7)
        ax.set_yticks(range(len(short)), short, fontsize=7)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_title(name, fontsize=9)
    axes[0][0].set_ylabel("true", fontsize=8)
    if title:
        fig.suptitle(drawable(title), fontsize=10)
    path = _save(fig, path)
    plt.close(fig)
    return path


def plot_curves(histories: Mapping[str, Sequence[Sequence[Mapping]]], path: str | os.PathLike, keys=("train_loss", "train_clip_acc"),
                stage_two_from: int | None = None) -> Path:
    """Per named configuration, one line per fold for each metric in ``keys``; with
    ``stage_two_from`` (staged training: the first epoch of stage 2), a dashed line where
    stage 2 begins."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.4), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, key in zip(axes[0], keys):
        for c, (name, folds) in enumerate(histories.items()):
            for f, history in enumerate(folds):
                epochs = [row["epoch"] for row in history if key in row]
                values = [row[key] for row in history if key in row]
                ax.plot(epochs, values, color=colours[c % len(colours)], alpha=0.8, label=name if f == 0 else None)
        if stage_two_from is not None:
            ax.axvline(stage_two_from - 0.5, color="grey", linestyle="--", linewidth=1, label="stage 2 begins" if ax is axes[0][0] else None)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key.replace("_", " "))
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    path = _save(fig, path)
    plt.close(fig)
    return path


def plot_timeline(times: np.ndarray, probs: np.ndarray, path: str | os.PathLike, title: str = "", no_face: Sequence[tuple[float, float]] = ()) -> Path:
    """Probability of each expression over time (one line per class); spans without a
    face shaded grey."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2))
    for k, name in enumerate(EXPRESSIONS):
        ax.plot(times, probs[:, k], marker="o", markersize=3, label=name)
    for start, end in no_face:
        ax.axvspan(start, end, color="grey", alpha=0.3, label="no face" if start == no_face[0][0] else None)
    ax.set_ylim(0, 1)
    ax.set_xlabel("time (s), clip centre")
    ax.set_ylabel("probability")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=4, loc="upper left")
    if title:
        ax.set_title(drawable(title), fontsize=9)
    path = _save(fig, path)
    plt.close(fig)
    return path
