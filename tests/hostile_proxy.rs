//! The proxy rule (issue 15, item 3), through the real binary: with the proxy variables naming a
//! stand-in proxy that records whatever reaches it, every exchange whose endpoint is on this
//! machine (plain http, or https for Entra ID) goes there directly and the proxy gets nothing:
//! AWS STS, Google STS and IAM Credentials, Entra ID, the Vercel API's mint, and `verify`'s
//! discovery and JWKS. A token for a plain-http endpoint on another machine is refused before
//! anything is sent, to the endpoint or to the proxy.
//!
//! Each case asserts the exit code, the exact stdout and stderr, what the endpoint received,
//! and that the proxy received nothing.

mod common;

use std::path::Path;
use vercel_oidc::vars;

use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/vercel-deploy";
const SA: &str = "deploy@my-project.iam.gserviceaccount.com";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SCOPE: &str = "https://management.azure.com/.default";
const STS_TOKEN: &str = "ya29.c.federated-sts-token-0123456789";
const GOOGLE_ACCESS: &str = "ya29.c.impersonated-access-token-0123";
const ENTRA_ACCESS: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-access.sig";

/// The names a proxy may be given in: the ones this tool reads (`HTTPS_PROXY`, else
/// `https_proxy`) and those others read (`HTTP_PROXY` and `ALL_PROXY`, as curl does).
const ALL_PROXY_VARS: &[&str] = &[
    vars::HTTPS_PROXY,
    "https_proxy",
    vars::HTTP_PROXY,
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// A stand-in proxy: it records every request (a forwarded `POST http://…` or a `CONNECT`) and
/// answers 502, as a proxy that cannot reach the endpoint would.
fn recording_proxy() -> MockServer {
    MockServer::start(|_, _| Reply::new(502, "text/plain", "bad gateway"))
}

/// Points each of `names` at `proxy`, with a `NO_PROXY` that does not name this machine.
fn through(sb: &mut Sandbox, proxy: &MockServer, names: &[&str]) {
    for name in names {
        sb.set(name, proxy.url());
    }
    sb.set(vars::NO_PROXY, "example.com,.internal");
}

#[track_caller]
fn assert_succeeds(out: &Output, stdout: &str) {
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (0, stdout, ""),
        "\n--- stderr was:\n{}",
        out.stderr
    );
}

