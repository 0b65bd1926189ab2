"""``rx experiment``: a grid of base models × intermediate task sets × target tasks, run step by step.

``spec.py`` reads the YAML file, ``plan.py`` turns it into ordered steps that each name their output, and
``runner.py`` runs the steps whose outputs do not exist yet."""
