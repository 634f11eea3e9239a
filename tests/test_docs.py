"""The README and the docs/ pages against the code: every ``fervid`` command they show
parses with the real CLI, the README's set-up block is the one CI runs, and every
relative link resolves. So the docs cannot drift from the CLI unnoticed."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import FIXTURES, needs_fixtures

from fervid.cli import build_parser
from fervid.labels import EXPRESSIONS

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]
# Hand-written pages whose links are checked; run reports copied into docs/ are archives.
LINKED_PAGES = [README, *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs").glob("*/README.md"))]

SHELL_LANGUAGES = {"", "bash", "sh", "shell", "console"}
WRAPPERS = {"time", "/usr/bin/time", "nice", "env"}  # may stand before ``fervid`` on a command line
OPERATORS = {"&&", "||", "|", ";", "&"}  # split a line into commands
REDIRECTIONS = {">", ">>", "<", ">&", "&>", "<<", "2>"}


@dataclass(frozen=True)
class Command:
    page: str  # relative to the repository root
    line: int  # 1-based line of the command's first line
    text: str
    argv: tuple[str, ...]  # what follows ``fervid`` (or ``-m fervid.cli``)

    def __str__(self) -> str:
        return f"{self.page}:{self.line}: {self.text}"


# ---------------------------------------------------------------- extraction


def shell_lines(markdown: str) -> list[tuple[int, str]]:
    """(line number, text) of every line of a shell code block: fenced (```bash, ```sh,
    ``` without a language) or indented by four spaces after a blank line."""
    out, fence, indented, previous_blank = [], None, False, True
    for number, line in enumerate(markdown.splitlines(), 1):
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith("```"):
                fence = None
            elif fence in SHELL_LANGUAGES:
                out.append((number, line))
        elif stripped.startswith("```"):
            fence, indented = stripped[3:].strip().lower(), False
        elif line.startswith("    ") and stripped and (indented or previous_blank):
            indented = True
            out.append((number, line))
        elif stripped:
            indented = False
        previous_blank = not stripped
    return out


def joined(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Lines ending in a backslash joined with the next, numbered by their first line."""
    out, start, parts = [], None, []
    for number, line in lines:
        if start is None:
            start = number
        if line.rstrip().endswith("\\"):
            parts.append(line.rstrip()[:-1])
            continue
        parts.append(line)
        out.append((start, " ".join(p.strip() for p in parts)))
        start, parts = None, []
    if parts:
        out.append((start, " ".join(p.strip() for p in parts)))
    return out


def tokens(text: str) -> list[str]:
    """Shell words and operators; ``# comments`` dropped, ``<placeholders>`` kept as words."""
    text = re.sub(r"<([A-Za-z][\w .'/-]*)>", lambda m: m.group(1).replace(" ", "_").upper(), text)
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote in prose: words as they stand
        return text.split()


def fervid_argv(words: list[str]) -> list[str] | None:
    """The arguments after ``fervid``, ``time fervid``, ``python -m fervid.cli`` or
    ``torchrun ... -m fervid.cli``; None if the words are not a fervid command."""
    if not words:
        return None
    if words[0] == "fervid":
        return words[1:]
    for i, word in enumerate(words[:-1]):
        if word == "-m" and words[i + 1] in ("fervid", "fervid.cli"):
            return words[i + 2 :]
    if words[0] in WRAPPERS and "fervid" in words:
        return words[words.index("fervid") + 1 :]
    return None


def split_commands(text: str) -> list[list[str]]:
    """One shell line -> the word lists of its commands: split at ``&&``, ``;`` and pipes,
    redirections and their targets removed."""
    commands, current, target = [], [], False
    for word in tokens(text):
        if target:  # the file (or stream) a redirection names
            target = False
        elif word in OPERATORS:
            commands.append(current)
            current = []
        elif word in REDIRECTIONS:
            if current and len(current[-1]) == 1 and current[-1].isdigit():
                current.pop()  # 2>file: the digit is the stream, not an argument
            target = True
        else:
            current.append(word)
    commands.append(current)
    return [c for c in commands if c]


def commands_in(markdown: str, page: str = "<string>") -> list[Command]:
    """Every fervid command of the page's shell code blocks."""
    found = []
    for number, line in joined(shell_lines(markdown)):
        for words in split_commands(line):
            argv = fervid_argv(words)
            if argv is not None:
                found.append(Command(page, number, line.strip(), tuple(argv)))
    return found


def prose(markdown: str) -> str:
    """The page with its code blocks blanked (line numbers kept)."""
    code = {number for number, _ in shell_lines(markdown)}
    lines, fence = [], False
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.strip().startswith("```"):
            fence = not fence
            lines.append("")
        else:
            lines.append("" if fence or number in code else line)
    return "\n".join(lines)


def inline_commands(markdown: str, page: str = "<string>") -> list[Command]:
    """``fervid ...`` in inline code spans of prose (a span may run over a line break;
    often abbreviated with ``...``): checked for subcommand and flag names only."""
    text, found = prose(markdown), []
    for match in re.finditer(r"`((?:[^`\n]|\n(?!\s*\n))+)`", text):
        span = " ".join(match.group(1).split())
        for words in split_commands(span):
            argv = fervid_argv(words)
            if argv:
                found.append(Command(page, text.count("\n", 0, match.start()) + 1, span, tuple(argv)))
    return found


def page_name(path: Path) -> str:
    return str(path.relative_to(ROOT))


ALL_COMMANDS = [c for p in PAGES for c in commands_in(p.read_text(encoding="utf-8"), page_name(p))]
ALL_INLINE = [c for p in PAGES for c in inline_commands(p.read_text(encoding="utf-8"), page_name(p))]


# ---------------------------------------------------------------- the CLI


def parse(argv) -> argparse.Namespace:
    """``build_parser().parse_args``; a bad command fails the test with argparse's message."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return build_parser().parse_args(list(argv))
    except SystemExit as exit_:
        pytest.fail(f"does not parse (exit {exit_.code}): {err.getvalue().strip()}", pytrace=False)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices
    return {}


def unknown_names(argv) -> list[str]:
    """Subcommands and flags in ``argv`` that the CLI does not have (values are not checked)."""
    parser, words = build_parser(), list(argv)
    while subcommands(parser):
        if not words or words[0].startswith("-"):
            return []  # `fervid`, `fervid dataset`: a name, not a command
        if words[0] not in subcommands(parser):
            return [f"{parser.prog}: subcommand {words[0]!r}"]
        parser = subcommands(parser)[words.pop(0)]
    return [
        f"{parser.prog}: flag {word!r}"
        for word in words
        if word.startswith("-") and word not in ("-", "--") and not re.fullmatch(r"-[\d.]+", word)
        and word.split("=", 1)[0] not in parser._option_string_actions
    ]


# ---------------------------------------------------------------- the tests


def test_the_extraction_reads_shell_lines_as_a_shell_would():
    page = "\n".join([
        "fervid recognises faces (prose, not a command)",
        "```bash",
        "# main job",
        "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && fervid demo",
        "fervid predict <your video> --model runs/demo/e/fold0 -o out/   # JSON, CSV",
        "fervid crossval data/m.csv -o runs/x \\",
        "    --configs a,e --k 3 2> log.txt | tee out.txt",
        "torchrun --nproc_per_node 2 -m fervid.cli crossval m.csv -o runs/ddp; echo done",
        "python benchmarks/bench_speed.py --compile",
        "```",
        "```python",
        "from fervid import load_predictor",
        "```",
        "",
        "    /usr/bin/time -v fervid demo --out runs/demo",
        "Inline: `fervid stream`'s path and `fervid crossval ... --compile`.",
    ])
    found = commands_in(page)
    assert [c.argv for c in found] == [
        ("demo",),
        ("predict", "YOUR_VIDEO", "--model", "runs/demo/e/fold0", "-o", "out/"),
        ("crossval", "data/m.csv", "-o", "runs/x", "--configs", "a,e", "--k", "3"),
        ("crossval", "m.csv", "-o", "runs/ddp"),
        ("demo", "--out", "runs/demo"),
    ]
    assert [c.line for c in found] == [4, 5, 6, 8, 15]
    for command in found:
        parse(command.argv)
    assert [c.argv for c in inline_commands(page)] == [("stream",), ("crossval", "...", "--compile")]
    assert [unknown_names(c.argv) for c in inline_commands(page)] == [[], []]


def test_a_command_with_a_flag_the_cli_lacks_fails():
    page = "```bash\nfervid predict clip.avi --model runs/demo/e/fold0 --no-such-flag\nfervid demoo\n```\n"
    bad, typo = commands_in(page)
    for command in (bad, typo):
        with pytest.raises(pytest.fail.Exception, match="does not parse"):
            parse(command.argv)
    assert unknown_names(bad.argv) == ["fervid predict: flag '--no-such-flag'"]
    assert unknown_names(("crossval", "...", "--epoch", "3")) == ["fervid crossval: flag '--epoch'"]
    assert unknown_names(("dataset", "ravdes", "-o", "x")) == ["fervid dataset: subcommand 'ravdes'"]
    assert unknown_names(("demoo",)) == ["fervid: subcommand 'demoo'"]


def test_the_docs_show_enough_commands_to_check():
    assert len(ALL_COMMANDS) >= 15, [str(c) for c in ALL_COMMANDS]
    assert {c.argv[0] for c in ALL_COMMANDS} >= {"demo", "dataset", "preprocess", "crossval", "train", "predict", "stream", "info"}


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=lambda c: f"{c.page}:{c.line}")
def test_every_command_in_the_docs_parses(command):
    parse(command.argv)
    assert unknown_names(command.argv) == [], f"{command} (argparse takes abbreviations; the docs spell flags out)"


@pytest.mark.parametrize("command", ALL_INLINE, ids=lambda c: f"{c.page}:{c.line}:{' '.join(c.argv[:2])}")
def test_every_inline_command_names_real_subcommands_and_flags(command):
    assert unknown_names(command.argv) == [], str(command)


def test_the_readme_shows_the_new_users_path_predict_with_the_model_the_main_job_trains():
    from fervid import demo

    readme = commands_in(README.read_text(encoding="utf-8"), "README.md")
    demo_out = parse(["demo"]).out
    predicts = [c for c in readme if c.argv[0] == "predict" and parse(c.argv).model.startswith(demo_out + "/")]
    assert predicts, "README: no `fervid predict ... --model runs/demo/<config>/fold<g>` after the main job"
    for command in predicts:
        model = Path(parse(command.argv).model).relative_to(demo_out)
        config, fold = model.parts[0], model.parts[1]
        assert config in demo.DEMO_CONFIGS and fold in {f"fold{g}" for g in demo.DEMO_FOLDS}, str(command)
    assert any(c.argv[0] == "stream" for c in readme)


def test_the_readme_opens_with_the_two_set_up_commands_ci_runs():
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first_block and text[: first_block.start()].strip() == "# fervid", "README must open with the set-up block"
    lines = [line for line in first_block.group(1).splitlines() if line.strip()]
    commands = [line for line in lines if not line.lstrip().startswith("#")]
    assert len(commands) == 2, lines
    assert lines[0].startswith("# main job") and lines[2] == "# tests"
    main_job, tests = (line.split(" && ") for line in commands)
    assert main_job[-1] == "fervid demo" and tests[-1] == "pytest -q"
    # CI: the same venv, the same install (pip's -q aside), then the same test command.
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.lstrip().startswith("#") and not line.startswith(("set ", "cd "))]
    ci_words = [[w for w in shlex.split(line) if w != "-q" or not line.startswith("pip ")] for line in ci]
    assert [shlex.split(part) for part in tests] == ci_words
    assert ci[-1] == "pytest -q"
    # The main job's line is the tests' line with the package's own extras and command.
    assert main_job[:-1] == [part.replace("'.[test]'", ".") for part in tests[:-1]]


def outside_fences(markdown: str) -> list[tuple[int, str]]:
    out, fence = [], False
    for number, line in enumerate(markdown.splitlines(), 1):
        if line.strip().startswith("```"):
            fence = not fence
        elif not fence:
            out.append((number, line))
    return out


def relative_links(markdown: str) -> list[tuple[int, str, str]]:
    """(line, path, anchor) of every ``[text](target)`` that is not a URL; path "" for a
    link into the same page."""
    out = []
    for number, line in outside_fences(markdown):
        for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", line):
            if not re.match(r"[a-z][a-z0-9+.-]*:", target):
                path, _, anchor = target.partition("#")
                out.append((number, path, anchor))
    return out


def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of the page's headings: lower case, punctuation dropped, spaces to hyphens."""
    return {
        re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
        for _, line in outside_fences(markdown)
        if (m := re.match(r"#{1,6} (.+)", line))
    }


LINKS = [(page_name(p), *link) for p in LINKED_PAGES for link in relative_links(p.read_text(encoding="utf-8"))]


def test_the_pages_have_links():
    assert len(LINKS) >= 20 and sum(1 for *_, anchor in LINKS if anchor) >= 3


@pytest.mark.parametrize("page,line,path,anchor", LINKS, ids=[f"{p}:{n}" for p, n, *_ in LINKS])
def test_every_relative_link_resolves(page, line, path, anchor):
    target = (ROOT / page).parent / path if path else ROOT / page
    assert target.exists(), f"{page}:{line}: {path} does not exist"
    if anchor and target.suffix == ".md":
        assert anchor in anchors(target.read_text(encoding="utf-8")), f"{page}:{line}: no heading #{anchor} in {path or page}"


def test_anchors_are_githubs():
    page = "# fervid\n```bash\n# not a heading\n```\n## (a) and (e) at 16 epochs\n## Issue 16: why it did not\n"
    assert anchors(page) == {"fervid", "a-and-e-at-16-epochs", "issue-16-why-it-did-not"}
    assert relative_links("[x](docs/a.md#b) [y](#c) [z](https://e.org)") == [(1, "docs/a.md", "b"), (1, "", "c")]


@pytest.mark.slow
@needs_fixtures()
def test_the_new_users_path_runs(tmp_path, monkeypatch, capsys):
    """The README's path as a new user follows it: command 1 (``fervid demo``, shrunk here
    to CI time: 3 subjects, 1 take, 1 + 1 epochs), then ``fervid predict`` on a real
    eNTERFACE'05 clip with the model it trained, at the path the README gives."""
    import json

    from fervid import demo
    from fervid.cli import main

    for name, value in {"DEMO_SUBJECTS": 3, "DEMO_TAKES": 1, "DEMO_STAGE_EPOCHS": 1, "DEMO_EPOCHS": 1, "DEMO_CLIPS_PER_VIDEO": 1}.items():
        monkeypatch.setattr(demo, name, value)
    monkeypatch.chdir(tmp_path)  # the README's relative paths: runs/demo, data/synth-demo, out/
    assert main(["demo", "--workers", "1"]) == 0
    assert (tmp_path / "runs/demo/report.md").is_file()
    readme = commands_in(README.read_text(encoding="utf-8"), "README.md")
    model = next(parse(c.argv).model for c in readme if c.argv[0] == "predict" and parse(c.argv).model.startswith("runs/demo/"))
    clip = FIXTURES / "s1_ha_1.avi"
    assert main(["predict", str(clip), "--model", model, "-o", "out/"]) == 0
    assert f"-> {Path('out') / 's1_ha_1.json'}" in capsys.readouterr().out
    result = json.loads((tmp_path / "out/s1_ha_1.json").read_text())
    assert result["label"] in EXPRESSIONS and result["frames"] == 63
    assert [c["start_frame"] for c in result["clips"]] == [0, 8, 16, 24, 32, 40]  # 16-frame clips, stride 8
    assert (tmp_path / "out/s1_ha_1_timeline.png").stat().st_size > 0
