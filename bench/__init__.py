"""The performance benchmark of issue "Performance": `python -m bench` (or `make bench`).

It measures the production model (trained by bankreco's own pipeline, served from a moto S3
endpoint on loopback) against the naive way of the original Flask service, and prints a
Markdown table: ours, naive, the ratio, the goal, whether it is met, and the command that
reproduces each row.
"""
