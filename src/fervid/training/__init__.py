"""Training: ``recipes`` (``TrainConfig`` and the named recipes ``paper`` and ``fervid``),
``train`` (one model: the loop, checkpoints, resume, DDP, precision) and ``crossval``
(the paper's protocol: leave-one-subject-group-out cross-validation of configurations
(a)-(e), each fold trained and tested, and the report beside the linear floors).

Nothing is re-exported here: ``fervid.training.train`` must stay the module (the loop is
``fervid.training.train.train``).
"""
