"""The one settings file: production switches make Django's deployment check clean."""

import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[3]


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    unset = {"HTTPS", "DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_deployment_check_is_clean_with_https_and_a_secret_key():
    result = run_check(HTTPS="true", SECRET_KEY="k3y-" + "x7Qp9vL2mZ" * 6)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deployment_check_warns_without_https():
    result = run_check(SECRET_KEY="k3y-" + "x7Qp9vL2mZ" * 6)
    assert result.returncode != 0
    assert "SESSION_COOKIE_SECURE" in result.stdout + result.stderr
