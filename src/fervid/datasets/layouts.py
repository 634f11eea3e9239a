"""Manifests from the layouts video facial-expression data sets are distributed in.

Each reader walks a downloaded copy as it comes and returns a ``LayoutScan``: one
``VideoEntry`` per usable video or frame folder, with the layout's own label mapped to
fervid's six expressions and the subject id taken from the layout (so splits stay
subject-independent), and everything left out with its reason. Labels outside the six
(neutral, calm, contempt) are skipped and counted: fervid's model has six outputs, the
paper's six expressions, and no other class can be trained.

RAVDESS, ``Actor_NN/MM-VV-EE-II-SS-RR-AA.mp4`` (Livingstone & Russo 2018; the naming
text of https://zenodo.org/record/1188976): modality 01 audio-video, 02 video-only,
03 audio-only; vocal channel 01 speech, 02 song; emotion 01 neutral, 02 calm, 03 happy,
04 sad, 05 angry, 06 fearful, 07 disgust, 08 surprised; intensity 01 normal, 02 strong;
statement 01/02; repetition 01/02; actor 01-24. Every trial is there twice, audio-video
and video-only, with the same frames: one is kept (the audio-video one), or a split could
hold one copy in training and the other in test. Song has no disgust or surprise.

CREMA-D, ``VideoFlash/AAAA_SSS_EEE_LL.flv`` (Cao et al. 2014; README of
github.com/CheyneyComputerScience/CREMA-D): actor 1001-1091, one of 12 sentences,
emotion ANG DIS FEA HAP NEU SAD, level LO MD HI XX. **No surprise class**: a model
trained on it never sees one. Four files the README names as broken are skipped.

CK+, ``cohn-kanade-images/S005/001/S005_001_00000001.png`` with
``Emotion/S005/001/S005_001_00000011_emotion.txt`` holding one float code (Lucey et al.
2010; the database's ReadMe): 0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear,
5 happy, 6 sadness, 7 surprise. Only 327 of the 593 sequences have an emotion file ("if
there is no file it means that there is no emotion label"): the others are skipped.
Each sequence is a frame folder (neutral to apex), at ``video.FRAME_FOLDER_FPS``.

DFEW, ``Clip/original/[part_N/]<id>.mp4`` or ``Clip/clip_224x224/<id:05d>/`` frame
folders, labels in ``EmoLabel_DataSplit/test(single-labeled)/set_<N>.csv``
(``video_name,label``; Jiang et al. 2020, https://dfew-dataset.github.io/, as read by
github.com/sunlicai/MAE-DFER preprocess/dfew.py): 1 happy, 2 sad, 3 neutral, 4 angry,
5 surprise, 6 disgust, 7 fear. Clips come from films: **there are no subject ids**. The
five test sets partition the labelled clips, so the subject column holds the clip's
official test fold (``fold1`` .. ``fold5``): ``--k 5`` deals one per group and
cross-validation runs the official 5-fold protocol, subject-independent only as far as
the official folds are.

AFEW (EmotiW), ``Train_AFEW/<Class>/000046280.avi`` and ``Val_AFEW/<Class>/...``, classes
Angry Disgust Fear Happy Neutral Sad Surprise (Dhall et al.; layout as in
github.com/Open-Debin/Emotion-FAN data/video/readme.md). Also films, **no subject ids**:
the subject column holds the split (``train``, ``val``); ``--k 2 --folds 1`` trains on
Train and tests on Val, the challenge's protocol. The same clip name can occur in both
splits; the folders also hold .zip and .xml files, skipped.

Any other set, one folder per class: ``ROOT/<class>/<video or frame folder>``, class
names as ``labels.expression_named`` knows them (anger, angry, an, happy, ...); a frame
folder may itself be the class folder, as in Oulu-CASIA's
``OriginalImg/VL/Strong/P001/Anger/000.jpeg``. Subjects come from a regular expression
searched in the item's path below ROOT (``subject_pattern``, its first group: ``/(P\\d+)/``
for Oulu-CASIA); with none, every video is its own subject and the split is by video,
not by person: the report says so.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from ..frontend.video import VIDEO_SUFFIXES, frame_files, is_frame_folder, natural_key
from ..labels import EXPRESSIONS, expression_named
from .manifest import LayoutScan, VideoEntry, summarize  # noqa: F401 - LayoutScan: also offered here


def _files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Files under root with one of the suffixes, in natural order, hidden ones left out."""
    found = [p for p in root.rglob("*") if p.suffix.lower() in suffixes and not p.name.startswith(".") and p.is_file()]
    return sorted(found, key=lambda p: natural_key(p.relative_to(root).as_posix()))


