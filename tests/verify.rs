//! `vercel-oidc verify` against a local issuer: discovery and JWKS served by a recording server.
//!
//! The RSA keys in `tests/fixtures/verify/` (`openssl genrsa 2048`, PKCS#1 DER) exist only for
//! these tests.

mod common;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use vercel_oidc::vars;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::{MockServer, Output, Recorded, Reply, Sandbox, Stdin, now, register_secret};
use jsonwebtoken::{Algorithm, EncodingKey, Header};

const AUDIENCE: &str = "https://vercel.com/acme";
const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
const JWKS_PATH: &str = "/.well-known/jwks";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/verify")
            .join(name),
    )
    .unwrap()
}

fn private_key(name: &str) -> EncodingKey {
    EncodingKey::from_rsa_der(&fixture(&format!("{name}.der")))
}

/// The public half of fixture key `name`, as a JWKS entry named `kid`.
fn jwk(name: &str, kid: &str) -> serde_json::Value {
    let jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&private_key(name), Algorithm::RS256).unwrap();
    let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = jwk.algorithm else {
        panic!("not an RSA key")
    };
    serde_json::json!({"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": rsa.n, "e": rsa.e})
}

/// Signs `claims` with fixture key `name`, naming `kid` in the header.
fn sign_with(alg: Algorithm, name: &str, kid: &str, claims: &serde_json::Value) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.into());
    let token = jsonwebtoken::encode(&header, claims, &private_key(name)).unwrap();
    register_secret(token.clone());
    token
}

fn sign(name: &str, kid: &str, claims: &serde_json::Value) -> String {
    sign_with(Algorithm::RS256, name, kid, claims)
}

/// A token with any header and payload and a junk signature.
fn unsigned(header: serde_json::Value, claims: &serde_json::Value, signature: &str) -> String {
    let token = format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    register_secret(token.clone());
    token
}

/// A stand-in of a Vercel issuer at `<server>/<prefix>`: its OpenID configuration and its JWKS,
/// which a test can change between runs.
struct Issuer {
    server: MockServer,
    prefix: &'static str,
    keys: Arc<Mutex<Vec<serde_json::Value>>>,
    /// What the OpenID configuration says the issuer is, when not the truth.
    claimed: Arc<Mutex<Option<String>>>,
    /// How long each answer takes.
    delay: Arc<Mutex<Duration>>,
}

impl Issuer {
    /// A team issuer (`/acme`) serving key1 as `k1`.
    fn start() -> Self {
        Self::start_at("/acme", vec![jwk("key1", "k1")])
    }

    fn start_at(prefix: &'static str, keys: Vec<serde_json::Value>) -> Self {
        let base: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
        let keys = Arc::new(Mutex::new(keys));
        let claimed: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let (b, k, c, d) = (base.clone(), keys.clone(), claimed.clone(), delay.clone());
        let server = MockServer::start(move |_, req: &Recorded| {
            let issuer = format!("{}{prefix}", b.get().unwrap());
            let reply = if req.path == format!("{prefix}{DISCOVERY_PATH}") {
                let claimed = c.lock().unwrap().clone();
                Reply::json(
                    200,
                    serde_json::json!({
                        "issuer": claimed.unwrap_or(issuer.clone()),
                        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
                        "id_token_signing_alg_values_supported": ["RS256"],
                    })
                    .to_string(),
                )
            } else if req.path == format!("{prefix}{JWKS_PATH}") {
                Reply::json(
                    200,
                    serde_json::json!({"keys": *k.lock().unwrap()}).to_string(),
                )
            } else {
                Reply::json(404, "{}")
            };
            reply.delayed(*d.lock().unwrap())
        });
        base.set(server.url()).unwrap();
        Self {
            server,
            prefix,
            keys,
            claimed,
            delay,
        }
    }

    fn url(&self) -> String {
        format!("{}{}", self.server.url(), self.prefix)
    }

    fn serve_keys(&self, keys: Vec<serde_json::Value>) {
        *self.keys.lock().unwrap() = keys;
    }

