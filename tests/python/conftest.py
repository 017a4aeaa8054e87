"""Fixtures for the Python interop tests.

The session-scoped ``emulator_url`` fixture starts the Redshift Data API
emulator (``redshift-flight-sql emulator --listen 127.0.0.1:0``) once for the
whole run, reads the one ``emulator listening on http://…`` line it prints when
it is ready, and stops it with SIGTERM at the end. The binary is
``$RSFS_BIN`` or ``target/debug/redshift-flight-sql`` under the repository root.

While the emulator runs, the AWS environment points every SDK at it (dummy
credentials, us-east-1, ``AWS_ENDPOINT_URL_REDSHIFT_DATA``), so that libraries
that build their own boto3 clients (awswrangler) reach it too.

The session-scoped ``local_stack`` fixture starts the whole local stack
(``redshift-flight-sql local --listen 127.0.0.1:0``: a throwaway PostgreSQL
with the TICKIT sample, a Data API emulator and the Flight SQL gateway) the
same way: it waits for both ready lines (``emulator listening on http://…``,
then ``flight sql listening on grpc://…``) and stops the process with SIGTERM
at the end. ``flight_uri`` and ``local_emulator_url`` are its two addresses.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Iterator

import boto3
import pytest
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "redshift-flight-sql"

# Starting the emulator includes initdb and start of a throwaway PostgreSQL.
STARTUP_TIMEOUT_S = float(os.environ.get("RSFS_EMULATOR_STARTUP_TIMEOUT", "120"))
SHUTDOWN_TIMEOUT_S = 30.0

READY_LINE = re.compile(rb"^emulator listening on (http://\S+)\s*$")
FLIGHT_READY_LINE = re.compile(rb"^flight sql listening on (grpc://\S+)\s*$")

# The local stack also loads the TICKIT sample before it is ready.
LOCAL_STARTUP_TIMEOUT_S = float(os.environ.get("RSFS_LOCAL_STARTUP_TIMEOUT", "180"))

# Identity used by the tests: a provisioned cluster with a database user.
CLUSTER_ID = "emulator-cluster"
DB_USER = "awsuser"
DATABASE = "dev"
REGION = "us-east-1"


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-limit:].decode("utf-8", "replace")


def _read_ready_lines(
    proc: subprocess.Popen[bytes], patterns: list[re.Pattern[bytes]], timeout: float, what: str
) -> list[str]:
    """Reads stdout until each pattern matched a line, in order (EOF or the
    deadline first is an error); returns each pattern's first group."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    found: list[str] = []
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                match = patterns[len(found)].match(line)
                if match:
                    found.append(match.group(1).decode())
                    if len(found) == len(patterns):
                        return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"{what} printed {len(found)} of {len(patterns)} ready lines within {timeout:g} s"
                )
            if not selector.select(remaining):
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                try:
                    code = proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    code = None
                raise RuntimeError(f"{what} closed stdout before it was ready (exit code {code})")
            buffer += chunk


def _read_ready_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """Reads stdout until the emulator's ready line, EOF or the deadline; returns the URL."""
    return _read_ready_lines(proc, [READY_LINE], timeout, "the emulator")[0]


def _drain(stream) -> None:
    """Keeps reading a pipe so the emulator never blocks writing to it."""
    try:
        while stream.read(65536):
            pass
    except (OSError, ValueError):
        pass


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def emulator_bin() -> Path:
    path = Path(os.environ.get("RSFS_BIN") or DEFAULT_BIN)
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not os.access(path, os.X_OK):
        pytest.fail(f"emulator binary {path} is missing or not executable (build it, or set RSFS_BIN)")
    return path