def _need_folder(root: str | os.PathLike) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder")
    return root


def _find_dir(root: Path, names: tuple[str, ...], depth: int = 3) -> Path | None:
    """The first folder (breadth first, natural order) named one of ``names``
    (case-insensitive), up to ``depth`` levels below root; root itself if it is one."""
    wanted = {n.lower() for n in names}
    level = [root]
    for _ in range(depth + 1):
        for folder in level:
            if folder.name.lower() in wanted:
                return folder
        level = sorted((d for f in level for d in f.iterdir() if d.is_dir() and not d.name.startswith(".")),
                       key=lambda p: natural_key(str(p)))
    return None


# --- RAVDESS ------------------------------------------------------------------------------

RAVDESS_EMOTIONS = {"01": "neutral", "02": "calm", "03": "happiness", "04": "sadness", "05": "anger",
                    "06": "fear", "07": "disgust", "08": "surprise"}
_RAVDESS_NAME = re.compile(r"^(0[1-3])-(0[12])-(0[1-8])-(0[12])-(0[12])-(0[12])-(\d\d)$")


def ravdess_manifest(root: str | os.PathLike) -> LayoutScan:
    """RAVDESS video files (``MM-VV-EE-II-SS-RR-AA.mp4``) anywhere under root. Subject
    ``actorNN``; extra columns ``channel`` (speech/song), ``intensity``, ``statement``,
    ``repetition``."""
    root = _need_folder(root)
    scan = LayoutScan("RAVDESS")
    trials: dict[tuple, dict[str, tuple[Path, dict]]] = {}
    for path in _files(root, VIDEO_SUFFIXES + (".wav",)):
        m = _RAVDESS_NAME.match(path.stem)
        if not m:
            scan.skip(path, "name does not follow MM-VV-EE-II-SS-RR-AA")
            continue
        modality, channel, emotion, intensity, statement, repetition, actor = m.groups()
        if modality == "03" or path.suffix.lower() == ".wav":
            scan.skip(path, "audio only (modality 03)")
            continue
        label = RAVDESS_EMOTIONS[emotion]
        if label not in EXPRESSIONS:
            scan.skip(path, f"{label} (emotion {emotion}): not one of the six expressions")
            continue
        extra = {"channel": "speech" if channel == "01" else "song", "intensity": "strong" if intensity == "02" else "normal",
                 "statement": statement, "repetition": repetition}
        key = (actor, channel, emotion, intensity, statement, repetition)
        trials.setdefault(key, {})[modality] = (path, extra | {"label": label})
    for (actor, *_), copies in trials.items():
        path, extra = copies.get("01") or copies["02"]  # audio-video first; the frames are the same
        if "01" in copies and "02" in copies:
            scan.skip(copies["02"][0], "video-only copy of an audio-video trial (same frames; kept once)")
        label = extra.pop("label")
        scan.entries.append(VideoEntry(path, label, f"actor{actor}", extra))
    return scan.sort()


# --- CREMA-D -------------------------------------------------------------------------------

