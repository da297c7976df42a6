"""The `embedding-studio` command refuses invalid settings, naming each variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = Path(sys.executable).parent / "embedding-studio"


def run_cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args],
        env={**os.environ, **env},
        cwd=tmp_path,  # away from the repository's .env
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_invalid_settings_exit_2_naming_each_variable(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "up", API_PORT="not-a-port", WORKER_THREADS="0")
    assert result.returncode == 2
    assert "API_PORT" in result.stderr and "'not-a-port'" in result.stderr
    assert "WORKER_THREADS" in result.stderr


def test_invalid_setting_in_dotenv_is_named_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("INFERENCE_BACKEND=gpu-cloud\n")
    result = run_cli(tmp_path, "up")
    assert result.returncode == 2
    assert "INFERENCE_BACKEND" in result.stderr


def test_unknown_log_level_is_refused(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "up", LOG_LEVEL="LOUD")
    assert result.returncode == 2
    assert "LOG_LEVEL" in result.stderr


def test_up_help_describes_the_data_dir(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "up", "--help")
    assert result.returncode == 0
    assert "--data-dir" in result.stdout
