"""The preprocessed-data cache: atomic, keyed by settings, resumable, parallel."""

import json
import os

import cv2
import numpy as np
import pytest
from conftest import decoded_frames, write_frame_folder

import fervid.clips.cache as cache_module
from fervid.cli import main
from fervid.clips.arrays import PreprocessSettings, preprocess_video
from fervid.clips.cache import PreprocessCache, preprocess

SETTINGS = PreprocessSettings(face_size=32)


@pytest.fixture
def videos(face_video, tmp_path):
    paths = [face_video(f"v{i}.avi", n=18 + 3 * i, seed=i) for i in range(3)]
    bad = tmp_path / "broken.mp4"
    bad.write_text("not a video")
    return paths, bad


def same_arrays(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_rerun_skips_what_is_done_and_failures_do_not_stop_the_rest(videos, tmp_path):
    paths, bad = videos
    report = preprocess([*paths, bad], tmp_path / "cache", SETTINGS, progress=False)
    assert sorted(report.done) == sorted(map(str, paths))
    assert list(report.failed) == [str(bad)] and "broken.mp4" in report.failed[str(bad)]
    again = preprocess([*paths, bad], tmp_path / "cache", SETTINGS, progress=False)
    assert again.done == [] and sorted(again.cached) == sorted(map(str, paths))
    cache = PreprocessCache(tmp_path / "cache", SETTINGS)
    assert cache.load(paths[1])["rgb"].shape == (21, 32, 32, 3)
    failures = json.loads((cache.folder / "failures.json").read_text())
    assert [f["video"] for f in failures.values()] == [str(bad.resolve())]
    with pytest.raises(KeyError, match="failed"):
        cache.load(bad)
    assert not list(cache.folder.glob("*.tmp*"))


def test_changed_settings_never_reuse_stale_data(videos, tmp_path):
    paths, _ = videos
    preprocess(paths[:1], tmp_path / "cache", SETTINGS, progress=False)
    other = PreprocessSettings(face_size=48)
    report = preprocess(paths[:1], tmp_path / "cache", other, progress=False)
    assert report.done == [str(paths[0])]
    assert PreprocessCache(tmp_path / "cache", other).load(paths[0])["rgb"].shape[1] == 48


def test_edited_video_is_redone(videos, tmp_path, face_video):
    paths, _ = videos
    preprocess(paths[:1], tmp_path / "cache", SETTINGS, progress=False)
    face_video("v0.avi", n=30, seed=9)  # overwrite with a longer video
    report = preprocess(paths[:1], tmp_path / "cache", SETTINGS, progress=False)
    assert report.done == [str(paths[0])]
    assert int(PreprocessCache(tmp_path / "cache", SETTINGS).load(paths[0])["n_frames"]) == 30


def test_interrupted_run_resumes_to_the_same_output(videos, tmp_path, monkeypatch):
    paths, _ = videos
    reference = preprocess(paths, tmp_path / "whole", SETTINGS, progress=False)
    assert reference.ok

    real = cache_module._process_one
    calls = []

    def dies_on_second_video(video, settings, target, threads):
        calls.append(video)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the user presses Ctrl-C mid-run
        return real(video, settings, target, threads)

    monkeypatch.setattr(cache_module, "_process_one", dies_on_second_video)
    with pytest.raises(KeyboardInterrupt):
        preprocess(paths, tmp_path / "resumed", SETTINGS, progress=False)
    monkeypatch.setattr(cache_module, "_process_one", real)
    resumed = preprocess(paths, tmp_path / "resumed", SETTINGS, progress=False)
    assert resumed.cached == [str(paths[0])] and len(resumed.done) == 2
    whole, again = PreprocessCache(tmp_path / "whole", SETTINGS), PreprocessCache(tmp_path / "resumed", SETTINGS)
    for path in paths:
        same_arrays(whole.load(path), again.load(path))


def test_two_workers_give_the_same_output(videos, tmp_path):
    paths, bad = videos
    one = preprocess(paths, tmp_path / "one", SETTINGS, workers=1, progress=False)
    two = preprocess([*paths, bad], tmp_path / "two", SETTINGS, workers=2, progress=False)
    assert sorted(two.done) == sorted(one.done) and list(two.failed) == [str(bad)]
    a, b = PreprocessCache(tmp_path / "one", SETTINGS), PreprocessCache(tmp_path / "two", SETTINGS)
    for path in paths:
        same_arrays(a.load(path), b.load(path))


def test_cli_exit_status(videos, tmp_path, capsys):
    paths, bad = videos
    assert main(["preprocess", str(paths[0]), "--cache", str(tmp_path / "c"), "--no-progress"]) == 0
    assert "1 preprocessed" in capsys.readouterr().out
    assert main(["preprocess", str(paths[0]), str(bad), "--cache", str(tmp_path / "c"), "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "1 already cached" in out and "FAILED" in out and "broken.mp4" in out
    assert main(["preprocess", str(tmp_path / "nothing-here"), "--cache", str(tmp_path / "c"), "--no-progress"]) == 1
    assert "nothing-here: no such file" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert main(["preprocess", str(tmp_path / "empty"), "--cache", str(tmp_path / "c"), "--no-progress"]) == 2
    assert "no videos found" in capsys.readouterr().err


def test_frame_folders_are_cached_and_bad_ones_fail_alone(videos, tmp_path):
    """Frame folders go through the cache like video files: a broken one (an unreadable
    image, mixed sizes, no images) is recorded with the folder and image named, the rest
    are done; editing one frame redoes that folder."""
    paths, _ = videos
    good = write_frame_folder(tmp_path / "seq" / "good", decoded_frames(paths[0]))
    unreadable = write_frame_folder(tmp_path / "seq" / "unreadable", decoded_frames(paths[1]))
    (unreadable / "5.png").write_bytes(b"\x89PNG truncated")
    mixed = write_frame_folder(tmp_path / "seq" / "mixed", decoded_frames(paths[2])[:4])
    cv2.imwrite(str(mixed / "5.png"), np.zeros((10, 12, 3), np.uint8))
    empty = tmp_path / "seq" / "empty"
    empty.mkdir()
    report = preprocess([good, unreadable, mixed, empty, paths[1]], tmp_path / "cache", SETTINGS, progress=False)
    assert sorted(report.done) == sorted([str(good), str(paths[1])])
    assert "unreadable: frame 5.png is not a readable image" in report.failed[str(unreadable)]
    assert "mixed: frame 5.png is 12x10" in report.failed[str(mixed)]
    assert "empty: is a folder with no image files" in report.failed[str(empty)]
    cache = PreprocessCache(tmp_path / "cache", SETTINGS)
    same_arrays(cache.load(good), {**preprocess_video(paths[0], SETTINGS), "fps": np.array(30.0)})  # the folder plays at 30 frames/s
    again = preprocess([good], tmp_path / "cache", SETTINGS, progress=False)
    assert again.cached == [str(good)]
    cv2.imwrite(str(good / "3.png"), np.zeros_like(decoded_frames(paths[0])[0]))  # one frame edited
    assert preprocess([good], tmp_path / "cache", SETTINGS, progress=False).done == [str(good)]


def test_spilled_arrays_of_a_killed_run_are_removed(tmp_path):
    folder = PreprocessCache(tmp_path, SETTINGS).folder
    dead, alive = folder / ".spill-4194305-abc", folder / f".spill-{os.getpid()}-def"  # above Linux's pid_max: no such process
    for spill in (dead, alive):
        spill.mkdir()
        (spill / "rgb").write_bytes(b"x" * 10)
    PreprocessCache(tmp_path, SETTINGS)
    assert not dead.exists() and alive.exists()
