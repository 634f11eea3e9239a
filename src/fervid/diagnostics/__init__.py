"""Measurements behind the scripts in ``benchmarks/``: each script parses its flags, calls
these and prints. The last stage of the flow: it may import every stage, none imports it.

- ``machine``: the header naming the machine, timing, the convolution and matrix peaks,
  figures written as JSON;
- ``settings``: one model setting changed from the command line ("FIELD=VALUE");
- ``stacks``: ConvLSTM stacks against the peer (PyPI ``conv-lstm``), timed and profiled;
- ``gradients``: gradient norms through time and into a stack's parameters;
- ``training``: the four-stream training step, clips/s and peak memory;
- ``streaming``: streaming prediction, frames/s, where its time goes, from a cold start;
- ``faces``: several faces in view: tiled fixture frames, track identity;
- ``preprocessing``: preprocessing per stage, end to end, one long video, frame folders;
- ``streams``: what reaches and leaves the ConvLSTM streams (issue 16);
- ``probes``: linear probes and floors on a preprocessed set, fold by fold;
- ``runs``: finished run folders side by side, and issue 27's evidence run.
"""
