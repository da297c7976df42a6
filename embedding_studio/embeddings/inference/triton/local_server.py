"""A real Triton server on a CPU-only machine, from the `nvidia-pytriton` wheel.

The wheel bundles a `tritonserver` binary (2.51) with the Python backend only. It is
downloaded with pip and unpacked, never installed (it would force numpy<2 on the venv),
into `<home>/` (default `~/.cache/embedding-studio/triton`). Tests, benchmarks and
developers start it with:

    install = ensure_pytriton()                       # downloads once (~55 MB)
    with LocalTritonServer(install, repository) as server:
        server.grpc_url                               # "127.0.0.1:<port>"

Three things make the Python backend work here (deploy/triton/README.md has the shell
recipe): the backend stub is copied next to the backend for this Python version; the
stub loads the interpreter's own shared libpython (LD_LIBRARY_PATH); and the stub finds
packages (torch, numpy) through the `python3` first on PATH, so the venv's bin folder
goes first. Models are served in explicit model-control mode: nothing is loaded until a
`load_model` call.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from embedding_studio.embedded.services import free_port

logger = logging.getLogger(__name__)

PYTRITON_VERSION = "0.7.0"
DEFAULT_HOME = Path.home() / ".cache" / "embedding-studio" / "triton"
START_TIMEOUT_S = 60.0


class TritonSetupError(RuntimeError):
    """The Triton binary could not be fetched, unpacked or started."""


@dataclass(frozen=True)
class TritonInstall:
    """An unpacked `nvidia-pytriton` wheel.

    :param root: the unpacked wheel (holds `pytriton/` and `nvidia_pytriton.libs/`)
    """

    root: Path

    @property
    def server_dir(self) -> Path:
        return self.root / "pytriton" / "tritonserver"

    @property
    def binary(self) -> Path:
        return self.server_dir / "bin" / "tritonserver"

    @property
    def backends(self) -> Path:
        return self.server_dir / "backends"

    @property
    def stub(self) -> Path:
        return self.backends / "python" / "triton_python_backend_stub"

    @property
    def libs(self) -> Path:
        return self.root / "nvidia_pytriton.libs"

    def environment(self, python_bin: Path | None = None) -> dict[str, str]:
        """Environment for `tritonserver`: the stub loads this interpreter's libpython
        and finds packages through `python_bin` (default: this interpreter's folder)."""
        env = dict(os.environ)
        libdir = sysconfig.get_config_var("LIBDIR") or ""
        paths = [str(self.libs), libdir, env.get("LD_LIBRARY_PATH", "")]
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in paths if p)
        python_bin = python_bin or Path(sys.executable).parent
        env["PATH"] = os.pathsep.join([str(python_bin), env.get("PATH", "")])
        return env


def _python_tag() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def _is_ready(install: TritonInstall) -> bool:
    return install.binary.is_file() and install.stub.is_file()


def _unpack(wheel: Path, root: Path) -> None:
    staging = root.with_name(root.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(staging)
    install = TritonInstall(staging)
    source = install.server_dir / "python_backend_stubs" / _python_tag() / install.stub.name
    if not source.is_file():
        raise TritonSetupError(f"the wheel has no Python backend stub for Python {_python_tag()}")
    shutil.copyfile(source, install.stub)
    for executable in (install.binary, install.stub):
        executable.chmod(executable.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    shutil.rmtree(root, ignore_errors=True)
    staging.rename(root)


def _download(target_dir: Path) -> Path:
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
        f"nvidia-pytriton=={PYTRITON_VERSION}", "-d", str(target_dir),
    ]  # fmt: skip
    logger.info("downloading nvidia-pytriton %s (once) into %s", PYTRITON_VERSION, target_dir)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(target_dir.glob(f"nvidia_pytriton-{PYTRITON_VERSION}-*.whl"))
    if result.returncode != 0 or not wheels:
        raise TritonSetupError(f"pip download of nvidia-pytriton failed: {result.stderr[-2000:]}")
    return wheels[0]


def ensure_pytriton(home: Path | None = None) -> TritonInstall:
    """The unpacked Triton under `home`, downloaded and unpacked on first use (a file
    lock serialises concurrent callers).

    :raises TritonSetupError: PyPI unreachable, or the wheel lacks this Python's stub
    """
    home = Path(home or os.environ.get("ES_TRITON_HOME") or DEFAULT_HOME)
    install = TritonInstall(home / f"pytriton-{PYTRITON_VERSION}")
    if _is_ready(install):
        return install
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _is_ready(install):
            wheels = sorted(home.glob(f"nvidia_pytriton-{PYTRITON_VERSION}-*.whl"))
            wheel = wheels[0] if wheels else _download(home)
            _unpack(wheel, install.root)
    return install


class LocalTritonServer:
    """A `tritonserver` child process in explicit model-control mode.

    :param install: from `ensure_pytriton()`
    :param repository: the model repository folder
    :param log_path: where its output goes (default: `<repository>/../tritonserver.log`)
    :param torch_threads: torch threads per Python-backend model instance (None: torch's
        default). 1 by default: on a shared CPU, threads of one call spin-waiting for
        each other cost 10-20x the CPU time of a single thread.
    """

    def __init__(
        self,
        install: TritonInstall,
        repository: Path,
        log_path: Path | None = None,
        torch_threads: int | None = 1,
    ) -> None:
        self.install = install
        self.repository = Path(repository)
        self.log_path = log_path or self.repository.parent / "tritonserver.log"
        self.torch_threads = torch_threads
        self.http_port = free_port()
        self.grpc_port = free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def grpc_url(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def command(self) -> list[str]:
        return [
            str(self.install.binary),
            f"--model-repository={self.repository}",
            f"--backend-directory={self.install.backends}",
            "--model-control-mode=explicit",
            "--http-address=127.0.0.1", f"--http-port={self.http_port}",
            "--grpc-address=127.0.0.1", f"--grpc-port={self.grpc_port}",
            "--allow-metrics=false", "--exit-timeout-secs=5",
        ]  # fmt: skip

    def start(self, timeout_s: float = START_TIMEOUT_S) -> LocalTritonServer:
        self.repository.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (kept open for the child)
        env = self.install.environment()
        if self.torch_threads is not None:
            env["ES_TRITON_TORCH_THREADS"] = str(self.torch_threads)  # read by model.py
            env["OMP_NUM_THREADS"] = str(self.torch_threads)
        self._process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, env=env
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise TritonSetupError(f"tritonserver exited at start; see {self.log_path}")
            if self.is_live():
                logger.info("tritonserver ready: gRPC %s", self.grpc_url)
                return self
            time.sleep(0.2)
        self.stop()
        raise TritonSetupError(f"tritonserver did not start in {timeout_s:.0f} s; {self.log_path}")

    def is_live(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.http_url}/v2/health/live", timeout=1) as reply:
                return bool(reply.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> LocalTritonServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
