"""From per-frame crops and flow to what the model reads.

    windows.py  the clip rules (16-frame windows overlapping by 8, padding), the stream
                table, stored dtypes, RGB scaling: offline and streaming cut clips alike
    dynamic.py  dynamic images (approximate rank pooling) of a clip
    arrays.py   one video -> its preprocessed arrays (``preprocess_video``; ``PreprocessSettings``)
    cache.py    many videos preprocessed once, in worker processes, kept on disk (``preprocess``)
    inputs.py   arrays -> the model's input tensors (``clip_inputs``, ``frame_inputs``), the
                torch datasets of clips, mirroring

``fervid.clips`` itself still offers the clip rules (``clip_starts``, ``CLIP_LEN``, ...),
as before these modules became a folder.
"""

from .windows import (
                      ALL_STREAMS,
                      CLIP_LEN,
                      CLIP_STREAMS,
                      CLIP_STRIDE,
                      DYNAMIC_STREAMS,
                      STORED_FLOAT,
                      STREAM_ARRAYS,
                      STREAM_CHANNELS,
                      ClipWindow,
                      clip_ending_at,
                      clip_starts,
                      rgb_to_unit,
)

__all__ = ["ALL_STREAMS", "CLIP_LEN", "CLIP_STREAMS", "CLIP_STRIDE", "DYNAMIC_STREAMS", "STORED_FLOAT", "STREAM_ARRAYS",
           "STREAM_CHANNELS", "ClipWindow", "clip_ending_at", "clip_starts", "rgb_to_unit"]