/// `(method, path)` of each request `server` received, the query left out.
fn requests(server: &MockServer) -> Vec<(String, String)> {
    server
        .requests()
        .iter()
        .map(|r| {
            let path = r.path.split('?').next().unwrap().to_string();
            (r.method.clone(), path)
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect()
}

// --- AWS STS ----------------------------------------------------------------------------------

/// The STS answer, and the `credential_process` line it makes.
fn sts_answer() -> (Reply, String) {
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzPROXYRULEKEY";
    let session = "FwoGZXIvYXdzEKnSESSIONTOKENproxyrule";
    register_secret(secret);
    register_secret(session);
    let expiration = rfc3339_in(3600);
    let reply = Reply::xml(
        200,
        format!(
            r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>ASIAPROXYRULETEST0001</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{session}</SessionToken><Expiration>{expiration}</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"#
        ),
    );
    let line = format!(
        r#"{{"Version":1,"AccessKeyId":"ASIAPROXYRULETEST0001","SecretAccessKey":"{secret}","SessionToken":"{session}","Expiration":"{expiration}"}}"#
    );
    (reply, format!("{line}\n"))
}

/// AWS STS on this machine over plain http, named by address or as `localhost`, with the
/// proxy in each variable alone and in all of them: STS gets the one request.
#[test]
fn aws_sts_on_this_machine_is_reached_directly() {
    let by_one = ALL_PROXY_VARS.iter().map(std::slice::from_ref);
    for names in by_one.chain([ALL_PROXY_VARS]) {
        for host in ["127.0.0.1", "localhost"] {
            let (reply, want) = sts_answer();
            let sts = MockServer::start(move |_, _| reply.clone());
            let proxy = recording_proxy();
            let mut sb = Sandbox::new();
            let endpoint = format!("http://{host}:{}", sts.addr.port());
            sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
                .set(vars::AWS_ENDPOINT_URL_STS, endpoint);
            through(&mut sb, &proxy, names);
            let out = sb
                .command(&["aws", "credential-process", "--role-arn", ROLE])
                .reveals("wJalrXUtnFEMI/K7MDENG/bPxRfiCYzPROXYRULEKEY")
                .reveals("FwoGZXIvYXdzEKnSESSIONTOKENproxyrule")
                .output();
            assert_succeeds(&out, &want);
            assert_eq!(requests(&sts), pairs(&[("POST", "/")]), "{names:?} {host}");
            assert_eq!(proxy.count(), 0, "{names:?} {host}: the proxy was used");
        }
    }
}

// --- Google STS and IAM Credentials -----------------------------------------------------------

fn google() -> MockServer {
    register_secret(STS_TOKEN);
    register_secret(GOOGLE_ACCESS);
    let expire = rfc3339_in(3600);
    MockServer::start(move |_, req| match req.path.as_str() {
        "/v1/token" => Reply::json(
            200,
            format!(
                r#"{{"access_token":"{STS_TOKEN}","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3600}}"#
            ),
        ),
        _ => Reply::json(
            200,
            format!(r#"{{"accessToken":"{GOOGLE_ACCESS}","expireTime":"{expire}"}}"#),
        ),
    })
}

/// Google STS and IAM Credentials on this machine over plain http, every proxy variable set:
/// both get their request, with the Vercel token and the STS token.
#[test]
fn google_sts_and_impersonation_on_this_machine_are_reached_directly() {
    let server = google();
    let proxy = recording_proxy();
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone())
        .set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme")
        .set(vars::GCP_SERVICE_ACCOUNT_EMAIL, SA)
        .set(
            vars::VERCEL_OIDC_GCP_TOKEN_URL,
            format!("{}/v1/token", server.url()),
        )
        .set(vars::VERCEL_OIDC_GCP_IMPERSONATION_URL, server.url());
    through(&mut sb, &proxy, ALL_PROXY_VARS);
    let out = sb
        .command(&["gcp", "access-token"])
        .reveals(GOOGLE_ACCESS)
        .output();
    assert_succeeds(&out, &format!("{GOOGLE_ACCESS}\n"));
    let iam = format!("/v1/projects/-/serviceAccounts/{SA}:generateAccessToken");
    assert_eq!(
        requests(&server),
        pairs(&[("POST", "/v1/token"), ("POST", &iam)])
    );
    let reqs = server.requests();
    assert_eq!(reqs[0].form_value("subject_token"), Some(token));
    let bearer = format!("Bearer {STS_TOKEN}");
    assert_eq!(reqs[1].header("authorization"), Some(bearer.as_str()));
    assert_eq!(proxy.count(), 0, "the proxy was used");
}

// --- Entra ID ---------------------------------------------------------------------------------

/// Entra ID on this machine (https, as every Azure client requires), every proxy variable set:
/// the authority gets the request directly, not through a `CONNECT` to the proxy.
#[test]
fn entra_id_on_this_machine_is_reached_directly() {
    register_secret(ENTRA_ACCESS);
    let authority = MockServer::start_tls(|_, _| {
        Reply::json(
            200,
            format!(
                r#"{{"token_type":"Bearer","expires_in":3599,"access_token":"{ENTRA_ACCESS}"}}"#
            ),
        )
    });
    let proxy = recording_proxy();
    let mut sb = Sandbox::new();
    let ca = authority.write_ca(sb.path());
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone())
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_CLIENT_ID, CLIENT)
        .set(vars::AZURE_AUTHORITY_HOST, authority.url())
        .set(vars::SSL_CERT_FILE, ca.display().to_string());
    through(&mut sb, &proxy, ALL_PROXY_VARS);
    let out = sb
        .command(&["azure", "access-token", "--scope", SCOPE])
        .reveals(ENTRA_ACCESS)
        .output();
    assert_succeeds(&out, &format!("{ENTRA_ACCESS}\n"));
    let path = format!("/{TENANT}/oauth2/v2.0/token");
    assert_eq!(requests(&authority), pairs(&[("POST", &path)]));
    assert_eq!(
        authority.requests()[0].form_value("client_assertion"),
        Some(token)
    );
    assert_eq!(proxy.count(), 0, "the proxy was used");
}

