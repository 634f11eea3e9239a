"""From per-frame crops and flow to what the model reads.

    windows.py  the clip rules (16-frame windows overlapping by 8, padding), stored dtypes,
                RGB scaling: offline and streaming cut clips alike (numpy only)
    dynamic.py  dynamic images (approximate rank pooling) of a clip
    arrays.py   one video -> its preprocessed arrays (``preprocess_video``; ``PreprocessSettings``)
    cache.py    many videos preprocessed once, in worker processes, kept on disk (``preprocess``)
    inputs.py   the stream table (the model's four inputs, what each reads); arrays -> the
                model's input tensors (``clip_inputs``, ``frame_inputs``), the torch datasets
                of clips, mirroring

``fervid.clips`` itself still offers the clip rules (``clip_starts``, ``CLIP_LEN``, ...),
as before these modules became a folder (without importing torch: preprocessing workers
import it).
"""

from .windows import (
    CLIP_LEN,
    CLIP_STRIDE,
    STORED_FLOAT,
    ClipWindow,
    clip_ending_at,
    clip_starts,
    rgb_to_unit,
)

__all__ = ["CLIP_LEN", "CLIP_STRIDE", "STORED_FLOAT", "ClipWindow", "clip_ending_at", "clip_starts", "rgb_to_unit"]