    /// The paths requested so far, in order, each checked to be a plain GET with no token.
    fn paths(&self) -> Vec<String> {
        self.server
            .requests()
            .iter()
            .map(|r| {
                assert_eq!(r.method, "GET");
                assert_eq!(r.header("accept"), Some("application/json"));
                assert_eq!(r.header("authorization"), None);
                assert!(r.body.is_empty());
                r.path.clone()
            })
            .collect()
    }

    fn discovery(&self) -> String {
        format!("{}{DISCOVERY_PATH}", self.prefix)
    }

    fn jwks(&self) -> String {
        format!("{}{JWKS_PATH}", self.prefix)
    }

    /// Claims of a production token of team `acme`, project `web`, from this issuer.
    fn claims(&self) -> serde_json::Value {
        let mut claims = common::claims(now() + 3600);
        claims["iss"] = self.url().into();
        claims
    }
}

/// Runs the binary with `input` on stdin.
fn run_with_stdin(sb: &Sandbox, args: &[&str], input: &str) -> Output {
    sb.command(args)
        .stdin(Stdin::Bytes(input.as_bytes().to_vec()))
        .output()
}

/// `vercel-oidc verify --issuer <issuer> --audience https://vercel.com/acme [extra] -`, the token
/// on stdin.
fn verify(sb: &Sandbox, issuer: &str, extra: &[&str], token: &str) -> Output {
    let mut args = vec!["verify", "--issuer", issuer, "--audience", AUDIENCE];
    args.extend_from_slice(extra);
    args.push("-");
    run_with_stdin(sb, &args, token)
}

fn assert_accepted(out: &Output, claims: &serde_json::Value) {
    assert_eq!(out.code, 0, "{out:?}");
    let printed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(&printed, claims);
    assert_eq!(out.stderr, "");
}

fn assert_rejected(out: &Output, message: &str) {
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.stdout, "", "nothing on stdout on failure");
    assert!(
        out.stderr.starts_with("error: ") && out.stderr.contains(message),
        "want {message:?} in:\n{}",
        out.stderr
    );
}

#[test]
fn good_token_prints_its_claims_and_the_keys_are_cached() {
    let issuer = Issuer::start();
    let sb = Sandbox::new();
    let claims = issuer.claims();
    let token = sign("key1", "k1", &claims);

    assert_accepted(&verify(&sb, &issuer.url(), &[], &token), &claims);
    assert_eq!(issuer.paths(), [issuer.discovery(), issuer.jwks()]);
    for request in issuer.server.requests() {
        let seen = format!("{request:?}");
        assert!(!seen.contains(&token), "the token was sent to the issuer");
    }
    let entries: Vec<_> = std::fs::read_dir(sb.cache_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let name = entries[0].file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with("jwks-"), "{name}");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&entries[0]).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // Warm cache: no request at all.
    assert_accepted(&verify(&sb, &issuer.url(), &[], &token), &claims);
    assert_eq!(issuer.server.count(), 2);

    // --no-cache fetches both documents again.
    assert_accepted(
        &verify(&sb, &issuer.url(), &["--no-cache"], &token),
        &claims,
    );
    assert_eq!(
        issuer.paths()[2..],
        [issuer.discovery(), issuer.jwks()],
        "--no-cache must fetch discovery and JWKS"
    );
}

