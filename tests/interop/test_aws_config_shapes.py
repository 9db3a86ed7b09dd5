"""botocore, pinned, reads what `vercel-oidc aws configure` leaves in AWS config files of every
shape botocore itself accepts: `=` or `:`, keys in any case, indented keys, continuation lines,
comments, LF, CRLF and CR-only line ends, `[default]` and `[profile x]` neighbours.

For each shape the file is written, `aws configure` runs on it, and a botocore session reads it
back (`AWS_CONFIG_FILE` pointing at it): the profile resolves to exactly the values written (its
`credential_process` splits into exactly our command's words), every other profile to what
botocore read before the edit, and the file keeps its kind of line end. Shapes that botocore reads otherwise than they look are refused:
exit 1, the exact error, nothing on stdout, the file unchanged.
"""

import os
import re

import botocore.session
import pytest
from botocore.compat import compat_shell_split

from conftest import BIN

ROLE_ARN = "arn:aws:iam::123456789012:role/vercel-deploy"
REGION = "eu-west-1"
COMMAND = [os.path.realpath(BIN), "aws", "credential-process", "--role-arn", ROLE_ARN, "--region", REGION]
WRITTEN = {"credential_process": " ".join(COMMAND), "region": REGION}

# (shape, profile, file before, "added" or "updated")
EDITED = [
    ("LF, added after [default] and [profile x]", "vercel",
     "# mine\n[default]\nregion = us-east-1\n\n[profile x]\n; kept\noutput = json\n", "added"),
    ("LF, updated beside [default] and [profile x]", "vercel",
     "[default]\nregion = us-east-1\n[profile vercel]\n# note\ncredential_process = /bin/old\nregion = a\n"
     "output = text\n\n[profile x]\noutput = json\n", "updated"),
    ("CRLF, updated", "vercel",
     "[profile vercel]\r\ncredential_process = /bin/old\r\n\r\n[profile x]\r\nregion = us-east-1\r\n", "updated"),
    ("CRLF, added", "vercel", "[default]\r\nregion = us-east-1\r\n", "added"),
    ("CR-only, updated", "vercel",
     "[default]\rregion = us-east-1\r[profile vercel]\rcredential_process = /bin/old\r[profile x]\routput = json\r",
     "updated"),
    ("CR-only, added", "vercel", "[default]\rregion = us-east-1\r", "added"),
    ("`:` as the delimiter", "vercel",
     "[profile vercel]\ncredential_process: /bin/old\nregion : a\n[default]\noutput: json\n", "updated"),
    ("keys in upper case", "vercel",
     "[profile vercel]\nCREDENTIAL_PROCESS = /bin/old\nRegion = a\nOutput = json\n[profile x]\nREGION = b\n", "updated"),
    ("indented keys", "vercel",
     "[profile vercel]\n  output = json\n  credential_process = /bin/old\n[profile x]\n  region = b\n", "updated"),
    ("blanks between the header's words", "vercel",
     "[profile   vercel ]\nregion = a\n\n[profile x]\noutput = json\n", "updated"),
    ("the default profile, with a [profile x] neighbour", "default",
     "[profile x]\nregion = b\n[default]\ncredential_process = /bin/old\n", "updated"),
    ("comments everywhere, one that looks like the header", "vercel",
     "; top\n# [profile vercel]\n[default]\n# inside\nregion = us-east-1\n  ; indented comment\n"
     "[profile vercel] ; after the header\nregion = a\n# before the next\n[profile x]\noutput = json\n", "updated"),
    ("continuation lines of other keys and profiles", "vercel",
     "[profile x]\ncredential_process = /bin/x\n  --more\n[profile vercel]\ns3 =\n  addressing_style = path\n"
     "output = a\n\n  b\n[default]\nregion = us-east-1\n", "updated"),
    ("[DEFAULT] beside the profiles", "vercel", "[DEFAULT]\noutput = json\n[profile x]\nregion = b\n", "added"),
    ("no line end at the end", "vercel", "[default]\nregion = us-east-1\n[profile vercel]\nregion = a", "updated"),
]

