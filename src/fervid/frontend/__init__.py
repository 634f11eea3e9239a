"""The front end, per frame: a video or frame folder read (``video``), the face found,
tracked and cropped (``faces``: BlazeFace, the tracker, OpenFace 2.0's output read),
Farneback optical flow between consecutive crops (``flow``), all of it one frame at a
time (``pipeline.FramePipeline``), offline and streaming alike."""