CREMAD_EMOTIONS = {"ANG": "anger", "DIS": "disgust", "FEA": "fear", "HAP": "happiness", "NEU": "neutral", "SAD": "sadness"}
CREMAD_SENTENCES = ("IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI")
CREMAD_BROKEN = {  # named in the CREMA-D README
    "1076_MTI_NEU_XX": "very short, no audio (CREMA-D README)",
    "1076_MTI_SAD_XX": "error picture, very short (CREMA-D README)",
    "1064_TIE_SAD_XX": "file has no duration (CREMA-D README)",
    "1064_IEO_DIS_MD": "one minute holding every emotion, not disgust alone (CREMA-D README)",
}
_CREMAD_NAME = re.compile(r"^(1\d{3})_([A-Z]{3})_([A-Z]{3})_(LO|MD|HI|XX)$")


def cremad_manifest(root: str | os.PathLike) -> LayoutScan:
    """CREMA-D video files (``AAAA_SSS_EEE_LL.flv``, or converted to another video
    format) under root; audio files are not videos and are not listed. Subject: the
    actor id; extra columns ``sentence``, ``level``."""
    root = _need_folder(root)
    scan = LayoutScan("CREMA-D", notes=["CREMA-D has no surprise class: a model trained on it never sees surprise"])
    for path in _files(root, VIDEO_SUFFIXES):
        m = _CREMAD_NAME.match(path.stem)
        if not m or m.group(2) not in CREMAD_SENTENCES or m.group(3) not in CREMAD_EMOTIONS:
            scan.skip(path, "name does not follow AAAA_SSS_EEE_LL (actor, sentence, ANG/DIS/FEA/HAP/NEU/SAD, level)")
            continue
        if path.stem in CREMAD_BROKEN:
            scan.skip(path, f"broken: {CREMAD_BROKEN[path.stem]}")
            continue
        with open(path, "rb") as f:
            if f.read(64).startswith(b"version https://git-lfs"):
                scan.skip(path, "a Git LFS pointer, not the video (clone with git lfs, then git lfs pull)")
                continue
        actor, sentence, emotion, level = m.groups()
        label = CREMAD_EMOTIONS[emotion]
        if label not in EXPRESSIONS:
            scan.skip(path, f"{label} ({emotion}): not one of the six expressions")
            continue
        scan.entries.append(VideoEntry(path, label, actor, {"sentence": sentence, "level": level}))
    return scan.sort()


# --- CK+ -----------------------------------------------------------------------------------

CKPLUS_EMOTIONS = {0: "neutral", 1: "anger", 2: "contempt", 3: "disgust", 4: "fear", 5: "happiness", 6: "sadness", 7: "surprise"}


def ckplus_manifest(root: str | os.PathLike) -> LayoutScan:
    """CK+ sequences: each ``<images>/Snnn/sss/`` frame folder with its label from
    ``Emotion/Snnn/sss/*_emotion.txt``. Subject ``Snnn``; extra column ``sequence``."""
    root = _need_folder(root)
    images = _find_dir(root, ("cohn-kanade-images", "extended-cohn-kanade-images"))
    emotion = _find_dir(root, ("Emotion",))
    if images is None or emotion is None:
        missing = " and ".join(n for n, d in (("cohn-kanade-images/", images), ("Emotion/", emotion)) if d is None)
        raise FileNotFoundError(f"{root}: no {missing} folder (CK+ unpacks to cohn-kanade-images/ and Emotion/)")
    scan = LayoutScan("CK+", notes=[f"frame folders play at 30 frames/s (CK+ was recorded at 30); images: {images}"])
    subjects = sorted((d for d in images.iterdir() if d.is_dir() and re.fullmatch(r"S\d+", d.name)), key=lambda p: natural_key(p.name))
    for subject in subjects:
        for sequence in sorted((d for d in subject.iterdir() if d.is_dir()), key=lambda p: natural_key(p.name)):
            if not frame_files(sequence):
                scan.skip(sequence, "sequence folder without images")
                continue
            labels = sorted((emotion / subject.name / sequence.name).glob("*_emotion.txt"))
            if not labels:
                scan.skip(sequence, "no emotion label (CK+ labels 327 of its 593 sequences)")
                continue
            try:
                code = int(float(labels[-1].read_text().split()[0]))
                label = CKPLUS_EMOTIONS[code]
            except (ValueError, IndexError, KeyError, OSError):
                scan.skip(sequence, f"unreadable emotion file {labels[-1].name} (expected one code 0-7)")
                continue
            if label not in EXPRESSIONS:
                scan.skip(sequence, f"{label} (code {code}): not one of the six expressions")
                continue
            scan.entries.append(VideoEntry(sequence, label, subject.name, {"sequence": sequence.name}))
    return scan.sort()


