"""The package's layout as a rule: data flows one way through the stage folders (a stage
imports only from the stages before it and from the shared modules), and the import
paths from before the folders still work."""

import ast
import importlib
import re
from pathlib import Path

import pytest

import fervid

PACKAGE = Path(fervid.__file__).parent
STAGES = ("frontend", "clips", "models", "evaluation", "datasets", "training", "prediction", "diagnostics")  # in data-flow order;
# diagnostics: the measurements behind benchmarks/, which may import every stage and which no stage imports
SHARED = {"labels", "atomic", "precision", "progress"}  # import no stage
AT_STAGE = {"checkpoint": "models"}  # shared modules that import a stage count as that stage
TOP = {"demo", "cli", "__init__"}  # the main job and the command: above every stage


def imported_fervid_modules(source: str, package: list[str]) -> set[str]:
    """The fervid modules that ``source``, a module of the package ``fervid.<package>``,
    imports at run time (not under ``if TYPE_CHECKING``), as dotted names below ``fervid``."""
    tree = ast.parse(source)
    skipped = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
               for n in ast.walk(node)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped or not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package[: len(package) - (node.level - 1)]
            parts = base + (node.module.split(".") if node.module else [])
        elif node.module and node.module.split(".")[0] == "fervid":
            parts = node.module.split(".")[1:]
        else:
            continue
        if not parts:  # from . import x: x are modules
            found |= {alias.name for alias in node.names}
        else:
            found.add(".".join(parts))
    return found


def stage_of(module: str) -> str:
    top = module.split(".")[0]
    return AT_STAGE.get(top, top)


def test_data_flows_one_way_through_the_stage_folders():
    backwards = []
    for path in PACKAGE.rglob("*.py"):
        own = stage_of(".".join(path.relative_to(PACKAGE).with_suffix("").parts))
        if own not in STAGES:
            continue
        for module in imported_fervid_modules(path.read_text(), list(path.relative_to(PACKAGE).parent.parts)):
            other = stage_of(module)
            if other in SHARED or other == own or other == "__version__":
                continue
            if other not in STAGES or STAGES.index(other) > STAGES.index(own):
                backwards.append(f"{path.relative_to(PACKAGE)} imports fervid.{module}")
    assert not backwards, "a stage reaches down the flow:\n" + "\n".join(backwards)


def test_the_rule_would_catch_a_backward_import():
    """The checker itself: an import from a later stage is found, one under TYPE_CHECKING is not."""
    source = ("from typing import TYPE_CHECKING\nfrom ..training.recipes import TrainConfig\nfrom .windows import CLIP_LEN\n"
              "if TYPE_CHECKING:\n    from ..prediction import Predictor\n")
    assert imported_fervid_modules(source, ["clips"]) == {"training.recipes", "clips.windows"}


def test_shared_modules_import_no_stage():
    for name in SHARED:
        imported = {stage_of(m) for m in imported_fervid_modules((PACKAGE / f"{name}.py").read_text(), [])} - {"__version__"}
        assert imported <= SHARED, f"{name}.py imports {imported - SHARED}: list it in AT_STAGE"
    for name, stage in AT_STAGE.items():
        imported = {stage_of(m) for m in imported_fervid_modules((PACKAGE / f"{name}.py").read_text(), [])} - {"__version__"}
        assert all(STAGES.index(s) <= STAGES.index(stage) for s in imported - SHARED), name


@pytest.mark.parametrize("old,names", [
    ("fervid.video", ["read_video", "VideoError"]),
    ("fervid.preprocess", ["PreprocessSettings", "preprocess_video", "FramePipeline"]),
    ("fervid.cache", ["preprocess", "PreprocessCache"]),
    ("fervid.train", ["TrainConfig", "RECIPES", "train"]),
    ("fervid.crossval", ["crossval"]),
    ("fervid.predict", ["load_predictor", "predict_video", "StreamingPredictor"]),
])
def test_the_import_paths_before_the_folders_still_work(old, names):
    module = importlib.import_module(old)
    for name in names:
        assert getattr(module, name) is not None


# Each rule's one home (docs/method.md, "Where to change what") and a pattern that a
# second copy of it would show.
RULE_HOMES = {
    "RGB to [-1, 1]": (r"/ 127\.5 - 1", "clips/windows.py"),
    "the clip windows' stride rule": (r"% (self\.)?stride == 0", "clips/windows.py"),
    "the stored float16": (r"np\.float16", "clips/windows.py"),
    "the stream table": (r"\"rgb_clip\": 3", "clips/inputs.py"),
    "crop standardisation": (r"\.std\(\) \+ 1e-3", "evaluation/baselines.py"),
    "the linear fit": (r"LogisticRegression\(", "evaluation/baselines.py"),
    "the classification head": (r"\.head\(", "models/fourstream.py"),
    "a ConvLSTM stream's stack run": (r"\.convlstm\(", "models/fourstream.py"),
    "the 'auto' device": (r"cuda\.is_available\(\) else", "precision.py"),
}


def places(pattern: str) -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for line in path.read_text().splitlines():
            code = line.split("#", 1)[0]
            if re.search(pattern, code):
                found.add(path.relative_to(PACKAGE).as_posix())
    return found


@pytest.mark.parametrize("rule", RULE_HOMES)
def test_each_rule_has_one_home(rule):
    pattern, home = RULE_HOMES[rule]
    assert places(pattern) == {home}
