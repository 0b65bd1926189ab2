"""``rx experiment``: a grid of base models × intermediate task sets × target tasks, run step by step.

``spec.py`` reads the YAML file, ``plan.py`` turns it into ordered steps that each name their output, and
``runner.py`` runs the steps whose outputs do not exist yet.
"""

from retrieval_xfer.experiment.plan import Step, plan_steps
from retrieval_xfer.experiment.runner import run_experiment
from retrieval_xfer.experiment.spec import ExperimentSpec, load_spec

__all__ = ["ExperimentSpec", "Step", "load_spec", "plan_steps", "run_experiment"]
