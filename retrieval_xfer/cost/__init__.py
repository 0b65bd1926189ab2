"""Predicting what a job costs on this machine and on a cluster: measured speeds (cached per machine) and the
formulas that turn corpus sizes into time and memory."""
