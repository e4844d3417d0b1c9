"""Shared fixtures: a clean process state, tiny real models, API events, an S3 endpoint."""

from __future__ import annotations

import json
import os
import pickle
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

BASE_ENV = {
    "POWERTOOLS_SERVICE_NAME": "bankreco",
    "POWERTOOLS_METRICS_NAMESPACE": "Bankreco",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    # pytest-xdist runs a worker per core: one OpenMP thread each avoids oversubscription.
    "OMP_NUM_THREADS": "1",
}
# Powertools reads these when its objects are created, i.e. when the function is imported,
# as in Lambda where the environment exists before the code is loaded.
for _key, _value in BASE_ENV.items():
    os.environ.setdefault(_key, _value)

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from bankreco import features
from bankreco.api.events import LocalContext
from bankreco.catalog import PRODUCT_CODES, PROVINCE_NAMES, SEGMENTS
from bankreco.cli import load_function
from bankreco.domain import service
from bankreco.domain.forest import compile_forest
from bankreco.domain.manifest import COMPACT_FILE, MODEL_FILE, PORTABLE_FILE, Manifest
from bankreco.eligibility import RuleSet

ROOT = Path(__file__).resolve().parents[1]


#: Banks whose local key pairs exist before any test: publishing to a local store creates a
#: bank's pair, publishing to S3 needs one already (or a KMS key).
KEYED_BANKS = ("alpha", "beta", "demo")


@pytest.fixture(scope="session")
def signing_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's local key pairs (SIGNING_KEYS_DIR), outside every model store."""
    from bankreco.signing.local import LocalKeys

    root = tmp_path_factory.mktemp("keys")
    for bank in KEYED_BANKS:
        LocalKeys(root).init(bank)
    return root


