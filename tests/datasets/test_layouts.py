"""Layout readers: labels and subjects parsed from each data set's real names, with the
awkward cases each layout has. The fixtures follow the names of the documentation cited
in ``fervid.datasets.layouts``; the videos are copies of one tiny clip (the readers read
names, not frames)."""

from collections import Counter
from pathlib import Path

import pytest
from conftest import face_frames, write_frame_folder, write_video

from fervid.cli import main
from fervid.datasets import read_manifest, subject_groups
from fervid.datasets.layouts import (
    afew_manifest,
    ckplus_manifest,
    class_folders_manifest,
    cremad_manifest,
    dfew_manifest,
    ravdess_manifest,
)


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory):
    return write_video(tmp_path_factory.mktemp("clip") / "c.avi", face_frames(3, 32, 24)).read_bytes()


def put(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def by_name(scan):
    return {Path(e.path).name: e for e in scan.entries}


def reasons(scan):
    return Counter(reason for _, reason in scan.skipped)


def test_ravdess(tmp_path, clip_bytes):
    root = tmp_path / "RAVDESS"
    names = [
        "Video_Speech_Actor_01/Actor_01/01-01-05-01-01-01-01.mp4",  # AV, speech, angry
        "Video_Speech_Actor_01/Actor_01/02-01-05-01-01-01-01.mp4",  # its video-only twin: same frames
        "Video_Speech_Actor_01/Actor_01/02-01-08-02-02-02-01.mp4",  # video-only, surprised, no AV twin: kept
        "Video_Song_Actor_01/Actor_01/01-02-03-02-01-02-01.mp4",    # song, happy, strong
        "Video_Speech_Actor_12/Actor_12/01-01-01-01-01-01-12.mp4",  # neutral
        "Video_Speech_Actor_12/Actor_12/01-01-02-02-01-01-12.mp4",  # calm
        "Video_Speech_Actor_12/Actor_12/01-01-07-01-02-01-12.mp4",  # disgust, actor 12
        "Audio_Speech_Actors_01-24/Actor_12/03-01-07-01-02-01-12.wav",  # audio only
        "Video_Speech_Actor_12/Actor_12/notes.mp4",
    ]
    for name in names:
        put(root, name, clip_bytes)
    scan = ravdess_manifest(root)
    got = by_name(scan)
    assert sorted(got) == ["01-01-05-01-01-01-01.mp4", "01-01-07-01-02-01-12.mp4", "01-02-03-02-01-02-01.mp4", "02-01-08-02-02-02-01.mp4"]
    angry = got["01-01-05-01-01-01-01.mp4"]
    assert (angry.label, angry.subject, angry.extra["channel"]) == ("anger", "actor01", "speech")
    song = got["01-02-03-02-01-02-01.mp4"]
    assert (song.label, song.extra["channel"], song.extra["intensity"], song.extra["repetition"]) == ("happiness", "song", "strong", "02")
    assert (got["02-01-08-02-02-02-01.mp4"].label, got["01-01-07-01-02-01-12.mp4"].subject) == ("surprise", "actor12")
    r = reasons(scan)
    assert r["audio only (modality 03)"] == 1 and r["video-only copy of an audio-video trial (same frames; kept once)"] == 1
    assert r["neutral (emotion 01): not one of the six expressions"] == 1 and r["calm (emotion 02): not one of the six expressions"] == 1
    assert r["name does not follow MM-VV-EE-II-SS-RR-AA"] == 1


def test_cremad(tmp_path, clip_bytes):
    root = tmp_path / "CREMA-D"
    for name in ["1001_DFA_ANG_XX.flv", "1001_IEO_HAP_HI.flv", "1091_WSI_SAD_LO.flv", "1002_IEO_NEU_XX.flv",
                 "1076_MTI_SAD_XX.flv", "1064_IEO_DIS_MD.flv", "1003_XYZ_ANG_XX.flv"]:
        put(root, f"VideoFlash/{name}", clip_bytes)
    put(root, "AudioWAV/1001_DFA_ANG_XX.wav", b"RIFF")
    put(root, "VideoFlash/1004_TIE_FEA_XX.flv", b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 123\n")
    scan = cremad_manifest(root)
    got = by_name(scan)
    assert sorted(got) == ["1001_DFA_ANG_XX.flv", "1001_IEO_HAP_HI.flv", "1091_WSI_SAD_LO.flv"]
    assert (got["1001_IEO_HAP_HI.flv"].label, got["1001_IEO_HAP_HI.flv"].subject, got["1001_IEO_HAP_HI.flv"].extra) == \
        ("happiness", "1001", {"sentence": "IEO", "level": "HI"})
    assert got["1091_WSI_SAD_LO.flv"].label == "sadness"
    assert any("no surprise class" in n for n in scan.notes)
    r = reasons(scan)
    assert r["neutral (NEU): not one of the six expressions"] == 1
    assert sum(n for reason, n in r.items() if reason.startswith("broken:")) == 2
    assert sum(n for reason, n in r.items() if "Git LFS pointer" in reason) == 1
    assert sum(n for reason, n in r.items() if reason.startswith("name does not follow")) == 1  # XYZ is no sentence
    assert "surprise" not in {e.label for e in scan.entries}


def test_ckplus(tmp_path):
    root = tmp_path / "CK+"
    images = root / "cohn-kanade-images"
    frames = face_frames(3, 32, 24)
    for subject, sequence, code in [("S005", "001", "3.0000000e+00"), ("S010", "002", "   7.0000000e+00\n"),
                                    ("S010", "004", None), ("S011", "001", "2.0000000e+00"), ("S052", "003", "5.0000000e+00")]:
        names = [f"{subject}_{sequence}_{i:08d}.png" for i in range(1, 4)]
        write_frame_folder(images / subject / sequence, frames, names=names)
        if code is not None:
            put(root, f"Emotion/{subject}/{sequence}/{subject}_{sequence}_00000003_emotion.txt", code.encode())
    (images / "S005" / "001" / ".DS_Store").write_bytes(b"\0")
    (root / "Emotion" / "S010" / "004").mkdir(parents=True)  # a sequence folder without a label file
    scan = ckplus_manifest(root)
    got = {(e.subject, e.extra["sequence"]): e for e in scan.entries}
    assert sorted(got) == [("S005", "001"), ("S010", "002"), ("S052", "003")]
    assert [got[k].label for k in sorted(got)] == ["disgust", "surprise", "happiness"]
    assert Path(got[("S005", "001")].path) == images / "S005" / "001"  # the frame folder is the video
    r = reasons(scan)
    assert r["no emotion label (CK+ labels 327 of its 593 sequences)"] == 1
    assert r["contempt (code 2): not one of the six expressions"] == 1


def test_ckplus_without_its_folders_says_which_is_missing(tmp_path):
    (tmp_path / "cohn-kanade-images").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no Emotion/ folder"):
        ckplus_manifest(tmp_path)


def test_dfew_official_folds_as_subjects(tmp_path, clip_bytes):
    root = tmp_path / "DFEW"
    splits = root / "EmoLabel_DataSplit" / "test(single-labeled)"
    rows = {1: [(1, 1), (2, 3)], 2: [(3, 4), (4, 5)], 3: [(5, 6)], 4: [(6, 7)], 5: [(7, 2), (9, 4)]}
    for fold, pairs in rows.items():
        put(splits, f"set_{fold}.csv", ("video_name,label\n" + "".join(f"{v},{c}\n" for v, c in pairs)).encode())
    for clip in range(1, 8):
        put(root, f"Clip/original/part_{1 + clip // 4}/{clip}.mp4", clip_bytes)
    for clip in range(1, 9):
        write_frame_folder(root / "Clip" / "clip_224x224" / f"{clip:05d}", face_frames(2, 32, 24), names=[f"{clip:05d}_{i:05d}.jpg" for i in (1, 2)])
    scan = dfew_manifest(root)  # "original" first
    got = {int(e.extra["clip"]): e for e in scan.entries}
    assert sorted(got) == [1, 3, 4, 5, 6, 7]
    assert {k: (e.label, e.subject) for k, e in got.items()} == {
        1: ("happiness", "fold1"), 3: ("anger", "fold2"), 4: ("surprise", "fold2"), 5: ("disgust", "fold3"),
        6: ("fear", "fold4"), 7: ("sadness", "fold5")}
    assert Path(got[7].path).name == "7.mp4"
    r = reasons(scan)
    assert r["neutral (code 3): not one of the six expressions"] == 1
    assert sum(n for reason, n in r.items() if reason.startswith("listed in set_N.csv, not found")) == 1  # clip 9
    crops = dfew_manifest(root, clips="clip_224x224")
    assert Path(by_name(crops)["00007"].path).is_dir() and len(crops.entries) == 6
    assert subject_groups([e.subject for e in scan.entries], 5) == [["fold1"], ["fold2"], ["fold3"], ["fold4"], ["fold5"]]


def test_dfew_split_folder_spelled_with_an_underscore_and_bad_rows(tmp_path, clip_bytes):
    root = tmp_path / "DFEW"
    splits = root / "EmoLabel_DataSplit" / "test(single_labeled)"
    for fold in range(1, 6):
        put(splits, f"set_{fold}.csv", f"video_name,label\n{fold},{fold}\n".encode())
        put(root, f"Clip/original/{fold}.mp4", clip_bytes)
    assert len(dfew_manifest(root).entries) == 4  # code 3, neutral, skipped
    put(splits, "set_3.csv", b"video_name,label\nthree,x\n")
    with pytest.raises(ValueError, match=r"set_3\.csv:2: expected columns video_name,label"):
        dfew_manifest(root)


def test_afew(tmp_path, clip_bytes):
    root = tmp_path / "AFEW"
    for rel in ["Train_AFEW/Angry/000046280.avi", "Train_AFEW/Happy/010404607.avi", "Train_AFEW/Neutral/000000001.avi",
                "Val_AFEW/Angry/000046280.avi", "Val_AFEW/Surprise/002222222.avi", "Train_AFEW/Train_6.xml",
                "Val_AFEW/AlignedFaces_LBPTOP_Points_Val.zip"]:
        put(root, rel, clip_bytes)
    scan = afew_manifest(root)
    got = sorted((Path(e.path).parent.parent.name, e.label, e.subject) for e in scan.entries)
    assert got == [("Train_AFEW", "anger", "train"), ("Train_AFEW", "happiness", "train"),
                   ("Val_AFEW", "anger", "val"), ("Val_AFEW", "surprise", "val")]  # the same name in both splits: two videos
    r = reasons(scan)
    assert r["not a video (.xml)"] == 1 and r["not a video (.zip)"] == 1
    assert r["not in a class folder of the six expressions (Neutral)"] == 1


def test_class_folders_with_and_without_a_subject_pattern(tmp_path, clip_bytes):
    root = tmp_path / "mine"
    put(root, "Happy/p01_take1.mp4", clip_bytes)
    put(root, "happy/p02_take1.mp4", clip_bytes)
    put(root, "Sad/p01_take2.avi", clip_bytes)
    write_frame_folder(root / "surprise" / "p03_seq", face_frames(2, 32, 24))
    put(root, "neutral/p01_take3.mp4", clip_bytes)
    put(root, "Sad/readme.txt", b"hello")
    scan = class_folders_manifest(root, subject_pattern=r"/(p\d+)_")
    got = {Path(e.path).name: (e.label, e.subject) for e in scan.entries}
    assert got == {"p01_take1.mp4": ("happiness", "p01"), "p02_take1.mp4": ("happiness", "p02"),
                   "p01_take2.avi": ("sadness", "p01"), "p03_seq": ("surprise", "p03")}
    assert reasons(scan)["class folder 'neutral' is not one of the six expressions"] == 1
    alone = class_folders_manifest(root)
    assert len({e.subject for e in alone.entries}) == 4 and "not subject-independent" in alone.notes[0]
    with pytest.raises(ValueError, match="needs a group"):
        class_folders_manifest(root, subject_pattern=r"p\d+")


def test_class_folders_read_oulu_casia(tmp_path):
    """Oulu-CASIA: OriginalImg/VL/Strong/P001/Anger/000.jpeg: the frame folder names the
    class, the subject is a folder above it."""
    root = tmp_path / "Oulu-CASIA"
    for subject, label in [("P001", "Anger"), ("P001", "Happiness"), ("P012", "Surprise"), ("P012", "Neutral")]:
        write_frame_folder(root / "OriginalImg" / "VL" / "Strong" / subject / label, face_frames(2, 32, 24),
                           names=["000.jpeg", "001.jpeg"])
    scan = class_folders_manifest(root, subject_pattern=r"/(P\d{3})/")
    assert sorted((e.subject, e.label) for e in scan.entries) == [("P001", "anger"), ("P001", "happiness"), ("P012", "surprise")]
    assert reasons(scan)["class folder 'Neutral' is not one of the six expressions"] == 1


def test_cli_writes_the_manifest_and_summary_reports_the_skipped(tmp_path, clip_bytes, capsys):
    root = tmp_path / "CREMA-D"
    for name in ["1001_DFA_ANG_XX.flv", "1002_IEO_NEU_XX.flv", "1003_TIE_DIS_XX.flv"]:
        put(root, f"VideoFlash/{name}", clip_bytes)
    out = tmp_path / "cremad.csv"
    assert main(["dataset", "cremad", str(root), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 videos kept, 1 skipped" in printed and "skipped 1: neutral (NEU)" in printed and "no surprise class" in printed
    entries = read_manifest(out)
    assert [(e.label, e.subject) for e in entries] == [("anger", "1001"), ("disgust", "1003")]
    assert main(["dataset", "summary", str(root), "--layout", "cremad"]) == 0
    assert "skipped 1: neutral (NEU)" in capsys.readouterr().out
    assert main(["dataset", "summary", str(out)]) == 0
    assert "2 videos, 2 subjects" in capsys.readouterr().out
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["dataset", "ravdess", str(empty), "-o", str(tmp_path / "r.csv")]) == 2
    assert "no usable videos found for layout ravdess" in capsys.readouterr().err
    assert not (tmp_path / "r.csv").exists()


def test_a_manifest_of_frame_folders_reads_back(tmp_path):
    root = tmp_path / "CK+"
    write_frame_folder(root / "cohn-kanade-images" / "S005" / "001", face_frames(2, 32, 24))
    put(root, "Emotion/S005/001/S005_001_00000002_emotion.txt", b"1.0\n")
    assert main(["dataset", "ckplus", str(root), "-o", str(tmp_path / "ck.csv")]) == 0
    (entry,) = read_manifest(tmp_path / "ck.csv")
    assert Path(entry.path).is_dir() and entry.label == "anger"
    assert Path(entry.path).resolve() == (root / "cohn-kanade-images" / "S005" / "001").resolve()
