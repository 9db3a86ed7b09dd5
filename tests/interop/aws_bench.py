"""The measurements behind scripts/bench.sh; run it through that script, which builds the static
release binary, packs and installs the npm packages, starts sts_stub.py and cleans up.

    python aws_bench.py --bin RELEASE_BIN --sts URL --node-modules DIR --launcher NPM_BIN \
        --tarballs DIR --work DIR

Prints one line per figure with its target. Each timing is the wall time of a whole process, from
spawn to exit, on this machine; the median of many runs. With hyperfine on PATH it does the
timing (and `BENCH_TIMER=python` forces the fallback); otherwise a loop of posix_spawn + wait4,
which adds the same small spawn cost to both sides of every comparison.
"""

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ROLE_ARN = "arn:aws:iam::123456789012:role/vercel-bench"
CONCURRENT = 64
MIB = 1024 * 1024

# The peer: Vercel's provider, timed from process start until it has credentials (it exits then).
NODE_PEER = """
const { awsCredentialsProvider } = require("@vercel/oidc-aws-credentials-provider");
awsCredentialsProvider({ roleArn: process.env.AWS_ROLE_ARN, clientConfig: { region: process.env.AWS_REGION } })()
  .then((c) => { process.stdout.write(JSON.stringify({ AccessKeyId: c.accessKeyId }) + "\\n"); process.exit(0); },
        (e) => { process.stderr.write(`${e.name}: ${e.message}\\n`); process.exit(1); });
"""