@pytest.fixture(scope="session")
def emulator_url(emulator_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Starts the emulator for the test session and yields its base URL."""
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(emulator_bin), "emulator", "--listen", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=REPO_ROOT,
        )
    try:
        try:
            url = _read_ready_line(proc, STARTUP_TIMEOUT_S)
        except Exception as e:
            _stop(proc)
            pytest.fail(f"could not start the emulator: {e}\n--- emulator log ---\n{_tail(log_path)}")
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
        yield url
    finally:
        _stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="session")
def aws_env(emulator_url: str) -> Iterator[str]:
    """Points the AWS SDKs of this process at the emulator, with dummy credentials."""
    empty = Path(tempfile.gettempdir()) / "rsfs-no-aws-config"
    values = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL_REDSHIFT_DATA": emulator_url,
        # Ignore whatever profiles and config files the machine has.
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    removed = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
    mp = pytest.MonkeyPatch()
    for name in removed:
        mp.delenv(name, raising=False)
    for name, value in values.items():
        mp.setenv(name, value)
    try:
        yield emulator_url
    finally:
        mp.undo()


@pytest.fixture(scope="session")
def boto3_session(aws_env: str) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name=REGION,
    )


@pytest.fixture(scope="session")
def client(boto3_session: boto3.Session, emulator_url: str):
    """A boto3 'redshift-data' client talking to the emulator."""
    return boto3_session.client(
        "redshift-data",
        endpoint_url=emulator_url,
        region_name=REGION,
        config=Config(
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=5,
            # Long polls (WaitTimeSeconds) last up to 30 s.
            read_timeout=90,
        ),
    )


@pytest.fixture(scope="session")
def identity() -> dict[str, str]:
    """The identity members of a request: a cluster and a database user."""
    return {"ClusterIdentifier": CLUSTER_ID, "DbUser": DB_USER, "Database": DATABASE}


def _child_env() -> dict[str, str]:
    """This process's environment without AWS settings (the aws_env fixture
    may have pointed them at the other emulator), and plain-text logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["NO_COLOR"] = "1"
    return env


# The process id of the running local stack (set by ``local_stack``).
LOCAL_STACK_PID: dict[str, int] = {}


@pytest.fixture(scope="session")
def local_stack_pid(local_stack: tuple[str, str]) -> int:
    """The process id of ``redshift-flight-sql local`` (the gateway and the
    emulator; PostgreSQL runs in processes of its own)."""
    return LOCAL_STACK_PID["pid"]


@pytest.fixture(scope="session")
def local_stack(emulator_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Starts ``redshift-flight-sql local`` (PostgreSQL with TICKIT, the Data
    API emulator and the Flight SQL gateway) for the session; yields
    ``(emulator_url, flight_uri)``."""
    log_path = tmp_path_factory.mktemp("local") / "local.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(emulator_bin), "local", "--listen", "127.0.0.1:0", "--emulator-listen", "127.0.0.1:0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=REPO_ROOT,
            env=_child_env(),
        )
    try:
        try:
            emulator, flight = _read_ready_lines(
                proc, [READY_LINE, FLIGHT_READY_LINE], LOCAL_STARTUP_TIMEOUT_S, "the local stack"
            )
        except Exception as e:
            _stop(proc)
            pytest.fail(f"could not start the local stack: {e}\n--- local stack log ---\n{_tail(log_path)}")
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
        LOCAL_STACK_PID["pid"] = proc.pid
        yield emulator, flight
        code = proc.poll()
        if code is not None:
            pytest.fail(
                f"the local stack exited during the tests (exit code {code})\n"
                f"--- local stack log ---\n{_tail(log_path)}"
            )
    finally:
        _stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="session")
def flight_uri(local_stack: tuple[str, str]) -> str:
    """``grpc://host:port`` of the local stack's Flight SQL gateway."""
    return local_stack[1]


@pytest.fixture(scope="session")
def local_emulator_url(local_stack: tuple[str, str]) -> str:
    """``http://host:port`` of the Data API emulator behind ``flight_uri``
    (``GET {url}/stats`` counts its calls per operation)."""
    return local_stack[0]


TLS_CA_LINE = re.compile(rb"^tls ca certificate: (\S+)\s*$")
FLIGHT_TLS_READY_LINE = re.compile(rb"^flight sql listening on (grpc\+tls://\S+)\s*$")


def _local_tls_stack(
    emulator_bin: Path, tmp_path_factory: pytest.TempPathFactory, name: str, extra: list[str]
) -> Iterator[tuple[str, bytes]]:
    """Runs ``local --tls`` with ``extra`` flags; yields ``(grpc+tls://host:port, CA PEM)``."""
    log_path = tmp_path_factory.mktemp(name) / "local.log"
    args = [str(emulator_bin), "local", "--tls", "--listen", "127.0.0.1:0", "--emulator-listen", "127.0.0.1:0"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args + extra, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                cwd=REPO_ROOT, env=_child_env())
    try:
        try:
            _, ca_path, flight = _read_ready_lines(
                proc, [READY_LINE, TLS_CA_LINE, FLIGHT_TLS_READY_LINE], LOCAL_STARTUP_TIMEOUT_S, f"the {name} stack")
        except Exception as e:
            _stop(proc)
            pytest.fail(f"could not start the {name} stack: {e}\n--- log ---\n{_tail(log_path)}")
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
        yield flight, Path(ca_path).read_bytes()
    finally:
        _stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="session")