# --- DFEW ----------------------------------------------------------------------------------

DFEW_EMOTIONS = {1: "happiness", 2: "sadness", 3: "neutral", 4: "anger", 5: "surprise", 6: "disgust", 7: "fear"}
DFEW_CLIPS = ("original", "clip_224x224", "clip_224x224_16f")


def dfew_manifest(root: str | os.PathLike, clips: str | None = None) -> LayoutScan:
    """DFEW's labelled clips with their official test fold as subject (``fold1`` ..
    ``fold5``; see the module docstring). ``clips``: which copy to read, ``original``
    (the films' clips, mp4; fervid finds and aligns the face itself), ``clip_224x224``
    or ``clip_224x224_16f`` (DFEW's face crops as frame folders); default the first
    present in that order. Extra columns ``fold``, ``clip``."""
    root = _need_folder(root)
    splits = _find_dir(root, ("EmoLabel_DataSplit",))
    test_dir = splits and next((d for d in (splits / "test(single-labeled)", splits / "test(single_labeled)", splits / "test") if d.is_dir()), None)
    if test_dir is None:
        raise FileNotFoundError(f"{root}: no EmoLabel_DataSplit/test(single-labeled)/ folder with DFEW's set_1.csv .. set_5.csv")
    if clips is not None and clips not in DFEW_CLIPS:
        raise ValueError(f"clips must be one of {DFEW_CLIPS}, got {clips!r}")
    for name in ([clips] if clips else list(DFEW_CLIPS)):
        folder = _find_dir(root, (name,))
        if folder is not None:
            clips = name
            break
    else:
        raise FileNotFoundError(f"{root}: no Clip/{clips or 'original'}/ folder" + ("" if clips else f" (looked for {', '.join(DFEW_CLIPS)})"))
    if clips == "original":
        found = {int(p.stem): p for p in _files(folder, VIDEO_SUFFIXES) if p.stem.isdigit()}
    else:
        found = {int(d.name): d for d in folder.iterdir() if d.is_dir() and d.name.isdigit() and is_frame_folder(d)}
    scan = LayoutScan("DFEW", notes=["DFEW has no subject ids: the subject column is the official test fold; "
                                     "run cross-validation with --k 5 for the official 5-fold protocol",
                                     f"clips read from {folder}"])
    for fold in range(1, 6):
        table = test_dir / f"set_{fold}.csv"
        if not table.is_file():
            raise FileNotFoundError(f"{table}: missing (DFEW's five test sets are set_1.csv .. set_5.csv)")
        with open(table, newline="", encoding="utf-8-sig") as f:
            for line, row in enumerate(csv.DictReader(f), start=2):
                try:
                    clip, code = int(row["video_name"]), int(float(row["label"]))
                    label = DFEW_EMOTIONS[code]
                except (KeyError, ValueError, TypeError):
                    raise ValueError(f"{table}:{line}: expected columns video_name,label with a clip number and a code 1-7, got {row}") from None
                path = found.get(clip)
                if path is None:
                    scan.skip(folder / str(clip), f"listed in set_N.csv, not found in {clips}/ (DFEW has no face crop for 466 clips)")
                elif label not in EXPRESSIONS:
                    scan.skip(path, f"{label} (code {code}): not one of the six expressions")
                else:
                    scan.entries.append(VideoEntry(path, label, f"fold{fold}", {"fold": str(fold), "clip": str(clip)}))
    return scan.sort()


# --- AFEW ----------------------------------------------------------------------------------

