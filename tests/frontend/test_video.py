"""Reading videos: streamed frames, frame rate and size from the file, clear errors."""

import types

import cv2
import numpy as np
import pytest
from conftest import decoded_frames, face_frames, write_frame_folder, write_video

from fervid.frontend.video import (
    FRAME_FOLDER_FPS,
    VideoError,
    find_videos,
    probe,
    read_video,
)


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


def test_truncated_file_gives_the_frames_before_the_damage_and_one_line_saying_so(tmp_path, capfd):
    path = write_video(tmp_path / "whole.avi", face_frames(20, 160, 120))
    _, frames = read_video(path)
    assert len(list(frames)) == 20
    assert capfd.readouterr().err == ""  # a whole file: nothing said, by fervid or by FFmpeg
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    _, frames = read_video(cut)
    n = len(list(frames))
    assert 0 < n < 20
    # FFmpeg's own notices are silenced (capfd sees the C library's stderr too): one line, fervid's
    assert capfd.readouterr().err == f"{cut}: truncated: read {n} of the 20 frames its header states\n"


def test_file_without_its_index_is_a_clear_error_and_ffmpeg_stays_quiet(tmp_path, capfd):
    """An MP4 cut before its moov box: FFmpeg would print "moov atom not found"."""
    path = tmp_path / "whole.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (64, 48))
    for frame in face_frames(10, 64, 48):
        writer.write(frame)
    writer.release()
    data = path.read_bytes()
    if data.find(b"moov") < len(data) // 2:
        pytest.skip("this OpenCV writes the moov box first")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoError, match=r"cut\.mp4: not a readable video"):
        read_video(cut)
    assert capfd.readouterr().err == ""


# --- frame folders: a folder of images is a video ---------------------------------------------

def _numbered(n: int, width: int = 64, height: int = 48) -> list[np.ndarray]:
    """Frames whose first pixel holds their index, to check the order they come out in."""
    frames = face_frames(n, width, height)
    for i, f in enumerate(frames):
        f[0, 0] = (i * 10, i * 10, i * 10)
    return frames


def test_frame_folder_reads_in_natural_order_at_the_default_rate(tmp_path):
    folder = write_frame_folder(tmp_path / "seq", _numbered(12))  # 1.png ... 12.png: "10" after "9", not after "1"
    (tmp_path / "seq" / ".DS_Store").write_bytes(b"\0junk")  # stray files are not frames
    (tmp_path / "seq" / "labels.txt").write_text("3.0\n")
    info, frames = read_video(folder)
    assert isinstance(frames, types.GeneratorType)
    frames = list(frames)
    assert (info.fps, info.width, info.height, info.frame_count) == (FRAME_FOLDER_FPS, 64, 48, 12)
    assert [int(f[0, 0, 0]) for f in frames] == [i * 10 for i in range(12)]
    assert probe(folder, fps=25).fps == 25.0 and read_video(folder, 12.5)[0].fps == 12.5


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tiff"])
def test_frame_folder_formats_grey_and_colour(tmp_path, suffix):
    colour = face_frames(3, 64, 48)
    write_frame_folder(tmp_path / "c", colour, suffix)
    write_frame_folder(tmp_path / "g", [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in colour], suffix)
    got = list(read_video(tmp_path / "c")[1])
    grey = list(read_video(tmp_path / "g")[1])
    assert got[0].shape == grey[0].shape == (48, 64, 3) and len(got) == len(grey) == 3
    assert np.array_equal(grey[0][..., 0], grey[0][..., 2])
    tolerance = 0 if suffix != ".jpg" else 40  # JPEG is lossy
    assert np.abs(got[1].astype(int) - colour[1]).max() <= tolerance


def test_frame_folder_and_the_same_frames_as_a_video_read_alike(tmp_path):
    video = write_video(tmp_path / "v.avi", face_frames(10, 96, 72))
    folder = write_frame_folder(tmp_path / "v_frames", decoded_frames(video))
    a, b = list(read_video(video)[1]), list(read_video(folder)[1])
    assert len(a) == len(b) == 10 and all(np.array_equal(x, y) for x, y in zip(a, b))


def test_frame_folder_bad_inputs_name_the_folder_and_the_image(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no frames here")
    with pytest.raises(VideoError, match=r"empty: is a folder with no image files"):
        read_video(empty)
    broken = write_frame_folder(tmp_path / "broken", face_frames(4, 64, 48))
    (broken / "3.png").write_bytes(b"not a png at all")
    info, frames = read_video(broken)
    with pytest.raises(VideoError, match=r"broken: frame 3\.png is not a readable image"):
        list(frames)
    mixed = write_frame_folder(tmp_path / "mixed", face_frames(3, 64, 48) + face_frames(1, 80, 48))
    with pytest.raises(VideoError, match=r"mixed: frame 4\.png is 80x48, the first frame \(1\.png\) 64x48"):
        list(read_video(mixed)[1])
    first_broken = tmp_path / "first"
    first_broken.mkdir()
    (first_broken / "0001.jpg").write_bytes(b"")
    with pytest.raises(VideoError, match=r"first: frame 0001\.jpg is not a readable image"):
        probe(first_broken)


def test_find_videos_finds_frame_folders_and_files_in_natural_order(tmp_path):
    for s in ("S10", "S2"):
        write_frame_folder(tmp_path / "ck" / s / "001", face_frames(2, 32, 24))
    clip = write_video(tmp_path / "ck" / "S2" / "x.avi", face_frames(2, 32, 24))
    found = find_videos([tmp_path / "ck"])
    assert found == [tmp_path / "ck" / "S2" / "001", clip, tmp_path / "ck" / "S10" / "001"]
    assert find_videos([tmp_path / "ck" / "S2" / "001"]) == [tmp_path / "ck" / "S2" / "001"]  # a frame folder named is one video
