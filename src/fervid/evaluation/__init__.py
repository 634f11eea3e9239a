"""How well a model does, and against what.

    inference.py  batched class probabilities over a set of clips (training, crossval, prediction)
    metrics.py    clip and video accuracy, UAR, confusion, bootstrap, McNemar
    baselines.py  the linear floors (static and temporal logistic regression on the same crops)
    report.py     the report's tables and figures (confusion matrices, curves, timelines)
"""
