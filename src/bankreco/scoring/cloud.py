"""The Lambda handlers of the batch scoring state machine (infra/batch-scoring.asl.json).

`split` reads the input file's header and size, pins the bank's current model version, cuts
the file into byte ranges (shards) and writes them as a JSON array for the Distributed Map's
ItemReader: every shard to `shards.json`, the ones without output yet to `pending.json`. Each
child of the map calls `score` with a batch of shards (ItemBatcher: `{"Items": [...],
"BatchInput": {"job": ...}}`); it streams its ranges from S3 and writes, per shard, the
recommendations, the rejected rows and last a `done` marker. `finish` totals the markers into
`summary.json` and, when every shard is done, merges the rejects with their lines in the file.

A row belongs to the shard its first byte is in: a shard starts reading one byte early and
drops the partial line, and stops after the row that crosses its end. Byte ranges assume no
line break inside a quoted field (the Kaggle format has none). Under `output_prefix`:

    shards.json, pending.json         the ranges (all, and still to score)
    parts/part-NNNNN.csv              recommendations of shard NNNNN (with a header)
    rejects/part-NNNNN.csv            its rejected rows, lines counted from the shard's start
    done/part-NNNNN.<job>.json        its counts; written last, for this job's settings only
    results/                          the Distributed Map's ResultWriter (failed children)
    summary.json, rejects.csv         written by finish
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import cache
from typing import IO, Any, BinaryIO, Final

from botocore.config import Config

from bankreco.domain.model import LoadedModel
from bankreco.domain.registry import Registry
from bankreco.ids import check_bank
from bankreco.scoring import cells, output
from bankreco.scoring.checks import Checker
from bankreco.scoring.csvblocks import read_blocks, split_header
from bankreco.scoring.holdings import PREVIOUS, SAME
from bankreco.scoring.layout import Layout, layout_of
from bankreco.scoring.models import published_model
from bankreco.scoring.run import Options, score_blocks
from bankreco.settings import Settings
from bankreco.store import open_store
from bankreco.store.s3 import botocore_session

DEFAULT_SHARD_MEGABYTES: Final = 32
HEADER_BYTES: Final = 1 << 16
_READ: Final = 1 << 20


@dataclass(frozen=True)
class Job:
    """One run's settings, the same for every shard (the map's BatchInput)."""

    bucket: str
    key: str
    size: int
    etag: str
    data_start: int  # the byte after the header line
    header_lines: int
    header: list[str]
    output_prefix: str
    bank: str
    version: str
    top_k: int
    form: str
    month: str | None
    holdings: str

    @property
    def tag(self) -> str:
        """A digest of the settings: a shard's done marker counts for this job only."""
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def path(self, name: str) -> str:
        return f"{self.output_prefix}/{name}"


def shard_key(job: Job, kind: str, shard: int) -> str:
    """parts, rejects: CSV; done: the marker of this job."""
    if kind == "done":
        return job.path(f"done/part-{shard:05d}.{job.tag}.json")
    return job.path(f"{kind}/part-{shard:05d}.csv")


@cache
def s3_client() -> Any:
    """The data bucket's client (botocore; AWS_ENDPOINT_URL_S3 is honoured)."""
    config = Config(connect_timeout=5, read_timeout=60, retries={"mode": "standard"})
    return botocore_session().create_client("s3", config=config)


def _owner() -> dict[str, str]:
    owner = os.environ.get("DATA_BUCKET_OWNER", "")
    return {"ExpectedBucketOwner": owner} if owner else {}


def _under(key: str, prefix_variable: str) -> str:
    prefix = os.environ.get(prefix_variable, "").strip("/")
    if prefix and not key.startswith(prefix + "/"):
        raise ValueError(f"{key!r} is not under {prefix_variable}={prefix}/")
    return key


def _put(bucket: str, key: str, body: bytes | IO[bytes]) -> None:
    s3_client().put_object(Bucket=bucket, Key=key, Body=body, **_owner())


def _get(bucket: str, key: str, first: int | None = None, last: int | None = None) -> Any:
    extra = {} if first is None else {"Range": f"bytes={first}-{'' if last is None else last}"}
    return s3_client().get_object(Bucket=bucket, Key=key, **extra, **_owner())["Body"]


# ------------------------------------------------------------------------------- split