@pytest.fixture(autouse=True)
def clean_process(monkeypatch: pytest.MonkeyPatch, signing_keys: Path) -> Iterator[None]:
    """Every test starts as a new Lambda container: env set, no settings, no cache; models
    are signed and verified with the session's local keys."""
    for key in ("MODEL_STORE_URI", "BANK_ID", "ALLOWED_BANKS", "MODEL_TTL_SECONDS", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    for key in ("REQUIRE_SIGNATURE", "SIGNING_KEY_ID", "SERVE_ANY_ESTIMATOR"):
        monkeypatch.delenv(key, raising=False)
    for key, value in BASE_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SIGNING_KEYS_DIR", str(signing_keys))
    service.reset()
    from aws_lambda_powertools.metrics.provider import cold_start

    from bankreco.observability import forget_served, metrics

    metrics.clear_metrics()
    forget_served()  # answers counted by code that ranks without the handler
    cold_start.is_cold_start = True
    environ = dict(os.environ)  # what a test sets, even through the CLI's own defaults, ends
    yield
    os.environ.clear()
    os.environ.update(environ)
    service.reset()


def random_profiles(n: int, rng: np.random.Generator) -> dict[str, Any]:
    """`n` plausible profiles as the columns `features.encode` reads."""
    return {
        "sexo": rng.choice(["H", "V"], n),
        "age": rng.integers(18, 90, n).astype(float),
        "segmento": rng.choice(list(SEGMENTS), n),
        "antiguedad": rng.integers(0, 256, n).astype(float),
        "tiprel_1mes": rng.choice(["A", "I"], n),
        "renta": np.where(rng.random(n) < 0.2, np.nan, rng.lognormal(11.5, 0.6, n)),
        "pais_residencia": rng.choice(["ES", "ES", "ES", "FR"], n),
        "ind_actividad_cliente": rng.integers(0, 2, n).astype(float),
        "nomprov": rng.choice(list(PROVINCE_NAMES), n),
    }


Artifacts = tuple[Manifest, dict[str, bytes]]


def make_model(
    seed: int = 0,
    n: int = 3000,
    compact: bool = True,
    portable: bool = False,
    rules: RuleSet | None = None,
) -> Artifacts:
    """A small real model and its files, as `train` writes them: an HGB on encoded random
    profiles (labels driven by age), with its compact form unless `compact` is False, its
    skops form if `portable`, and eligibility `rules` in its manifest if given."""
    rng = np.random.default_rng(seed)
    profile = random_profiles(n, rng)
    owned = (rng.random((n, len(PRODUCT_CODES))) < 0.1).astype(float)
    X = features.encode(profile, owned)
    pool = np.array(
        ["ind_recibo_ult1", "ind_nom_pens_ult1", "ind_nomina_ult1", "ind_tjcr_fin_ult1",
         "ind_cco_fin_ult1", "ind_cno_fin_ult1", "ind_ecue_fin_ult1", "ind_dela_fin_ult1",
         "ind_reca_fin_ult1"]
    )  # fmt: skip
    young = profile["age"] < 30
    y = np.where(young & (rng.random(n) < 0.7), "ind_ecue_fin_ult1", rng.choice(pool, n))
    model = HistGradientBoostingClassifier(max_iter=15 + seed, max_depth=4, random_state=seed)
    model.fit(X, y)
    files = {MODEL_FILE: pickle.dumps(model)}
    if compact:
        files[COMPACT_FILE] = compile_forest(model).to_bytes()
    if portable:
        import skops.io

        files[PORTABLE_FILE] = skops.io.dumps(model)
    training = {"months": ["2016-04-28"], "seed": seed}
    manifest = Manifest.describe(model, files, training, {"map_at_7": 0.03}, rules=rules)
    return manifest, files


@pytest.fixture(scope="session")
def model_artifacts() -> list[Artifacts]:
    """Two different small models (two versions of one bank, or two banks)."""
    return [make_model(0), make_model(1)]


@pytest.fixture(scope="session")
def pickle_only_artifacts() -> Artifacts:
    """A model published as a pickle alone: the function refuses it."""
    return make_model(2, compact=False)


@pytest.fixture(scope="session")
def portable_artifacts() -> Artifacts:
    """A model without a compact form but with its skops form: served only where a stage
    sets SERVE_ANY_ESTIMATOR, and only signed."""
    return make_model(3, compact=False, portable=True)


def api_event(
    method: str,
    path: str,
    body: Any = None,
    query: dict[str, str] | None = None,
    raw_body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway REST proxy event, shaped like the files in events/."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "x-api-key": "test-key"},
        "multiValueHeaders": {"Content-Type": ["application/json"], "x-api-key": ["test-key"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/demo{path}",
            "stage": "demo",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "127.0.0.1", "apiKey": "test-key"},
            "accountId": "123456789012",
            "apiId": "1234567890",
        },
        "body": raw_body if raw_body is not None else (None if body is None else json.dumps(body)),
        "isBase64Encoded": False,
    }


EXAMPLE_BODIES: list[dict[str, Any]] = [
    {
        "sexo": "H",
        "age": 22,
        "segmento": "03 - UNIVERSITARIO",
        "antiguedad": 34,
        "tiprel_1mes": "I",
        "renta": 106885.8,
        "pais_residencia": "ES",
        "ind_actividad_cliente": "0",
        "nomprav": "BALEARs, ILLES",
    },
    {
        "sexo": "V",
        "age": 56,
        "segmento": "01 - TOP",
        "antiguedad": 256,
        "tiprel_1mes": "A",
        "renta": 326124.9,
        "pais_residencia": "ES",
        "ind_actividad_cliente": "0",
        "nomprav": "MADRID",
    },
    {
        "sexo": "H",
        "age": 36,
        "segmento": "02 - PARTICULARES",
        "antiguedad": 34,
        "tiprel_1mes": "I",
        "renta": -99,
        "pais_residencia": "ES",
        "ind_actividad_cliente": "0",
        "nomprav": "ALICANTE",
    },
]


def example_body(number: int) -> dict[str, Any]:
    """The body of one of the original service's three examples (1-based)."""
    return dict(EXAMPLE_BODIES[number - 1])


Handler = Callable[[dict[str, Any]], tuple[int, Any]]


@pytest.fixture
def invoke_raw() -> Handler:
    """Call the real lambda_handler; return (status, body text). The function is imported
    at the first call, as Lambda does once the environment is set."""
    handlers: list[Callable[[dict[str, Any], Any], dict[str, Any]]] = []

    def call(event: dict[str, Any]) -> tuple[int, Any]:
        if not handlers:
            handlers.append(load_function(ROOT / "functions" / "predict" / "app.py").lambda_handler)
        response = handlers[0](event, LocalContext())
        return response["statusCode"], response["body"]

    return call


@pytest.fixture
def invoke(invoke_raw: Handler) -> Handler:
    """Call the real lambda_handler; return (status, parsed body)."""

    def call(event: dict[str, Any]) -> tuple[int, Any]:
        status, body = invoke_raw(event)
        try:
            return status, json.loads(body)
        except (TypeError, ValueError):
            return status, body  # the Swagger UI page

    return call


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real HTTP S3 endpoint on loopback (moto in server mode)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_store_uri(
    s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    """A fresh bucket on the endpoint, reached through boto3's AWS_ENDPOINT_URL_S3."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    bucket = f"models-{abs(hash(request.node.nodeid)) % 10**10}"
    boto3.client("s3").create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    return f"s3://{bucket}/models"


@pytest.fixture
def kms_key(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ARN of a new signing key (ECC_NIST_P256, SIGN_VERIFY) in KMS on the same moto
    endpoint, reached through boto3's AWS_ENDPOINT_URL_KMS."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", s3_endpoint)
    key = boto3.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
    return str(key["KeyMetadata"]["Arn"])


@pytest.fixture
def silent_port() -> Iterator[str]:
    """An endpoint that accepts connections and never answers: a slow S3."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.fixture
def closed_port() -> str:
    """An endpoint where nothing listens: S3 down."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"http://127.0.0.1:{port}"
