"""The compute precisions rx offers, by name (declared once: encoding, training and evaluation options take their
choices from here; ``encoding.loader.PRECISIONS`` maps each to its torch dtype)."""

PRECISION_NAMES = ("float32", "bfloat16", "float16")
