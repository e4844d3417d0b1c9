"""Santander-format data: the reader, and the generator with its fidelity report."""
