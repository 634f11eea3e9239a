"""Labelled videos with subject ids: the manifest format, readers for known layouts
(eNTERFACE'05; RAVDESS, CREMA-D, CK+, DFEW, AFEW and one folder per class in
``layouts``), subject-group splits and the synthetic expression-video generator."""

from .enterface import EXPRESSION_CODES, enterface_manifest, enterface_report
from .layouts import LAYOUTS, LayoutScan
from .manifest import (
    ManifestError,
    VideoEntry,
    natural_key,
    read_manifest,
    summarize,
    write_manifest,
)
from .splits import fold_split, read_split, subject_groups, write_split
from .synthetic import SyntheticRanges, generate_synthetic, static_vs_temporal_check

__all__ = [
    "EXPRESSION_CODES",
    "LAYOUTS",
    "LayoutScan",
    "ManifestError",
    "SyntheticRanges",
    "VideoEntry",
    "enterface_manifest",
    "enterface_report",
    "fold_split",
    "generate_synthetic",
    "natural_key",
    "read_manifest",
    "read_split",
    "static_vs_temporal_check",
    "subject_groups",
    "summarize",
    "write_manifest",
    "write_split",
]
