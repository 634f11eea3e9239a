"""The six expressions (Ekman; paper, section 1), in the order of the model's outputs,
and the names data sets give them."""

import re

EXPRESSIONS = ("anger", "disgust", "fear", "happiness", "sadness", "surprise")

# Names a folder, a file-name token or a label file may give an expression, lower-cased,
# spaces, hyphens and underscores removed (eNTERFACE'05's codes an di fe ha sa su too).
EXPRESSION_NAMES = {
    **{label: label for label in EXPRESSIONS},
    "an": "anger", "di": "disgust", "fe": "fear", "ha": "happiness", "sa": "sadness", "su": "surprise",
    "angry": "anger", "disgusted": "disgust", "fearful": "fear", "afraid": "fear",
    "happy": "happiness", "joy": "happiness", "sad": "sadness", "surprised": "surprise",
}


def expression_named(name: str) -> str | None:
    """The expression a name stands for ("Angry", "happy", "su" ...), or None."""
    return EXPRESSION_NAMES.get(re.sub(r"[\s_-]+", "", name).lower())