// --- the Vercel API ---------------------------------------------------------------------------

/// The Vercel API on this machine over plain http, every proxy variable set: the mint gets the
/// CLI login's bearer directly, and the fresh token is the one used.
#[test]
fn vercel_api_on_this_machine_is_reached_directly() {
    let minted = jwt(&claims(now() + 12 * 3600));
    let answer = minted.clone();
    let api = MockServer::start(move |_, _| Reply::json(200, format!(r#"{{"token":"{answer}"}}"#)));
    let proxy = recording_proxy();
    let (mut sb, app) = linked_project(&api);
    through(&mut sb, &proxy, ALL_PROXY_VARS);
    let out = sb
        .command(&["token", "--print"])
        .current_dir(&app)
        .reveals(minted.clone())
        .output();
    assert_succeeds(&out, &format!("{minted}\n"));
    assert_eq!(
        requests(&api),
        pairs(&[("POST", "/v1/projects/prj_web123/token")])
    );
    assert_eq!(
        api.requests()[0].header("authorization"),
        Some("Bearer cli-login-token-value")
    );
    assert_eq!(proxy.count(), 0, "the proxy was used");
}

// --- verify -----------------------------------------------------------------------------------

fn fixture_key() -> jsonwebtoken::EncodingKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/verify/key1.der");
    jsonwebtoken::EncodingKey::from_rsa_der(&std::fs::read(path).unwrap())
}

fn jwks() -> String {
    let jwk =
        jsonwebtoken::jwk::Jwk::from_encoding_key(&fixture_key(), jsonwebtoken::Algorithm::RS256)
            .unwrap();
    let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = jwk.algorithm else {
        panic!("not an RSA key")
    };
    serde_json::json!({"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1", "n": rsa.n, "e": rsa.e}]})
        .to_string()
}

/// `verify` against an issuer on this machine over plain http, every proxy variable set: the
/// discovery document and the JWKS are fetched directly.
#[test]
fn verify_fetches_from_an_issuer_on_this_machine_directly() {
    let keys = jwks();
    let issuer = MockServer::start(move |_, req| {
        let issuer = format!("http://{}/acme", req.header("host").unwrap());
        match req.path.as_str() {
            "/acme/.well-known/openid-configuration" => Reply::json(
                200,
                serde_json::json!({"issuer": issuer, "jwks_uri": format!("{issuer}/.well-known/jwks")})
                    .to_string(),
            ),
            "/acme/.well-known/jwks" => Reply::json(200, keys.clone()),
            _ => Reply::json(404, "{}"),
        }
    });
    let proxy = recording_proxy();
    let url = format!("{}/acme", issuer.url());
    let mut claims = claims(now() + 3600);
    claims["iss"] = url.clone().into();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".into());
    let token = jsonwebtoken::encode(&header, &claims, &fixture_key()).unwrap();
    register_secret(token.clone());
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, token);
    through(&mut sb, &proxy, ALL_PROXY_VARS);
    let out = sb.run(&[
        "verify",
        "--issuer",
        &url,
        "--audience",
        "https://vercel.com/acme",
    ]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{out:?}");
    let printed: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(printed, claims);
    assert_eq!(
        requests(&issuer),
        pairs(&[
            ("GET", "/acme/.well-known/openid-configuration"),
            ("GET", "/acme/.well-known/jwks"),
        ])
    );
    assert_eq!(proxy.count(), 0, "the proxy was used");
}

// --- a token in the clear to another machine --------------------------------------------------

/// A plain-http STS on another machine, with a proxy that would carry the request in the clear:
/// refused before anything is sent, naming the endpoint and what to do.
#[test]
fn a_token_for_plain_http_elsewhere_is_refused_before_the_proxy_sees_it() {
    let proxy = recording_proxy();
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::AWS_ENDPOINT_URL_STS, "http://sts.example.net");
    through(&mut sb, &proxy, ALL_PROXY_VARS);
    let out = sb.run(&["aws", "credential-process", "--role-arn", ROLE]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            1,
            "",
            "error: cannot use the STS endpoint: `http://sts.example.net` is plain http; the token would cross the network unencrypted: use https\n  fix --region, AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL\n"
        )
    );
    assert_eq!(proxy.count(), 0, "the proxy was used");
}