# (shape, profile, file before, the error after `error: the AWS config file `PATH` is left as it is: `)
REFUSED = [
    ("blanks inside the brackets", "vercel",
     "[default]\nregion = us-east-1\n[ profile vercel ]\ncredential_process = /bin/old\n",
     "line 3, `[ profile vercel ]`, looks like profile `vercel`, but botocore does not read it as that profile: "
     "it keeps the blanks inside the brackets as part of the name\n  write it as `[profile vercel]`, then run again"),
    ("`Profile` in upper case", "vercel", "[Profile vercel]\nregion = a\n",
     "line 1, `[Profile vercel]`, looks like profile `vercel`, but botocore does not read it as that profile: "
     "it reads `profile` and `default` only in lower case\n  write it as `[profile vercel]`, then run again"),
    ("a continuation line after credential_process", "vercel",
     "[profile vercel]\ncredential_process = /bin/old\n  --old-flag\n[profile x]\nregion = b\n",
     "line 3 is indented below `credential_process` (line 2), so botocore reads it as part of that value and "
     "would add it to the value written here\n  remove the line, or its indentation if it is a setting of its "
     "own, then run again"),
    ("the header indented below a setting, CR-only", "vercel",
     "[default]\rregion = us-east-1\r  [profile vercel]\rcredential_process = /bin/old\r",
     "line 3, `[profile vercel]`, is indented below `region` (line 2), so botocore reads it as part of that value, "
     "not as a section\n  remove the blanks before `[`, then run again"),
    ("[default] and [profile default]", "default", "[default]\nregion = a\n[profile default]\nregion = b\n",
     "lines 1 and 3 both open profile `default`, and botocore reads only the last\n  merge them into one "
     "section, then run again"),
    ("a key given twice, CRLF", "vercel", "[profile x]\r\nRegion = a\r\nregion = b\r\n",
     "line 3 sets `region` again in its section (line 2 set it first; keys are compared without case), so "
     "botocore cannot read the file (nor can the AWS CLI)\n  correct that line, then run again"),
]


@pytest.fixture
def config(sandbox, monkeypatch, mint):
    """The config file both `aws configure` and the botocore sessions of this process read; a
    token at hand, which no message may show."""
    path = sandbox.path / "aws-config"
    sandbox.env["AWS_CONFIG_FILE"] = str(path)
    sandbox.env["VERCEL_OIDC_TOKEN"] = mint()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(sandbox.path / "no-credentials"))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    return path


def write_file(path, text):
    with open(path, "w", newline="") as f:
        f.write(text)


def read_file(path):
    with open(path, newline="") as f:
        return f.read()


def line_ends(text):
    """The kinds of line end in `text`, as Python's universal newlines reads them."""
    return set(re.findall(r"\r\n|\r|\n", text))


def profiles():
    """Every profile as botocore reads the config file."""
    return botocore.session.Session().full_config["profiles"]


def configure(sandbox, profile, check=True):
    return sandbox.run_bin("aws", "configure", "--profile", profile, "--role-arn", ROLE_ARN,
                           "--region", REGION, check=check)


@pytest.mark.parametrize("shape,profile,before,verb", EDITED, ids=[row[0] for row in EDITED])
def test_botocore_reads_the_profile_written_and_the_rest_as_before(sandbox, config, shape, profile, before, verb):
    write_file(config, before)
    read_before = profiles()

    out = configure(sandbox, profile)

    assert out.stdout == ""
    assert out.stderr == (
        f"{verb} profile `{profile}` in `{config}`\n  credential_process = {WRITTEN['credential_process']}\n"
        f"try: aws sts get-caller-identity --profile {profile}\n"
    )
    scoped = botocore.session.Session(profile=profile).get_scoped_config()
    assert {key: scoped.get(key) for key in WRITTEN} == WRITTEN
    assert compat_shell_split(scoped["credential_process"]) == COMMAND
    read_after = profiles()
    kept = {key: value for key, value in read_after[profile].items() if key not in WRITTEN}
    if verb == "updated":
        assert kept == {key: value for key, value in read_before[profile].items() if key not in WRITTEN}
    others = {name: values for name, values in read_after.items() if name != profile}
    assert others == {name: values for name, values in read_before.items() if name != profile}

    written = read_file(config)
    assert line_ends(written) == line_ends(before)
    again = configure(sandbox, profile)
    assert again.stderr.startswith(f"profile `{profile}` in `{config}` is already up to date\n")
    assert read_file(config) == written


@pytest.mark.parametrize("shape,profile,before,error", REFUSED, ids=[row[0] for row in REFUSED])
def test_shapes_botocore_reads_otherwise_are_refused_and_left_alone(sandbox, config, shape, profile, before, error):
    write_file(config, before)

    out = configure(sandbox, profile, check=False)

    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr == f"error: the AWS config file `{config}` is left as it is: {error}\n"
    assert read_file(config) == before
