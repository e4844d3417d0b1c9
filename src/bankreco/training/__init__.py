"""Training pipeline: examples from monthly snapshots, models, evaluation, publishing."""