#[test]
fn token_from_argument_environment_or_token_file() {
    let issuer = Issuer::start();
    let mut sb = Sandbox::new();
    let claims = issuer.claims();
    let token = sign("key1", "k1", &claims);
    let url = issuer.url();
    let base = ["verify", "--issuer", url.as_str(), "--audience", AUDIENCE];

    let with_arg = [&base[..], &[token.as_str()]].concat();
    assert_accepted(&sb.run(&with_arg), &claims);

    let path = sb.path().join("token.jwt");
    std::fs::write(&path, format!("{token}\n")).unwrap();
    let path = path.to_str().unwrap().to_string();
    let with_file = [&base[..], &["--token-file", path.as_str()]].concat();
    assert_accepted(&sb.run(&with_file), &claims);

    let both = [&base[..], &["--token-file", path.as_str(), "-"]].concat();
    assert_rejected(
        &run_with_stdin(&sb, &both, &token),
        "two tokens given: a TOKEN argument and --token-file",
    );

    assert_rejected(
        &run_with_stdin(&sb, &[&base[..], &["-"]].concat(), " \n"),
        "no token on stdin",
    );

    sb.set(vars::VERCEL_OIDC_TOKEN, token.as_str());
    assert_accepted(&sb.run(&base), &claims);

    // Issuer, audience and constraints from the environment alone.
    sb.set(vars::VERCEL_OIDC_VERIFY_ISSUER, url.as_str())
        .set(vars::VERCEL_OIDC_VERIFY_AUDIENCE, AUDIENCE)
        .set(vars::VERCEL_OIDC_VERIFY_PROJECT_ID, "prj_web123");
    assert_accepted(&sb.run(&["verify"]), &claims);
    sb.set(vars::VERCEL_OIDC_VERIFY_ENVIRONMENT, "preview,development");
    assert_rejected(
        &sb.run(&["verify"]),
        "environment mismatch: expected one of `preview`, `development` (found `production`)",
    );
    assert_eq!(
        issuer.server.count(),
        2,
        "every run after the first used the cache"
    );
}

#[test]
fn global_issuer_and_trailing_slashes() {
    let issuer = Issuer::start_at("", vec![jwk("key1", "k1")]);
    let sb = Sandbox::new();
    let mut claims = issuer.claims();
    claims["iss"] = format!("{}/", issuer.url()).into();
    let token = sign("key1", "k1", &claims);
    assert_accepted(
        &verify(&sb, &format!("{}/", issuer.url()), &[], &token),
        &claims,
    );
    assert_eq!(issuer.paths(), [DISCOVERY_PATH, JWKS_PATH]);
}

#[test]
fn claim_mismatches_name_the_check() {
    let issuer = Issuer::start();
    let sb = Sandbox::new();
    let url = issuer.url();
    let good = issuer.claims();
    let with = |claim: &str, value: &str| {
        let mut c = good.clone();
        c[claim] = value.into();
        c
    };
    let expected_issuer =
        format!("issuer mismatch: expected `{url}` (found `https://oidc.vercel.com/acme`)");
    let cases: Vec<(serde_json::Value, Vec<&str>, &str)> = vec![
        (
            with("iss", "https://oidc.vercel.com/acme"),
            vec![],
            &expected_issuer,
        ),
        (
            with("aud", "https://vercel.com/other"),
            vec![],
            "audience mismatch: expected `https://vercel.com/acme` (found `https://vercel.com/other`)",
        ),
        (
            good.clone(),
            vec!["--project-id", "prj_other"],
            "project id mismatch: expected `prj_other` (found `prj_web123`)",
        ),
        (
            with("environment", "preview"),
            vec!["--environment", "production"],
            "environment mismatch: expected `production` (found `preview`)",
        ),
        (
            good.clone(),
            vec!["--owner-id", "team_other"],
            "owner id mismatch: expected `team_other` (found `team_acme123`)",
        ),
        (
            good.clone(),
            vec!["--project", "api", "--project", "docs"],
            "project mismatch: expected one of `api`, `docs` (found `web`)",
        ),
        (
            good.clone(),
            vec!["--sub", "owner:acme:project:web:environment:preview"],
            "subject mismatch: expected `owner:acme:project:web:environment:preview` (found `owner:acme:project:web:environment:production`)",
        ),
    ];
    for (claims, extra, message) in cases {
        let token = sign("key1", "k1", &claims);
        assert_rejected(&verify(&sb, &url, &extra, &token), message);
    }

    let token = sign("key1", "k1", &good);
    let every = [
        "--project-id",
        "prj_web123",
        "--project",
        "web",
        "--environment",
        "preview,production",
        "--owner-id",
        "team_acme123",
        "--owner",
        "acme",
        "--sub",
        "owner:acme:project:web:environment:production",
    ];
    assert_accepted(&verify(&sb, &url, &every, &token), &good);
    assert_eq!(
        issuer.server.count(),
        2,
        "one discovery and one JWKS fetch in all"
    );
}

