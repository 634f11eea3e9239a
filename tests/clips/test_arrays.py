"""One video -> crops, flow, clips, dynamic images."""

import dataclasses

import cv2
import numpy as np
import pytest
from conftest import FIXTURES, face_frames, needs_fixtures, write_video

from fervid.clips.arrays import (
    PreprocessSettings,
    SpilledRows,
    preprocess_video,
    preprocess_video_to_file,
    preprocessed_video,
)
from fervid.frontend.faces import BlazeFace, NoFaceError
from fervid.frontend.pipeline import FramePipeline, frame_results
from fervid.frontend.video import VideoError, read_video


@pytest.fixture(scope="module")
def detector():
    return BlazeFace()


def check_arrays(a, n_frames, size):
    n = max(n_frames, 16)
    assert int(a["n_frames"]) == n_frames
    assert a["rgb"].shape == (n, size, size, 3) and a["rgb"].dtype == np.uint8
    assert a["flow"].shape == (n, size, size, 2) and np.abs(a["flow"]).max() <= 1
    k = len(a["clip_starts"])
    assert a["rgb_dynamic"].shape == (k, size, size, 3) and a["flow_dynamic"].shape == (k, size, size, 2)
    assert np.abs(a["rgb_dynamic"].astype(np.float32)).max() <= 1 and np.abs(a["flow_dynamic"].astype(np.float32)).max() <= 1
    assert np.all(a["flow"][0] == 0)


def test_face_video_end_to_end(face_video, detector):
    a = preprocess_video(face_video(n=40, fps=20), PreprocessSettings(face_size=32), detector)
    check_arrays(a, 40, 32)
    assert a["clip_starts"].tolist() == [0, 8, 16, 24]
    assert a["detected"].all() and not a["lost"].any()
    assert float(a["fps"]) == 20.0
    # The crop is a face: skin-coloured centre (BGR skin (150, 180, 225) -> RGB red highest).
    centre = a["rgb"][:, 10:22, 10:22].reshape(-1, 3).mean(0)
    assert centre[0] > centre[2]
    assert np.abs(a["flow"][1:].astype(np.float32)).mean() > 0.005  # the mouth moves


def test_short_video_is_padded_not_dropped(face_video, detector):
    a = preprocess_video(face_video(n=5), PreprocessSettings(face_size=32), detector)
    check_arrays(a, 5, 32)
    assert a["clip_starts"].tolist() == [0]
    assert np.all(a["rgb"][5:] == a["rgb"][4]) and np.all(a["flow"][5:] == 0)
    assert a["detected"][:5].all() and not a["detected"][5:].any()


def test_one_frame_video(face_video, detector):
    a = preprocess_video(face_video(n=1), PreprocessSettings(face_size=32), detector)
    check_arrays(a, 1, 32)


def test_grey_scale_video(tmp_path, detector):
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in face_frames(20)]
    a = preprocess_video(write_video(tmp_path / "grey.avi", grey, color=False), PreprocessSettings(face_size=32), detector)
    check_arrays(a, 20, 32)
    assert a["detected"].mean() > 0.9


def test_video_with_no_face(tmp_path, detector):
    frames = [np.full((120, 160, 3), 90, np.uint8) for _ in range(10)]
    path = write_video(tmp_path / "empty room.avi", frames)
    with pytest.raises(NoFaceError, match=r"empty room\.avi: no face found in any of 10 frames"):
        preprocess_video(path, PreprocessSettings(), detector)


def test_face_appearing_late_backfills_and_is_flagged(tmp_path, detector):
    frames = [np.full((240, 320, 3), 90, np.uint8)] * 6 + face_frames(20)
    a = preprocess_video(write_video(tmp_path / "late.avi", frames), PreprocessSettings(face_size=32), detector)
    assert not a["detected"][:6].any() and a["lost"][:6].all() and a["detected"][6:].all()
    assert np.all(a["rgb"][0] == a["rgb"][6])


def test_unreadable_file(tmp_path):
    path = tmp_path / "x.mp4"
    path.write_text("hello")
    with pytest.raises(VideoError, match="x.mp4"):
        preprocess_video(path, PreprocessSettings())


def test_frame_pipeline_gives_the_offline_arrays(face_video, detector):
    path = face_video(n=24)
    settings = PreprocessSettings(face_size=32)
    offline = preprocess_video(path, settings, detector)
    pipeline = FramePipeline(settings, detector)
    _, frames = read_video(path)
    streamed = [pipeline.push(f) for f in frames]
    np.testing.assert_array_equal(np.stack([r.rgb for r in streamed]), offline["rgb"][:24])
    np.testing.assert_allclose(np.stack([r.flow for r in streamed]), offline["flow"][:24].astype(np.float32), atol=1e-3)


