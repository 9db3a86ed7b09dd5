"""Local-development refresh shared with Vercel's own JavaScript helper, `@vercel/oidc` (pinned):
a token vercel-oidc refreshes and stores is the one `getVercelOidcToken()` then returns without
refreshing again, and a token the helper stores is the one vercel-oidc then uses.
"""

import json
import os
import stat

PROJECT_ID = "prj_web123"

NODE_GET_TOKEN = """
const { getVercelOidcToken } = require("@vercel/oidc");
getVercelOidcToken().then(
  (t) => console.log(JSON.stringify({ token: t })),
  (e) => { console.error(String((e && e.message) || e)); process.exit(1); },
);
"""

NODE_SAVE_TOKEN = """
const path = require("path");
const util = require(path.join(process.env.NODE_PATH, "@vercel/oidc/dist/token-util.js"));
util.saveToken({ token: process.env.TOKEN_TO_SAVE }, process.env.PROJECT_ID);
"""


def linked_project(sandbox, mint, cli_token=None):
    """A linked project whose environment holds an expired token; a fake `vercel` on PATH prints
    `cli_token` when given."""
    vercel_dir = sandbox.path / ".vercel"
    vercel_dir.mkdir()
    (vercel_dir / "project.json").write_text(json.dumps({"projectId": PROJECT_ID, "orgId": "team_acme123"}))
    bin_dir = sandbox.path / "bin"
    bin_dir.mkdir()
    if cli_token:
        fake = bin_dir / "vercel"
        fake.write_text(f"#!/bin/sh\nprintf '{{\"token\":\"%s\"}}' '{cli_token}'\n")
        fake.chmod(0o755)
    data = sandbox.path / "data"
    sandbox.env.update(
        VERCEL_OIDC_TOKEN=mint(lifetime=-600),
        XDG_DATA_HOME=str(data),
        PATH=str(bin_dir) + os.pathsep + sandbox.env["PATH"],
    )
    return data / "com.vercel.token" / f"{PROJECT_ID}.json"


def test_the_js_helper_uses_the_token_vercel_oidc_refreshed(sandbox, mint):
    fresh = mint(lifetime=12 * 3600, environment="development")
    store = linked_project(sandbox, mint, cli_token=fresh)
    summary = sandbox.json_bin("token", "--json")
    assert summary["source"]["kind"] == "refreshed"
    assert summary["source"]["via"] == "`vercel project token`"
    # The token refreshed is the one the CLI issued, and it is what the store holds.
    assert sandbox.run_bin("token", "--print", reveals=[fresh]).stdout == fresh + "\n"
    assert json.loads(store.read_text())["token"] == fresh
    assert stat.S_IMODE(os.stat(store).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.parent).st_mode) == 0o700

    # No `vercel` and no login for the helper: it can only have read the shared store.
    (sandbox.path / "bin" / "vercel").unlink()
    out = sandbox.node(NODE_GET_TOKEN, reveals=[fresh])
    assert out.stdout == json.dumps({"token": fresh}, separators=(",", ":")) + "\n"


def test_vercel_oidc_uses_the_token_the_js_helper_stored(sandbox, mint):
    store = linked_project(sandbox, mint)
    stored = mint(lifetime=12 * 3600, environment="development")
    sandbox.node(NODE_SAVE_TOKEN, env={"TOKEN_TO_SAVE": stored, "PROJECT_ID": PROJECT_ID})
    assert store.exists(), "the helper wrote where vercel-oidc reads"
    printed = sandbox.run_bin("token", "--print", reveals=[stored]).stdout
    assert printed == stored + "\n"
    summary = sandbox.json_bin("token", "--json")
    assert summary["source"]["via"] == "the shared token store"
