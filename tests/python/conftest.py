"""Fixtures for the Python interop tests.

The session-scoped ``emulator_url`` fixture starts the Redshift Data API
emulator (``redshift-flight-sql emulator --listen 127.0.0.1:0``) once for the
whole run, reads the one ``emulator listening on http://…`` line it prints when
it is ready, and stops it with SIGTERM at the end. The binary is
``$RSFS_BIN`` or ``target/debug/redshift-flight-sql`` under the repository root.

While the emulator runs, the AWS environment points every SDK at it (dummy
credentials, us-east-1, ``AWS_ENDPOINT_URL_REDSHIFT_DATA``), so that libraries
that build their own boto3 clients (awswrangler) reach it too.
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


def _read_ready_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """Reads stdout until the ready line, EOF or the deadline; returns the URL."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                match = READY_LINE.match(line)
                if match:
                    return match.group(1).decode()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"the emulator printed no ready line within {timeout:.0f} s")
            if not selector.select(remaining):
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                raise RuntimeError(
                    f"the emulator closed stdout before it was ready (exit code {proc.poll()})"
                )
            buffer += chunk


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
