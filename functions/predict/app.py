"""The Lambda function: the init phase, then `lambda_handler` from bankreco.api.handler."""

import gc

# No collections in the init phase (the collector is restored at its end): what it builds,
# modules and the model, lives on for the container's life, so collecting it is wasted work.
# (A failed import leaves it off; the Lambda runtime discards that process.)
_COLLECTING = gc.isenabled()
gc.disable()

from snapshot_restore_py import register_after_restore  # the Lambda runtime provides it

from bankreco.api.handler import app, lambda_handler
from bankreco.api.lifecycle import initialize, renew_after_restore

__all__ = ["app", "lambda_handler"]

try:
    initialize()  # the init phase, once the routes are built: before any request or snapshot
finally:
    if _COLLECTING:
        gc.enable()
register_after_restore(renew_after_restore)