def split(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """The execution's input (`key`, `output_prefix`; optional `top_k`, `format`, `month`,
    `holdings`) as a job and its shards."""
    job = _job(event)
    shard_bytes = int(float(os.environ.get("SHARD_MEGABYTES", DEFAULT_SHARD_MEGABYTES)) * 2**20)
    starts = list(range(job.data_start, job.size, shard_bytes))  # none for a header alone
    shards = [
        {"shard": i, "start": start, "end": min(start + shard_bytes, job.size)}
        for i, start in enumerate(starts)
    ]
    done = _done_shards(job)
    pending = [shard for shard in shards if shard["shard"] not in done]
    _put(job.bucket, job.path("shards.json"), json.dumps(shards).encode())
    _put(job.bucket, job.path("pending.json"), json.dumps(pending).encode())
    return {
        "job": asdict(job),
        "manifest": {"bucket": job.bucket, "key": job.path("pending.json")},
        "shards": len(shards),
        "pending": len(pending),
    }


def _job(event: dict[str, Any]) -> Job:
    bucket = os.environ["DATA_BUCKET"]
    key = _under(str(event["key"]), "INPUT_PREFIX")
    prefix = _under(str(event["output_prefix"]).rstrip("/") + "/", "OUTPUT_PREFIX").rstrip("/")
    if key.lower().endswith((".gz", ".bz2", ".xz", ".zip")):
        raise ValueError(f"{key}: the cloud path reads plain CSV in byte ranges, not archives")
    head = s3_client().head_object(Bucket=bucket, Key=key, **_owner())
    size = int(head["ContentLength"])
    first = _get(bucket, key, 0, min(size, HEADER_BYTES) - 1).read()
    names, rest = split_header(io.BytesIO(first))
    layout = layout_of(names)
    data_start = len(first) - len(rest)
    options = _options(event, layout)
    bank = check_bank(os.environ["BANK_ID"])
    return Job(
        bucket=bucket,
        key=key,
        size=size,
        etag=str(head.get("ETag", "")),
        data_start=data_start,
        header_lines=first[:data_start].count(b"\n"),
        header=names,
        output_prefix=prefix,
        bank=bank,
        version=_registry().read_pointer(bank).version,  # one version for every shard
        top_k=options.top_k,
        form=options.form,
        month=options.month,
        holdings=options.holdings,
    )


def _options(event: dict[str, Any], layout: Layout) -> Options:
    top_k = int(event.get("top_k", 7))
    form = str(event.get("format", output.WIDE))
    holdings = str(event.get("holdings", SAME))
    if not 1 <= top_k <= 24 or form not in output.FORMATS or holdings not in (SAME, PREVIOUS):
        raise ValueError(f"top_k 1-24, format in {output.FORMATS}, holdings same: got {event}")
    if holdings == PREVIOUS and layout.has_products:
        raise ValueError(
            "holdings=previous joins two months of the whole file: score it with `bankreco "
            "score`, or here with holdings=same (each row's own products)"
        )
    month = cells.month_of(str(event["month"])) if event.get("month") else None
    return Options(bank="", top_k=top_k, form=form, month=month, holdings=holdings)


def _registry() -> Registry:
    settings = Settings.from_env()
    return Registry(open_store(settings.model_store_uri, settings.s3_options))


def _done_shards(job: Job) -> set[int]:
    """The shards with a done marker of this job."""
    done: set[int] = set()
    pages = s3_client().get_paginator("list_objects_v2")
    for page in pages.paginate(Bucket=job.bucket, Prefix=job.path("done/"), **_owner()):
        for item in page.get("Contents", []):
            name = item["Key"].rsplit("/", 1)[-1]  # part-00042.<tag>.json
            number, tag = name.removeprefix("part-").split(".")[:2]
            if tag == job.tag:
                done.add(int(number))
    return done


# ------------------------------------------------------------------------------- score


@cache
def _model(bank: str, version: str) -> LoadedModel:
    """The pinned version, verified by the registry once per container."""
    return published_model(_registry(), bank, version)


def score(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """A batch of the map: `{"Items": [{"shard", "start", "end"}, ...], "BatchInput":
    {"job": {...}}}`; the counts of each shard scored."""
    job = Job(**event["BatchInput"]["job"])
    return {"shards": [score_shard(job, item) for item in event["Items"]]}


def score_shard(job: Job, item: dict[str, Any]) -> dict[str, Any]:
    """Score the rows that start in [item.start, item.end); write its outputs, then its
    marker."""
    started = time.perf_counter()
    shard, start, end = int(item["shard"]), int(item["start"]), int(item["end"])
    model = _model(job.bank, job.version)
    layout = layout_of(job.header)
    options = Options(job.bank, job.top_k, job.form, job.month, job.holdings)
    checker = Checker(layout, job.month, None, own=job.holdings == SAME)
    body = _get(job.bucket, job.key, start - 1 if start > job.data_start else start)
    with (
        tempfile.TemporaryFile() as part,
        tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as rejects,
    ):
        try:
            pending, begin = _first_row(body, start, job.data_start)
            blocks = read_blocks(
                body, layout.width, list(layout.columns.values()), pending=pending,
                first_line=1, limit=end - begin,
            )  # fmt: skip
            lines = _LineCount(blocks)
            part.write(output.header(job.form, layout.id_name, job.top_k))
            summary = score_blocks(
                lines, checker, model, options, part, output.RejectsWriter(rejects)
            )
        finally:
            body.close()
        _upload(job, shard, part, rejects)
    marker = {
        "shard": shard,
        "rows": summary.rows,
        "scored": summary.scored,
        "rejected": summary.rejected,
        "skipped": summary.skipped,
        "lines": lines.count,
        "model_version": model.version,
        "seconds": round(time.perf_counter() - started, 3),
    }
    _put(job.bucket, shard_key(job, "done", shard), json.dumps(marker).encode())
    return marker


def _first_row(body: BinaryIO, start: int, data_start: int) -> tuple[bytes, int]:
    """The bytes from the first row that starts at or after `start`, and its offset: a read
    that starts one byte early drops everything up to its first line break."""
    if start <= data_start:
        return b"", start
    data, position = b"", start - 1
    while True:
        chunk = body.read(_READ)
        data += chunk
        found = data.find(b"\n")
        if found >= 0:
            return data[found + 1 :], position + found + 1
        if not chunk:
            return b"", position + len(data)


class _LineCount:
    """The blocks of a shard, counting the lines they span (to number the file's lines)."""

    def __init__(self, blocks: Any) -> None:
        self._blocks, self.count = blocks, 0

    def __iter__(self) -> Any:
        for block in self._blocks:
            self.count = block.next_line - 1
            yield block


def _upload(job: Job, shard: int, part: IO[bytes], rejects: IO[str]) -> None:
    part.seek(0)
    _put(job.bucket, shard_key(job, "parts", shard), part)
    rejects.seek(0)
    _put(job.bucket, shard_key(job, "rejects", shard), rejects.read().encode())


# ------------------------------------------------------------------------------- finish


def finish(event: dict[str, Any], context: object = None) -> dict[str, Any]:
    """Total the shards' markers into summary.json; when every shard is done, merge the
    rejects into rejects.csv with their lines in the file."""
    job = Job(**event["job"])
    shards = json.loads(_get(job.bucket, job.path("shards.json")).read())
    markers = {
        number: json.loads(_get(job.bucket, shard_key(job, "done", number)).read())
        for number in sorted(_done_shards(job))
    }
    missing = [s["shard"] for s in shards if s["shard"] not in markers]
    counted = ("rows", "scored", "rejected", "skipped")
    totals = {name: sum(m[name] for m in markers.values()) for name in counted}
    summary = {
        "input": f"s3://{job.bucket}/{job.key}",
        "bank": job.bank,
        "model_version": job.version,
        **totals,
        "shards": len(shards),
        "failed_shards": missing,
        "complete": not missing,
        "parts": [shard_key(job, "parts", s["shard"]) for s in shards],
        "rejects": job.path("rejects.csv") if not missing else None,
    }
    if not missing:
        _merge_rejects(job, [markers[s["shard"]] for s in shards])
    _put(job.bucket, job.path("summary.json"), json.dumps(summary, indent=2).encode())
    return {k: v for k, v in summary.items() if k != "parts"}


def _merge_rejects(job: Job, markers: list[dict[str, Any]]) -> None:
    """rejects.csv: every shard's rejects in file order, each line counted from the file's
    start (the header's lines, then the lines of the shards before)."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as merged:
        writer = csv.writer(merged, lineterminator="\n")
        writer.writerow(output.REJECT_COLUMNS)
        before = job.header_lines
        for marker in markers:
            text = _get(job.bucket, shard_key(job, "rejects", marker["shard"])).read()
            rows = csv.reader(io.StringIO(text.decode("utf-8")))
            next(rows, None)
            writer.writerows([int(row[0]) + before, *row[1:]] for row in rows)
            before += marker["lines"]
        merged.seek(0)
        _put(job.bucket, job.path("rejects.csv"), merged.read().encode())


#: The state machine's Lambda functions by their DefinitionSubstitutions name.
HANDLERS: Final = {
    "SplitFunctionArn": split,
    "ScoreFunctionArn": score,
    "FinishFunctionArn": finish,
}