#[test]
fn expiry_and_not_before_within_the_leeway() {
    let issuer = Issuer::start();
    let sb = Sandbox::new();
    let url = issuer.url();
    let at = |exp: i64, nbf: i64| {
        let mut c = issuer.claims();
        c["exp"] = exp.into();
        c["nbf"] = nbf.into();
        c["iat"] = nbf.into();
        c
    };

    let expired = at(now() - 120, now() - 3720);
    let token = sign("key1", "k1", &expired);
    assert_rejected(&verify(&sb, &url, &[], &token), "token expired: `exp` is ");
    assert_accepted(&verify(&sb, &url, &["--leeway", "300"], &token), &expired);

    let just_expired = at(now() - 20, now() - 3620);
    let token = sign("key1", "k1", &just_expired);
    assert_accepted(&verify(&sb, &url, &[], &token), &just_expired);
    assert_rejected(
        &verify(&sb, &url, &["--leeway", "0"], &token),
        "beyond the 0s leeway",
    );

    let early = at(now() + 4200, now() + 600);
    let token = sign("key1", "k1", &early);
    assert_rejected(
        &verify(&sb, &url, &[], &token),
        "token not yet valid: `nbf` is ",
    );

    let slightly_early = at(now() + 3630, now() + 30);
    let token = sign("key1", "k1", &slightly_early);
    assert_accepted(&verify(&sb, &url, &[], &token), &slightly_early);

    assert_rejected(
        &verify(&sb, &url, &["--leeway", "301"], &token),
        "leeway 301s is too large",
    );
}

#[test]
fn other_algorithms_are_refused_before_any_key_lookup() {
    let issuer = Issuer::start();
    let sb = Sandbox::new();
    let url = issuer.url();
    let claims = issuer.claims();
    let public_pem = fixture("key1.pub.pem");
    let jwks_text = serde_json::json!({"keys": [jwk("key1", "k1")]}).to_string();
    let hmac = |secret: &[u8]| {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".into());
        let token =
            jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret)).unwrap();
        register_secret(token.clone());
        token
    };
    let cases = [
        (
            unsigned(serde_json::json!({"alg": "none", "kid": "k1"}), &claims, ""),
            "none",
        ),
        (
            unsigned(
                serde_json::json!({"alg": "None", "typ": "JWT"}),
                &claims,
                "",
            ),
            "None",
        ),
        (hmac(&public_pem), "HS256"),
        (hmac(jwks_text.as_bytes()), "HS256"),
        (sign_with(Algorithm::RS512, "key1", "k1", &claims), "RS512"),
        (sign_with(Algorithm::PS256, "key1", "k1", &claims), "PS256"),
    ];
    for (token, alg) in cases {
        assert_rejected(
            &verify(&sb, &url, &[], &token),
            &format!("algorithm not allowed: expected `RS256` (found `{alg}`)"),
        );
    }
    let no_kid = unsigned(serde_json::json!({"alg": "RS256"}), &claims, "c2ln");
    assert_rejected(&verify(&sb, &url, &[], &no_kid), "no key id");
    assert_rejected(
        &verify(&sb, &url, &[], "not-a-jwt"),
        "malformed token: it has 1 part(s), not 3",
    );
    assert_eq!(issuer.server.count(), 0, "refused before any request");
}

