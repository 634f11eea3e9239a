"""The synthetic expression-video generator: real video files plus a manifest,
deterministic per seed, faces the default detector finds, and a check that one frame
does not give the expression away."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from fervid.datasets import (
    SyntheticRanges,
    enterface_manifest,
    generate_synthetic,
    read_manifest,
)
from fervid.datasets.synthetic import PROTOTYPES, TIME_COURSE, skin_colour
from fervid.frontend.video import read_video
from fervid.labels import EXPRESSIONS

SMALL = SyntheticRanges(width=(160, 176))  # small frames keep the tests fast


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    """9 subjects x 6 expressions x 2 takes, with the static-vs-temporal check."""
    out = tmp_path_factory.mktemp("synth")
    return generate_synthetic(out, subjects=9, takes=2, seed=0, difficulty=0.5, ranges=SMALL, log=None)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
def test_manifest_lists_every_video_with_its_label_and_subject(synth):
    entries = read_manifest(synth)
    assert len(entries) == 9 * 6 * 2
    assert {(e.subject, e.label) for e in entries} == {(f"s{s}", x) for s in range(1, 10) for x in EXPRESSIONS}
    assert all(e.path.suffix == ".avi" and e.path.is_relative_to(synth.parent) for e in entries)
    # The tree follows the eNTERFACE'05 layout, so that reader finds the same videos.
    scan = enterface_manifest(synth.parent)
    found, _ = scan.entries, scan.skipped
    assert sorted((str(e.path), e.label, e.subject) for e in found) == sorted(
        (str(e.path), e.label, e.subject) for e in entries)


@pytest.mark.slow
def test_videos_decode_longer_than_a_clip_starting_neutral(synth):
    entries = read_manifest(synth)
    people = {p["sid"]: p for p in json.loads((synth.parent / "synthetic.json").read_text())["people"]}
    sizes, rates = set(), set()
    for e in entries[::5]:
        info, frames = read_video(e.path)
        n = sum(1 for _ in frames)
        truth = json.loads(e.path.with_suffix(".json").read_text())
        assert n == truth["frames"] == int(e.extra["frames"]) and 40 <= n <= 90
        person = people[e.subject]
        assert (info.width, info.height, round(info.fps)) == (person["width"], person["height"], person["fps"])
        sizes.add(info.width)
        rates.add(round(info.fps))
        onset = truth["timeline"]["onset"]
        assert 0.3 * info.fps - 1 <= onset < n - 16  # neutral frames first, then a clip's worth of expression
        for au, track in truth["per_frame"]["au"].items():
            assert max(track[: max(onset - 2, 0)], default=0) == 0, au  # nothing moves before the onset
        assert max(max(t) for t in truth["per_frame"]["au"].values()) > 0.3
    assert len(sizes) > 1 and len(rates) > 1  # cameras differ between subjects


@pytest.mark.slow
def test_same_seed_gives_identical_files_and_another_seed_does_not(synth, tmp_path):
    # Each video has its own generator keyed by (seed, subject, take, label): a one-subject
    # set reproduces subject 1's first take of the larger set byte for byte.
    again = read_manifest(generate_synthetic(tmp_path / "a", subjects=1, takes=1, seed=0, ranges=SMALL, check=False,
                                             log=None))
    original = {e.path.relative_to(synth.parent): e for e in read_manifest(synth)}
    for e in again:
        twin = original[e.path.relative_to(tmp_path / "a")]
        assert _sha(e.path) == _sha(twin.path)
        assert e.path.with_suffix(".json").read_text() == twin.path.with_suffix(".json").read_text()
    other = read_manifest(generate_synthetic(tmp_path / "b", subjects=1, takes=1, seed=1, ranges=SMALL, check=False,
                                             log=None))
    assert all(_sha(a.path) != _sha(b.path) for a, b in zip(again, other))


def test_look_alike_pairs_share_their_apex_and_differ_in_time_course():
    assert PROTOTYPES["fear"]["shared"] == PROTOTYPES["surprise"]["shared"]
    assert PROTOTYPES["anger"]["shared"] == PROTOTYPES["disgust"]["shared"]
    assert set(PROTOTYPES["fear"]["cue"]) == {"AU4", "AU20"} and set(PROTOTYPES["disgust"]["cue"]) == {"AU9", "AU10"}
    assert TIME_COURSE["fear"] == TIME_COURSE["surprise"][::-1] != TIME_COURSE["surprise"]
    assert TIME_COURSE["disgust"] == TIME_COURSE["anger"][::-1] != TIME_COURSE["anger"]


@pytest.mark.slow
def test_one_frame_gives_less_away_than_the_motion(synth):
    check = json.loads((synth.parent / "check.json").read_text())
    assert check["videos"] == 108 and check["folds"] == 3
    assert check["trivial_frame"] < 0.25  # mean colour and a fixed pixel: about chance (1/6)
    assert check["temporal_video"] >= check["static_frame"] + 0.1
    assert check["temporal_video"] > check["static_video"]


@pytest.mark.slow
@pytest.mark.parametrize("tone", [0.0, 1.0], ids=["lightest", "darkest"])
def test_default_detector_finds_the_faces(tmp_path, tone):
    """BlazeFace, the default detector, on the lightest and the darkest skin at the
    hardest difficulty (most head turn, roll, drift, noise and flicker)."""
    from fervid.frontend.faces import BlazeFace

    ranges = SyntheticRanges(width=(160, 320), skin_tone=(tone, tone))
    manifest = generate_synthetic(tmp_path, subjects=2, takes=1, seed=3, difficulty=1.0, ranges=ranges, check=False,
                                  log=None)
    detector = BlazeFace()
    found = total = 0
    for e in read_manifest(manifest):
        truth = json.loads(e.path.with_suffix(".json").read_text())["per_frame"]
        _, frames = read_video(e.path)
        for i, frame in enumerate(frames):
            total += 1
            detections = detector.detect(frame)
            if not detections:
                continue
            found += 1
            # The detection is this face: its box centre lies near the eyes-mouth centre.
            x0, y0, x1, y1 = truth["box"][i]
            centre = (np.array(truth["right_eye"][i]) + truth["left_eye"][i] + 2 * np.array(truth["mouth"][i])) / 4
            box = detections[0].box
            assert np.linalg.norm((box[:2] + box[2:]) / 2 - centre) < 0.3 * (x1 - x0)
    assert total > 12 * 40 and found / total >= 0.95


def test_skin_tones_span_the_monk_scale():
    light, dark = skin_colour(0.0), skin_colour(1.0)
    assert light.mean() > 220 and dark.mean() < 45
    assert np.all(skin_colour(0.5) <= light) and np.all(skin_colour(0.5) >= dark)


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="difficulty"):
        generate_synthetic(tmp_path, subjects=1, takes=1, difficulty=1.5, check=False, log=None)
    with pytest.raises(ValueError, match="at least one subject"):
        generate_synthetic(tmp_path, subjects=0, check=False, log=None)