def assert_same_arrays(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.mark.parametrize("n, late", [(5, 0), (44, 6)])
def test_threads_give_the_same_arrays(tmp_path, detector, n, late):
    # 44 frames: more than the pool's look-ahead, so results are reordered if anything is
    frames = [np.full((240, 320, 3), 90, np.uint8)] * late + face_frames(n - late)
    path = write_video(tmp_path / "v.avi", frames)
    one = preprocess_video(path, PreprocessSettings(face_size=32), detector)
    assert_same_arrays(one, preprocess_video(path, PreprocessSettings(face_size=32), detector, threads=3))
    assert int(one["n_frames"]) == n and not one["detected"][:late].any()


def test_threads_pass_on_a_decoding_error(detector):
    def frames():
        yield from face_frames(20)
        raise VideoError("broken.avi: frame 21 cannot be read")

    pipeline = FramePipeline(PreprocessSettings(face_size=32), detector)
    results = []
    with pytest.raises(VideoError, match="broken.avi"):
        results.extend(frame_results(pipeline, frames(), threads=2))
    assert len(results) <= 20


def test_to_file_writes_the_same_arrays_and_nothing_else(tmp_path, face_video, detector):
    path = face_video(n=30)
    folder = tmp_path / "cache"
    folder.mkdir()
    info = preprocess_video_to_file(path, folder / "v.npz", PreprocessSettings(face_size=32), detector, threads=2)
    with np.load(folder / "v.npz", allow_pickle=False) as data:
        assert_same_arrays(dict(data), preprocess_video(path, PreprocessSettings(face_size=32), detector))
    assert info == {"frames": 30, "clips": 2, "detection_rate": 1.0, "fps": 25.0}
    assert [p.name for p in folder.iterdir()] == ["v.npz"]  # the spilled arrays are gone


def test_to_file_leaves_nothing_when_a_video_fails(tmp_path, detector):
    path = write_video(tmp_path / "empty.avi", [np.full((120, 160, 3), 90, np.uint8)] * 10)
    folder = tmp_path / "cache"
    folder.mkdir()
    with pytest.raises(NoFaceError, match="empty.avi"):
        preprocess_video_to_file(path, folder / "v.npz", PreprocessSettings(face_size=32), detector, threads=2)
    assert list(folder.iterdir()) == []


def test_arrays_read_from_disk_are_the_same_and_leave_nothing(tmp_path, face_video, detector):
    path, settings = face_video(n=30), PreprocessSettings(face_size=32)
    in_memory = preprocess_video(path, settings, detector)
    spill = tmp_path / "spill"
    spill.mkdir()
    with preprocessed_video(path, settings, detector, threads=2, spill_dir=spill) as on_disk:
        spilled = [name for name, a in on_disk.items() if isinstance(a, SpilledRows)]
        assert sorted(spilled) == ["flow", "flow_dynamic", "rgb", "rgb_dynamic"]  # not in memory
        assert len(list(spill.iterdir())) == 1  # their folder
        assert_same_arrays({name: a[:] if name in spilled else a for name, a in on_disk.items()}, in_memory)
        for name in spilled:  # as clips read them: a row, a slice, a slice past the end, from the end
            a, b = on_disk[name], in_memory[name]
            assert a.shape == b.shape and a.dtype == b.dtype, name
            np.testing.assert_array_equal(a[1], b[1])
            np.testing.assert_array_equal(a[-1], b[-1])
            np.testing.assert_array_equal(a[len(b) - 3 : len(b) + 5], b[len(b) - 3 :])
            assert a[0].flags.writeable  # torch.from_numpy takes it without a warning
            with pytest.raises(IndexError):
                a[len(b)]
    assert list(spill.iterdir()) == []


def test_arrays_on_disk_leave_nothing_when_a_video_fails(tmp_path, detector):
    path = write_video(tmp_path / "empty.avi", [np.full((120, 160, 3), 90, np.uint8)] * 10)
    spill = tmp_path / "spill"
    spill.mkdir()
    with pytest.raises(NoFaceError, match="empty.avi"):
        with preprocessed_video(path, PreprocessSettings(face_size=32), detector, spill_dir=spill):
            pass
    assert list(spill.iterdir()) == []


def test_a_full_disk_is_named_with_the_video_and_the_folder(tmp_path, face_video, detector, monkeypatch):
    import errno

    from fervid.clips import arrays as module

    def full(self, row):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(module._Column, "append", full)
    spill = tmp_path / "spill"
    spill.mkdir()
    path = face_video(n=20)
    with pytest.raises(OSError, match=f"{path}: no room .* in {spill} .*TMPDIR"):
        with preprocessed_video(path, PreprocessSettings(face_size=32), detector, spill_dir=spill):
            pass
    assert list(spill.iterdir()) == []


def test_settings_key_changes_with_every_setting():
    base = PreprocessSettings()
    keys = {
        base.key(),
        PreprocessSettings(face_size=112).key(),
        PreprocessSettings(dynamic="mean").key(),
        dataclasses.replace(base, flow=dataclasses.replace(base.flow, bound=0.1)).key(),
        dataclasses.replace(base, align=dataclasses.replace(base.align, smoothing=1.0)).key(),
        PreprocessSettings(frame_folder_fps=25.0).key(),
    }
    assert len(keys) == 6 and base.key() == PreprocessSettings().key()
    # frame_folder_fps unset keeps the key that default settings had before the field existed
    # (a deliberate alarm: a changed default or CACHE_FORMAT changes it too)
    assert base.key() == "198bdd4c99338ad2"
    with pytest.raises(ValueError, match="openface_dir"):
        PreprocessSettings(face_source="openface")


@needs_fixtures()
def test_real_enterface_clips(detector):
    settings = PreprocessSettings(face_size=32)
    for path in sorted(FIXTURES.glob("*.avi")):
        a = preprocess_video(path, settings, detector)
        n = int(a["n_frames"])
        check_arrays(a, n, 32)
        assert a["detected"][:n].mean() >= 0.95, path.name
        assert float(a["fps"]) == 25.0
        centres = (a["boxes"][:n, :2] + a["boxes"][:n, 2:]) / 2
        side = float(np.mean(a["boxes"][:n, 2] - a["boxes"][:n, 0]))
        steps = np.linalg.norm(np.diff(centres, axis=0), axis=1)
        assert steps.max() < 0.03 * side, f"{path.name}: crop centre jumps {steps.max():.1f} px of a {side:.0f} px face"