#[test]
fn rotated_key_refetches_the_jwks_once() {
    let issuer = Issuer::start();
    let sb = Sandbox::new();
    let url = issuer.url();
    let claims = issuer.claims();
    assert_accepted(
        &verify(&sb, &url, &[], &sign("key1", "k1", &claims)),
        &claims,
    );
    assert_eq!(issuer.paths(), [issuer.discovery(), issuer.jwks()]);

    // The issuer rotates: k2 is new, and not in the cached JWKS.
    issuer.serve_keys(vec![jwk("key1", "k1"), jwk("key2", "k2")]);
    let rotated = sign("key2", "k2", &claims);
    assert_accepted(&verify(&sb, &url, &[], &rotated), &claims);
    assert_eq!(
        issuer.paths(),
        [issuer.discovery(), issuer.jwks(), issuer.jwks()],
        "one JWKS refetch, no new discovery"
    );
    // The refetched keys are cached.
    assert_accepted(&verify(&sb, &url, &[], &rotated), &claims);
    assert_eq!(issuer.server.count(), 3);

    // A key the issuer never had, within 30 s of that refetch: refused from the cached keys
    // with no request (tests/hostile_input.rs covers the refetch once the 30 s have passed).
    let stranger = sign("key3", "k3", &claims);
    assert_rejected(
        &verify(&sb, &url, &[], &stranger),
        &format!(
            "unknown signing key: expected a `kid` of the JWKS at `{url}{JWKS_PATH}`, one of `k1`, `k2` (found `k3`)"
        ),
    );
    assert_eq!(issuer.server.count(), 3);
}

#[test]
fn unknown_key_with_a_cold_cache_fetches_once() {
    let issuer = Issuer::start();
    let sb = Sandbox::new();
    let stranger = sign("key3", "k3", &issuer.claims());
    assert_rejected(
        &verify(&sb, &issuer.url(), &[], &stranger),
        "unknown signing key",
    );
    assert_eq!(issuer.paths(), [issuer.discovery(), issuer.jwks()]);
}

#[test]
fn concurrent_cold_checks_fetch_once() {
    let issuer = Issuer::start();
    *issuer.delay.lock().unwrap() = Duration::from_millis(300);
    let sb = Sandbox::new();
    let url = issuer.url();
    let claims = issuer.claims();
    let token = sign("key1", "k1", &claims);
    let runs: Vec<Output> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| verify(&sb, &url, &[], &token)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for out in &runs {
        assert_accepted(out, &claims);
    }
    assert_eq!(
        issuer.paths(),
        [issuer.discovery(), issuer.jwks()],
        "six processes with a cold cache fetch once between them"
    );
}

#[test]
fn tampered_tokens_fail_the_signature_check() {
    let issuer = Issuer::start();
    issuer.serve_keys(vec![jwk("key1", "k1"), jwk("key2", "k2")]);
    let sb = Sandbox::new();
    let url = issuer.url();
    let claims = issuer.claims();
    let token = sign("key1", "k1", &claims);
    let parts: Vec<&str> = token.split('.').collect();

    let mut elevated = claims.clone();
    elevated["project_id"] = "prj_admin".into();
    elevated["environment"] = "production".into();
    let payload = URL_SAFE_NO_PAD.encode(elevated.to_string());
    let tampered = format!("{}.{payload}.{}", parts[0], parts[2]);
    register_secret(tampered.clone());
    assert_rejected(
        &verify(&sb, &url, &["--project-id", "prj_admin"], &tampered),
        &format!("bad signature: expected a signature by key `k1` of `{url}`"),
    );

    // Signed by key2 but claiming to be k1.
    let swapped = sign("key2", "k1", &claims);
    assert_rejected(&verify(&sb, &url, &[], &swapped), "bad signature");

    let truncated = format!("{}.{}.{}", parts[0], parts[1], &parts[2][..40]);
    register_secret(truncated.clone());
    assert_rejected(&verify(&sb, &url, &[], &truncated), "bad signature");
}

#[test]
fn discovery_naming_another_issuer_is_refused() {
    let issuer = Issuer::start();
    *issuer.claimed.lock().unwrap() = Some("https://oidc.vercel.com/acme".into());
    let sb = Sandbox::new();
    let url = issuer.url();
    let token = sign("key1", "k1", &issuer.claims());
    assert_rejected(
        &verify(&sb, &url, &[], &token),
        &format!(
            "discovery issuer mismatch: expected `{url}` (found `https://oidc.vercel.com/acme` in `{url}{DISCOVERY_PATH}`)"
        ),
    );
    assert_eq!(issuer.paths(), [issuer.discovery()], "no JWKS fetched");
}