def afew_manifest(root: str | os.PathLike) -> LayoutScan:
    """AFEW's ``Train_AFEW`` and ``Val_AFEW`` class folders; subject: the split
    (``train``, ``val``; see the module docstring). Extra column ``split``."""
    root = _need_folder(root)
    scan = LayoutScan("AFEW", notes=["AFEW has no subject ids: the subject column is the split; "
                                     "--k 2 --folds 1 trains on Train and tests on Val"])
    for split, names in (("train", ("Train_AFEW", "Train")), ("val", ("Val_AFEW", "Val"))):
        folder = _find_dir(root, names, depth=2)
        if folder is None:
            scan.notes.append(f"no {names[0]}/ folder: no {split} videos")
            continue
        for path in sorted(folder.rglob("*"), key=lambda p: natural_key(p.relative_to(folder).as_posix())):
            if not path.is_file() or path.name.startswith("."):
                continue
            if path.suffix.lower() not in VIDEO_SUFFIXES:
                scan.skip(path, f"not a video ({path.suffix or 'no extension'})")
                continue
            label = expression_named(path.parent.name)
            if path.parent == folder or label is None:
                scan.skip(path, f"not in a class folder of the six expressions ({path.parent.name})")
                continue
            scan.entries.append(VideoEntry(path, label, split, {"split": split}))
    if not scan.entries and not scan.skipped:
        raise FileNotFoundError(f"{root}: no Train_AFEW/ or Val_AFEW/ folder with videos")
    return scan.sort()


# --- one folder per class ------------------------------------------------------------------

def class_folders_manifest(root: str | os.PathLike, subject_pattern: str | None = None) -> LayoutScan:
    """``ROOT/<class>/<video file or frame folder>`` (deeper items too: the class is the
    nearest folder, from the item up, that names one; a frame folder may name it itself).
    ``subject_pattern``: a regular expression whose first group, searched in the item's
    path below ROOT, is its subject."""
    root = _need_folder(root)
    pattern = re.compile(subject_pattern) if subject_pattern else None
    if pattern is not None and pattern.groups < 1:
        raise ValueError(f"subject pattern {subject_pattern!r} needs a group, e.g. '^(s\\d+)_'")
    scan = LayoutScan("class folders")
    if pattern is None:
        scan.notes.append("no subject pattern: every video is its own subject, so splits are by video, not subject-independent")
    items = [p for p in root.rglob("*") if not any(part.startswith(".") for part in p.relative_to(root).parts)
             and ((p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES) or (p.is_dir() and is_frame_folder(p)))]
    for path in sorted(items, key=lambda p: natural_key(p.relative_to(root).as_posix())):
        rel = path.relative_to(root)
        folders = rel.parts if path.is_dir() else rel.parts[:-1]
        known = [c for c in map(expression_named, folders) if c is not None]
        if not known:
            name = folders[-1] if folders else "(root)"
            scan.skip(path, f"class folder {name!r} is not one of the six expressions")
            continue
        if pattern is None:
            subject = rel.as_posix()
        else:
            m = pattern.search(rel.as_posix())
            if not m:
                scan.skip(path, f"subject pattern {subject_pattern!r} does not match the path")
                continue
            subject = m.group(1)
        scan.entries.append(VideoEntry(path, known[-1], subject))
    return scan.sort()


LAYOUTS = {
    "ravdess": ravdess_manifest,
    "cremad": cremad_manifest,
    "ckplus": ckplus_manifest,
    "dfew": dfew_manifest,
    "afew": afew_manifest,
    "folders": class_folders_manifest,
}
# What each layout reads, for the command line's help (``fervid dataset <layout>``).
LAYOUT_HELP = {
    "ravdess": "RAVDESS (Actor_NN/MM-VV-EE-II-SS-RR-AA.mp4)",
    "cremad": "CREMA-D (VideoFlash/1001_DFA_ANG_XX.flv)",
    "ckplus": "CK+ (cohn-kanade-images/ and Emotion/)",
    "dfew": "DFEW (Clip/ and EmoLabel_DataSplit/)",
    "afew": "AFEW (Train_AFEW/, Val_AFEW/ class folders)",
    "folders": "one folder per class (videos or frame folders)",
}