def mint_token():
    """A Vercel-shaped token signed with a key that exists only in this process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {
        "iss": "https://oidc.vercel.com/acme", "aud": "https://vercel.com/acme",
        "sub": "owner:acme:project:web:environment:production",
        "iat": now, "nbf": now, "exp": now + 3600,
        "owner": "acme", "owner_id": "team_bench", "project": "web", "project_id": "prj_bench",
        "environment": "production",
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"})


class Stub:
    def __init__(self, url):
        self.url = url

    def count(self):
        with urllib.request.urlopen(self.url + "/_stub/count", timeout=5) as r:
            return json.load(r)["AssumeRoleWithWebIdentity"]

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(self.url + "/_stub/reset", data=b"", method="POST"),
                               timeout=5).close()


def maxrss_bytes(rusage):
    return rusage.ru_maxrss if sys.platform == "darwin" else rusage.ru_maxrss * 1024


def spawn(argv, env, stdout_path="/dev/null"):
    actions = [(os.POSIX_SPAWN_OPEN, 1, stdout_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
               (os.POSIX_SPAWN_OPEN, 2, "/dev/null", os.O_WRONLY, 0)]
    return os.posix_spawn(argv[0], argv, env, file_actions=actions)


def run_once(argv, env):
    """(seconds, peak RSS bytes) of one run; fails loudly, with the command's stderr, on a
    non-zero exit."""
    start = time.perf_counter()
    pid = spawn(argv, env)
    _, status, rusage = os.wait4(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = subprocess.run(argv, env=env, capture_output=True, text=True).stderr
        raise SystemExit(f"`{' '.join(argv[:3])} ...` failed:\n{err}")
    return elapsed, maxrss_bytes(rusage)


def time_python(commands, runs, warmup):
    """Median seconds of each command, runs interleaved so drift hits all alike."""
    for argv, env in commands:
        for _ in range(warmup):
            run_once(argv, env)
    samples = [[] for _ in commands]
    for _ in range(runs):
        for i, (argv, env) in enumerate(commands):
            samples[i].append(run_once(argv, env)[0])
    return [statistics.median(s) for s in samples]


def time_hyperfine(commands, runs, warmup):
    """Median seconds of each command by hyperfine (no shell; every command shares one env)."""
    env = commands[0][1]
    assert all(c[1] == env for c in commands), "hyperfine runs every command with one environment"
    for argv, _ in commands:
        assert not any(re.search(r"\s|['\"\\]", a) for a in argv), f"cannot pass {argv} to hyperfine -N"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = subprocess.run(["hyperfine", "-N", "--style", "none", "--warmup", str(warmup), "--runs", str(runs),
                               "--export-json", out.name, *[" ".join(argv) for argv, _ in commands]],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"hyperfine failed:\n{proc.stderr}")
        results = json.load(open(out.name))["results"]
    return [r["median"] for r in results]


def percentile(values, p):
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def concurrent_cold(argv, env, n, work):
    """Starts n copies at once; returns their latencies (spawn to exit, seconds) and outputs."""
    outs = [os.path.join(work, f"concurrent-{i}.json") for i in range(n)]
    started = {}
    for out in outs:
        t = time.perf_counter()
        started[spawn(argv, env, out)] = t
    latencies, failures = [], 0
    while started:
        pid, status, _ = os.wait4(-1, 0)
        latencies.append(time.perf_counter() - started.pop(pid))
        failures += os.waitstatus_to_exitcode(status) != 0
    if failures:
        raise SystemExit(f"{failures} of {n} concurrent runs failed")
    return latencies, [json.load(open(o)) for o in outs]


def peak_rss_time_v(argv, env):
    """Peak RSS in bytes as GNU time -v reports it."""
    proc = subprocess.run(["/usr/bin/time", "-v", *argv], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"/usr/bin/time -v {argv[0]} failed:\n{proc.stderr}")
    return int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr).group(1)) * 1024


def has_gnu_time():
    if not os.access("/usr/bin/time", os.X_OK):
        return False
    probe = subprocess.run(["/usr/bin/time", "-v", "true"], capture_output=True, text=True)
    return "Maximum resident set size" in probe.stderr


def verdict(ok):
    return "met" if ok else "MISSED"


def start_exec_endpoint(binary, env, work):
    """`vercel-oidc exec` with the endpoint, around a child that waits; returns (process, the
    child's environment, its folder). Touch `done` in the folder to end it."""
    folder = tempfile.mkdtemp(dir=work)
    script = "env > env.tmp && mv env.tmp env.out; while [ ! -e done ]; do sleep 0.05; done"
    proc = subprocess.Popen([binary, "exec", "--aws-credentials", "endpoint", "--", "sh", "-c", script],
                            env=env, cwd=folder, stdout=subprocess.DEVNULL)
    out = os.path.join(folder, "env.out")
    deadline = time.time() + 10
    while not os.path.exists(out):
        assert time.time() < deadline and proc.poll() is None, "exec did not start its child"
        time.sleep(0.02)
    child_env = dict(line.split("=", 1) for line in open(out).read().splitlines() if "=" in line)
    return proc, child_env, folder


def endpoint_latencies(url, token, n):
    import http.client
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    latencies = []
    for _ in range(n):
        start = time.perf_counter()
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        conn.request("GET", parts.path, headers={"Authorization": token})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        latencies.append(time.perf_counter() - start)
        assert response.status == 200, body
    return latencies


def endpoint_bench(args, base_env, measure, row):
    env = dict(base_env, AWS_ROLE_ARN=ROLE_ARN, AWS_REGION="us-east-1",
               VERCEL_OIDC_CACHE_DIR=os.path.join(args.work, "cache-endpoint"))
    proc, child_env, folder = start_exec_endpoint(args.bin, env, args.work)
    try:
        requests = 1000
        latencies = endpoint_latencies(child_env["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
                                       child_env["AWS_CONTAINER_AUTHORIZATION_TOKEN"], requests)
        print("exec's credentials endpoint (one TCP connection per request, as the SDKs make them)")
        row(f"answer latency p50 / p99 ({requests} requests)",
            f"{percentile(latencies, 50) * 1e3:.2f} / {percentile(latencies, 99) * 1e3:.2f} ms")
        creds = json.loads(subprocess.run([args.bin, "aws", "credential-process", "--role-arn", ROLE_ARN],
                                          env=env, capture_output=True, text=True, check=True).stdout)
        isolated = {"AWS_CONFIG_FILE": os.path.join(folder, "none"),
                    "AWS_SHARED_CREDENTIALS_FILE": os.path.join(folder, "none"),
                    "AWS_EC2_METADATA_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}
        base = dict(base_env, **isolated)
        with_endpoint = dict(base, **{k: v for k, v in child_env.items() if k.startswith("AWS_CONTAINER_")})
        with_keys = dict(base, AWS_ACCESS_KEY_ID=creds["AccessKeyId"],
                         AWS_SECRET_ACCESS_KEY=creds["SecretAccessKey"], AWS_SESSION_TOKEN=creds["SessionToken"])
        presign = [args.aws_cli, "s3", "presign", "s3://bench/key"]
        runs = 15
        by_endpoint, by_keys = measure([(presign, with_endpoint), (presign, with_keys)], runs, 2)
        row(f"aws s3 presign, credentials from the endpoint (median of {runs})", f"{by_endpoint * 1e3:.0f} ms")
        row(f"aws s3 presign, environment keys (median of {runs})", f"{by_keys * 1e3:.0f} ms")
        row("the endpoint's cost to the AWS CLI", f"+{(by_endpoint - by_keys) * 1e3:.0f} ms")
    finally:
        open(os.path.join(folder, "done"), "w").close()
        proc.wait(timeout=10)


STAND_IN_AZ = "#!/bin/sh\nexit 0\n"


def azure_cli_bench(args, base_env, measure, row):
    """`exec --azure` with an `az` on PATH (a stand-in that answers at once, so that what is
    measured is exec's own part), with the login step on and off, and without `az` on PATH."""
    tools = os.path.join(args.work, "az-tools")
    os.makedirs(tools, exist_ok=True)
    with open(os.path.join(tools, "az"), "w") as f:
        f.write(STAND_IN_AZ)
    os.chmod(os.path.join(tools, "az"), 0o755)
    azure = {"AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47",
             "AZURE_CLIENT_ID": "11111111-2222-3333-4444-555555555555"}
    sh = shutil.which("sh")
    without_az = os.pathsep.join(p for p in base_env["PATH"].split(os.pathsep)
                                 if not os.path.exists(os.path.join(p, "az")))
    with_az = dict(base_env, **azure, PATH=f"{tools}{os.pathsep}{without_az}")
    no_az = dict(base_env, **azure, PATH=without_az)
    run = [args.bin, "exec", "--azure", "--", sh, "-c", "true"]
    off = [args.bin, "exec", "--azure", "--azure-cli-login", "off", "--", sh, "-c", "true"]
    runs, calls = 100, 100
    with_login, login_off = measure([(run, with_az), (off, with_az)], runs, 5)
    (without,) = measure([(run, no_az)], runs, 5)
    loop = f"i=0; while [ $i -lt {calls} ]; do az; i=$((i+1)); done"
    many, many_off = measure([([*run[:-1], loop], with_az), ([*off[:-1], loop], with_az)], 10, 1)
    print("exec and the Azure CLI (a stand-in `az` that answers at once: exec's own part)")
    row(f"exec --azure -- sh -c true, az on PATH (median of {runs})", f"{with_login * 1e3:.2f} ms")
    row(f"  the same with --azure-cli-login off (median of {runs})", f"{login_off * 1e3:.2f} ms")
    row(f"  the same without az on PATH (median of {runs})", f"{without * 1e3:.2f} ms")
    row("what the login step adds to a run that never runs az", f"+{(with_login - login_off) * 1e3:.2f} ms")
    row(f"what it adds to each az call once logged in ({calls} calls)",
        f"+{(many - many_off) / calls * 1e3:.2f} ms")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--sts", required=True)
    ap.add_argument("--node-modules", required=True)
    ap.add_argument("--launcher", required=True, help="vercel-oidc as npm's bin puts it on PATH")
    ap.add_argument("--tarballs", required=True, help="the folder scripts/npm-pack.sh wrote")
    ap.add_argument("--work", required=True)
    ap.add_argument("--aws-cli", required=True, help="the pinned AWS CLI (the venv's `aws`)")
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()

    stub = Stub(args.sts)
    home = os.path.join(args.work, "home")
    os.makedirs(home, exist_ok=True)
    base_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home, "LANG": "C.UTF-8",
                "VERCEL_OIDC_TOKEN": mint_token(), "AWS_ENDPOINT_URL_STS": args.sts}
    cached_env = dict(base_env, VERCEL_OIDC_CACHE_DIR=os.path.join(args.work, "cache"))
    process = [args.bin, "aws", "credential-process", "--role-arn", ROLE_ARN]
    cold = [*process, "--no-cache"]
    node = shutil.which("node", path=base_env["PATH"])
    peer = os.path.join(args.work, "peer.cjs")
    with open(peer, "w") as f:
        f.write(NODE_PEER)
    node_env = dict(base_env, AWS_REGION="us-east-1", AWS_ROLE_ARN=ROLE_ARN, NODE_PATH=args.node_modules,
                    NODE_NO_WARNINGS="1")
    use_hyperfine = shutil.which("hyperfine") and os.environ.get("BENCH_TIMER") != "python"
    measure = time_hyperfine if use_hyperfine else time_python
    version = subprocess.run([args.bin, "--version"], capture_output=True, text=True).stdout.strip()
    peer_version = json.load(open(os.path.join(args.node_modules, "@vercel/oidc-aws-credentials-provider",
                                               "package.json")))["version"]
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()

    print(f"{version} ({args.bin})")
    print(f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs; node {node_version}; "
          f"timer: {'hyperfine' if use_hyperfine else 'posix_spawn + wait4 loop'}; "
          f"STS: a local stub answering at once")
    print()
    rows = []

    def row(label, figure, target="", ok=None):
        rows.append(ok)
        mark = "" if ok is None else verdict(ok)
        print(f"  {label:<58} {figure:>15}   {target:<18} {mark}".rstrip())

    # 1. Cache hit beside cat of the same file.
    subprocess.run(process, env=cached_env, check=True, stdout=subprocess.DEVNULL)
    entries = [f for f in os.listdir(cached_env["VERCEL_OIDC_CACHE_DIR"]) if f.endswith(".json")]
    assert len(entries) == 1, entries
    cat = [shutil.which("cat"), os.path.join(cached_env["VERCEL_OIDC_CACHE_DIR"], entries[0])]
    stub.reset()
    hit, cat_s, start_s = measure([(process, cached_env), (cat, cached_env), ([args.bin, "--version"], cached_env)],
                                  args.runs, 20)
    assert stub.count() == 0, "a cache hit called STS"
    print("cache hit")
    row(f"credential-process, cache hit (median of {args.runs})", f"{hit * 1e3:.2f} ms")
    row(f"cat of the cache file (median of {args.runs})", f"{cat_s * 1e3:.2f} ms")
    row(f"process start alone: --version (median of {args.runs})", f"{start_s * 1e3:.2f} ms")
    row("ratio", f"{hit / cat_s:.2f}x", "within 1.3x of cat", hit <= 1.3 * cat_s)

    # 2. A cold exchange beside Vercel's provider against the same STS.
    cold_runs, node_runs = 50, 15
    stub.reset()
    (cold_s,) = measure([(cold, base_env)], cold_runs, 5)
    (node_s,) = measure([([node, peer], node_env)], node_runs, 2)
    calls = stub.count()
    expected = cold_runs + 5 + node_runs + 2
    assert calls == expected, f"the stub saw {calls} exchanges, expected {expected}"
    print("cold exchange (every run called the stub STS)")
    row(f"credential-process --no-cache (median of {cold_runs})", f"{cold_s * 1e3:.1f} ms")
    row(f"@vercel/oidc-aws-credentials-provider {peer_version} (median of {node_runs})",
        f"{node_s * 1e3:.1f} ms")
    row("speed-up", f"{node_s / cold_s:.0f}x", "at least 10x", node_s >= 10 * cold_s)

    # 3. 64 cold calls at once, sharing a fresh cache.
    stub.reset()
    fresh_env = dict(base_env, VERCEL_OIDC_CACHE_DIR=os.path.join(args.work, "cache-concurrent"))
    latencies, outputs = concurrent_cold(process, fresh_env, CONCURRENT, args.work)
    calls = stub.count()
    same = len({o["AccessKeyId"] for o in outputs}) == 1
    print(f"{CONCURRENT} concurrent cold calls, one fresh cache")
    row("STS requests", str(calls), "exactly 1", calls == 1)
    row("all printed the same credentials", "yes" if same else "no", "yes", same)
    row("latency p50 / p99", f"{percentile(latencies, 50) * 1e3:.1f} / {percentile(latencies, 99) * 1e3:.1f} ms")

    # 4. Size and memory.
    size = os.path.getsize(args.bin)
    print("footprint")
    row("static release binary size", f"{size / MIB:.2f} MiB", "under 10 MiB", size < 10 * MIB)
    if has_gnu_time():
        how = "/usr/bin/time -v"
        rss_cold, rss_hit = peak_rss_time_v(cold, base_env), peak_rss_time_v(process, cached_env)
    else:
        how = "wait4 rusage"
        rss_cold, rss_hit = run_once(cold, base_env)[1], run_once(process, cached_env)[1]
    row(f"peak RSS, cold exchange ({how})", f"{rss_cold / MIB:.1f} MiB", "under 16 MiB", rss_cold < 16 * MIB)
    row(f"peak RSS, cache hit ({how})", f"{rss_hit / MIB:.1f} MiB", "under 16 MiB", rss_hit < 16 * MIB)
    row("peak RSS, the Node peer (wait4 rusage)", f"{run_once([node, peer], node_env)[1] / MIB:.1f} MiB")

    # 5. The npm package: what the launcher adds, and what a project downloads.
    launcher_runs = 30
    through, direct = measure([([args.launcher, "--version"], base_env), ([args.bin, "--version"], base_env)],
                              launcher_runs, 3)
    print("npm package")
    row(f"--version through npm's bin, the launcher (median of {launcher_runs})", f"{through * 1e3:.1f} ms")
    row(f"--version of the native binary (median of {launcher_runs})", f"{direct * 1e3:.2f} ms")
    row("the launcher's cost (Node start-up)", f"+{(through - direct) * 1e3:.1f} ms")
    for name in sorted(os.listdir(args.tarballs)):
        size = os.path.getsize(os.path.join(args.tarballs, name))
        row(f"tarball {name}", f"{size / MIB:.2f} MiB" if size >= MIB / 10 else f"{size / 1024:.1f} KiB")

    # 6. exec's container-credentials endpoint: its answer latency, and what it costs the AWS CLI.
    endpoint_bench(args, base_env, measure, row)

    # 7. exec's login step for the Azure CLI: what it adds to a run, and to each `az` call.
    azure_cli_bench(args, base_env, measure, row)

    missed = sum(1 for ok in rows if ok is False)
    print()
    print("all targets met" if not missed else f"{missed} target(s) missed")


if __name__ == "__main__":
    main()
