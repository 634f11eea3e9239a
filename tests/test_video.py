"""Reading videos: streamed frames, frame rate and size from the file, clear errors."""

import types

import cv2
import numpy as np
import pytest

from conftest import face_frames, write_video
from fervid.video import VideoError, find_videos, probe, read_video


def test_reads_fps_size_and_frames(tmp_path):
    path = write_video(tmp_path / "v.avi", face_frames(12, 160, 120), fps=15)
    info, frames = read_video(path)
    assert (info.fps, info.width, info.height, info.frame_count) == (15.0, 160, 120, 12)
    assert isinstance(frames, types.GeneratorType)  # streamed, not loaded whole
    frames = list(frames)
    assert len(frames) == 12 and frames[0].shape == (120, 160, 3) and frames[0].dtype == np.uint8


@pytest.mark.parametrize("size, fps", [((98, 134), 12.5), ((48, 36), 30), ((722, 580), 29.97)])  # MJPG needs even sizes
def test_odd_sizes_and_frame_rates(tmp_path, size, fps):
    w, h = size
    path = write_video(tmp_path / "odd.avi", face_frames(5, w, h), fps=fps)
    info = probe(path)
    assert (info.width, info.height) == (w, h) and info.fps == pytest.approx(fps)


def test_grey_scale_video_gives_three_channels(tmp_path):
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in face_frames(4, 160, 120)]
    path = write_video(tmp_path / "grey.avi", grey, color=False)
    _, frames = read_video(path)
    frames = list(frames)
    assert frames[0].shape == (120, 160, 3)
    assert np.array_equal(frames[0][..., 0], frames[0][..., 2])


def test_path_with_spaces_and_non_ascii(tmp_path):
    folder = tmp_path / "données vidéo" / "表情 テスト"
    folder.mkdir(parents=True)
    path = write_video(folder / "sujet ü 1.avi", face_frames(3, 64, 48))
    _, frames = read_video(path)
    assert len(list(frames)) == 3
    assert find_videos([tmp_path]) == [path]


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match=r"nothere\.avi: no such file"):
        read_video(tmp_path / "nothere.avi")


def test_folder_is_not_a_video(tmp_path):
    with pytest.raises(VideoError, match="is a folder"):
        probe(tmp_path)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(VideoError, match=r"empty\.mp4: empty file"):
        read_video(path)


def test_text_file_named_mp4(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("this is not a video\n" * 50)
    with pytest.raises(VideoError, match=r"notes\.mp4: "):
        _, frames = read_video(path)
        list(frames)


def test_truncated_file_gives_the_frames_before_the_damage_or_a_clear_error(tmp_path):
    path = write_video(tmp_path / "whole.avi", face_frames(20, 160, 120))
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    try:
        _, frames = read_video(cut)
        n = len(list(frames))
    except VideoError as err:
        assert "cut.avi" in str(err)
    else:
        assert 0 < n < 20
