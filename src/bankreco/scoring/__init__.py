"""Scoring a whole customer base: a CSV of profiles in, a CSV of recommendations out.

The file is read in blocks of whole records (`csvblocks`), each block's fields checked by the
API's rules without a pydantic object per row (`checks`), encoded with the one encoding
(`bankreco.features`), scored by the bank's model from the registry and ranked as the API
ranks (`rank`), and written as CSV text built with numpy (`output`). `run` drives one input
stream to one output stream; `cloud` holds the Lambda handlers of the Step Functions
Distributed Map (infra/batch-scoring.yaml), and `statemachine` runs the same definition
locally. numpy, pydantic and botocore only: the scorer runs in Lambda with the API's layer.
"""
