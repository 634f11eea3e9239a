"""The six expressions (Ekman; paper, section 1), in the order of the model's outputs."""

EXPRESSIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")
