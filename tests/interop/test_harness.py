"""The harness itself: every run's output is checked against every secret the test's world has
issued, in every form a leak could take; moto's credentials are registered as they pass the relay,
before any output is checked; and no test file starts a process but through conftest's runner.
"""

import re
import sys
from pathlib import Path

import pytest

from conftest import BIN, forms, register_secret, run, spawn

SECRET = "harness/Secret+Key=1 ok"
HERE = Path(__file__).resolve().parent


def leak(to, value, **kwargs):
    """A Python that prints `value` (from its environment) to `to`."""
    script = f"import os, sys; sys.{to}.write(os.environ['LEAK'])"
    return run([sys.executable, "-c", script], {"LEAK": value}, HERE, **kwargs)


def first_form_in(printed):
    """The form of SECRET a check names when `printed` shows: the first that `printed` holds (the
    padded base64 holds the unpadded one)."""
    return next(f for f in forms(SECRET) if f in printed)


def test_a_secret_takes_every_form_a_leak_could_take():
    assert forms(SECRET) == [
        "aGFybmVzcy9TZWNyZXQrS2V5PTEgb2s",
        "aGFybmVzcy9TZWNyZXQrS2V5PTEgb2s=",
        "harness%2FSecret%2BKey%3D1%20ok",
        "harness%2FSecret%2BKey%3D1+ok",
        "harness%2fSecret%2bKey%3d1%20ok",
        "harness/Secret+Key=1 ok",
        "harness\\/Secret+Key=1 ok",
    ]


@pytest.mark.parametrize("form", forms(SECRET))
def test_a_secret_on_stderr_fails_the_run_in_every_form(form):
    register_secret(SECRET)
    with pytest.raises(AssertionError) as failed:
        leak("stderr", form)
    assert str(failed.value).splitlines()[0] == (
        f"`{sys.executable}`: a secret leaked into stderr as {first_form_in(form)!r}:")


@pytest.mark.parametrize("form", forms(SECRET))
def test_a_secret_on_stdout_fails_the_run_unless_it_was_asked_for(form):
    register_secret(SECRET)
    with pytest.raises(AssertionError) as failed:
        leak("stdout", form)
    assert str(failed.value).splitlines()[0] == (
        f"`{sys.executable}`: a secret it was not asked for leaked into stdout as {first_form_in(form)!r}:")
    assert leak("stdout", form, reveals=[SECRET]).stdout == form
    assert leak("stdout", form, reveals=[lambda s: s.startswith("harness/")]).stdout == form
    with pytest.raises(AssertionError):
        leak("stderr", form, reveals=[SECRET])


def test_a_run_in_a_world_that_issued_no_secret_fails():
    with pytest.raises(AssertionError) as failed:
        run(["true"], {}, HERE)
    assert str(failed.value).splitlines()[0] == (
        "`true`: this test has issued no secret, so the leak check of its output proves nothing; give the run "
        "something it must keep to itself (a token from mint(), or register_secret())")
    assert run(["true"], {}, HERE, helper=True).returncode == 0


def test_a_spawned_run_is_checked_when_waited_for():
    register_secret(SECRET)
    script = "import os, sys; sys.stderr.write(os.environ['LEAK'])"
    running = spawn([sys.executable, "-c", script], {"LEAK": SECRET}, HERE)
    with pytest.raises(AssertionError) as failed:
        running.wait()
    assert str(failed.value).splitlines()[0] == f"`{sys.executable}`: a secret leaked into stderr as {SECRET!r}:"


def test_what_moto_issues_is_registered_before_the_binary_prints_it(sandbox, mint, moto, world):
    """The credentials `aws credential-process` prints came from moto through the relay: the run
    fails on them unless it was asked for them, so they were registered before it was checked."""
    role_arn = moto.create_role("harness")
    sandbox.env.update(VERCEL_OIDC_TOKEN=mint(), AWS_ENDPOINT_URL_STS=moto.url)
    with pytest.raises(AssertionError) as failed:
        sandbox.run_bin("aws", "credential-process", "--role-arn", role_arn)
    [issued] = moto.issued_credentials()
    secret, session = issued["secret_access_key"], issued["session_token"]
    assert str(failed.value).splitlines()[0] == (
        f"`{BIN}`: a secret it was not asked for leaked into stdout as {secret!r}:")
    assert {secret, session} <= set(world.secrets)
    # Asked for, the same credentials (from the cache the first run wrote) pass.
    printed = sandbox.run_bin("aws", "credential-process", "--role-arn", role_arn, reveals=[secret, session])
    assert (printed.returncode, printed.stderr) == (0, "")
    assert len(moto.sessions()) == 1


def test_no_test_file_starts_a_process_but_through_the_runner():
    found = []
    pattern = re.compile(r"\bsubprocess\b|\bos\.(system|popen|spawn\w*|exec\w*|fork)\b|\bpty\.fork\b")
    for path in sorted(HERE.glob("*.py")):
        if path.name in ("conftest.py", "aws_moto.py", "sts_stub.py", "aws_bench.py", "test_harness.py"):
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.name}:{n}: {line.strip()}")
    assert found == [], "start processes with run, spawn or the sandbox's methods (conftest.py)"
