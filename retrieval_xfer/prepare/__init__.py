"""From raw monolingual text to lines worth mining: normalise, filter, identify the language, de-duplicate."""