def tls_stack(emulator_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, bytes]]:
    """Starts ``redshift-flight-sql local --tls`` (a throwaway CA and server
    certificate) for the session; yields ``(grpc+tls://host:port, CA PEM)``."""
    yield from _local_tls_stack(emulator_bin, tmp_path_factory, "local-tls", [])


class IdentityProvider:
    """A minimal OAuth 2.0 / OIDC provider on 127.0.0.1:0: ``/jwks`` (one
    ES256 key made here) and ``/token`` (client_credentials with a fixed
    client id and secret, answering a JWT). Counts the tokens it issued."""

    CLIENT_ID = "rsfs-tests"
    CLIENT_SECRET = "s3cret-client"
    AUDIENCE = "rsfs"

    def __init__(self) -> None:
        import base64
        import http.server
        import json
        import urllib.parse

        import jwt
        from cryptography.hazmat.primitives.asymmetric import ec

        self._key = ec.generate_private_key(ec.SECP256R1())
        numbers = self._key.public_key().public_numbers()
        b64 = lambda n: base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()  # noqa: E731
        self.jwks = {"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig",
                               "kid": "idp-1", "x": b64(numbers.x), "y": b64(numbers.y)}]}
        self.issued = 0
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/jwks":
                    self._answer(200, provider.jwks)
                else:
                    self._answer(404, {"error": "not_found"})

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                client_id = form.get("client_id", [""])[0]
                secret = form.get("client_secret", [""])[0]
                auth = self.headers.get("authorization", "")
                if auth.lower().startswith("basic "):
                    decoded = base64.b64decode(auth[6:]).decode()
                    client_id, _, secret = decoded.partition(":")
                    client_id, secret = urllib.parse.unquote(client_id), urllib.parse.unquote(secret)
                if form.get("grant_type") != ["client_credentials"] or (
                    client_id, secret) != (provider.CLIENT_ID, provider.CLIENT_SECRET):
                    self._answer(401, {"error": "invalid_client"})
                    return
                provider.issued += 1
                self._answer(200, {"access_token": provider.token(client_id), "token_type": "Bearer",
                                   "expires_in": 300})

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._jwt = jwt
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def token(self, subject: str, expires_in: int = 300) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": self.AUDIENCE, "sub": subject, "iat": now, "exp": now + expires_in}
        return self._jwt.encode(claims, self._key, algorithm="ES256", headers={"kid": "idp-1"})

    def close(self) -> None:
        self._server.shutdown()


@pytest.fixture(scope="session")
def oidc_tls_stack(
    emulator_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, bytes, IdentityProvider]]:
    """``local --tls --auth oidc`` trusting an :class:`IdentityProvider` of the
    test's own; yields ``(grpc+tls://host:port, CA PEM, provider)``."""
    idp = IdentityProvider()
    extra = ["--auth", "oidc", "--oidc-issuer", idp.url, "--oidc-jwks-url", f"{idp.url}/jwks",
             "--oidc-audience", IdentityProvider.AUDIENCE]
    try:
        for flight, ca in _local_tls_stack(emulator_bin, tmp_path_factory, "local-oidc", extra):
            yield flight, ca, idp
    finally:
        idp.close()
