"""A trained model on a new video, offline (whole file) and streaming (frame by frame).

    loading.py    the model and the preprocessing it was trained with (``load_predictor``)
    results.py    per-clip and per-video predictions ("no face" where there was none)
    offline.py    a whole video: every clip in batches (``predict_video``, ``predict_videos``)
    streaming.py  frame by frame, a prediction as each clip completes (``StreamingPredictor``;
                  several faces: ``FaceStreams``)
    writers.py    JSON, CSV, timeline PNG, annotated video

Offline and streaming give the same predictions (tested), through the same clip rules
(``fervid.clips``), input tensors (``fervid.clips.inputs``) and network methods.
"""

from .loading import Predictor, find_model, load_predictor
from .offline import (
    output_names,
    predict_arrays,
    predict_faces,
    predict_video,
    predict_videos,
)
from .results import (
    MAX_LOST_SHARE,
    NO_FACE,
    ClipPrediction,
    FacePrediction,
    VideoPrediction,
)
from .streaming import (
    FaceStreams,
    StreamingPredictor,
    intra_op_threads,
    stream_faces,
    stream_frames,
    streaming_threads,
)
from .writers import annotate_video, write_outputs

__all__ = [
    "MAX_LOST_SHARE",
    "NO_FACE",
    "ClipPrediction",
    "FacePrediction",
    "FaceStreams",
    "Predictor",
    "StreamingPredictor",
    "VideoPrediction",
    "annotate_video",
    "find_model",
    "intra_op_threads",
    "load_predictor",
    "output_names",
    "predict_arrays",
    "predict_faces",
    "predict_video",
    "predict_videos",
    "stream_faces",
    "stream_frames",
    "streaming_threads",
    "write_outputs",
]
