"""Synthetic Santander-format data: the generator and its fidelity report."""