#[test]
fn issuer_errors_say_what_failed() {
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sb = Sandbox::new();
    let issuer = format!("http://127.0.0.1:{port}/acme");
    let claims = common::claims(now() + 3600);
    let token = sign("key1", "k1", &claims);
    let started = std::time::Instant::now();
    assert_rejected(
        &verify(&sb, &issuer, &[], &token),
        &format!("cannot fetch the OpenID configuration from `{issuer}{DISCOVERY_PATH}`"),
    );
    assert!(started.elapsed() < Duration::from_secs(8));

    // A wrong path: 404 on discovery, not retried.
    let real = Issuer::start();
    let wrong = format!("{}/nobody", real.server.url());
    let out = verify(&sb, &wrong, &[], &token);
    assert_rejected(&out, "HTTP 404 Not Found");
    assert!(
        out.stderr
            .contains("check that --issuer is the issuer itself"),
        "{}",
        out.stderr
    );
    assert_eq!(real.server.count(), 1);

    // Not a Vercel issuer at all.
    let html = MockServer::start(|_, _| Reply::new(200, "text/html", "<html>hello</html>"));
    let out = verify(&sb, &html.url(), &[], &token);
    assert_rejected(
        &out,
        &format!(
            "the OpenID configuration at `{}{DISCOVERY_PATH}` is unusable: it is not JSON",
            html.url()
        ),
    );
}

#[test]
fn settings_are_checked_before_any_request() {
    let issuer = Issuer::start();
    let sb = Sandbox::new();
    let token = sign("key1", "k1", &issuer.claims());
    let url = issuer.url();
    let cases: [(Vec<&str>, &str); 4] = [
        (
            vec!["verify", "--audience", AUDIENCE, "-"],
            "no issuer to trust\n  pass --issuer or set VERCEL_OIDC_VERIFY_ISSUER",
        ),
        (
            vec!["verify", "--issuer", &url, "-"],
            "no audience to require\n  pass --audience or set VERCEL_OIDC_VERIFY_AUDIENCE",
        ),
        (
            vec![
                "verify",
                "--issuer",
                "http://oidc.example.com/acme",
                "--audience",
                AUDIENCE,
                "-",
            ],
            "`http://oidc.example.com/acme` is plain http",
        ),
        (
            vec![
                "verify",
                "--issuer",
                &url,
                "--audience",
                AUDIENCE,
                "--environment",
                "",
                "-",
            ],
            "--environment was given an empty value",
        ),
    ];
    for (args, message) in cases {
        assert_rejected(&run_with_stdin(&sb, &args, &token), message);
    }
    assert_eq!(issuer.server.count(), 0);
}

#[test]
fn help_names_every_environment_variable() {
    // With a token at hand, which help must not show.
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, common::fresh_token());
    let out = sb.run(&["verify", "--help"]);
    assert_eq!(out.code, 0, "{out:?}");
    for var in [
        vars::VERCEL_OIDC_VERIFY_ISSUER,
        vars::VERCEL_OIDC_VERIFY_AUDIENCE,
        vars::VERCEL_OIDC_VERIFY_LEEWAY,
        vars::VERCEL_OIDC_VERIFY_PROJECT_ID,
        vars::VERCEL_OIDC_VERIFY_PROJECT,
        vars::VERCEL_OIDC_VERIFY_ENVIRONMENT,
        vars::VERCEL_OIDC_VERIFY_OWNER_ID,
        vars::VERCEL_OIDC_VERIFY_OWNER,
        vars::VERCEL_OIDC_VERIFY_SUB,
        vars::VERCEL_OIDC_NO_CACHE,
    ] {
        assert!(
            out.stdout.contains(var),
            "{var} missing from:\n{}",
            out.stdout
        );
    }
}
