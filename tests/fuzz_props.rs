//! Property tests: every parser that reads outside bytes, fed mutations of valid inputs from a
//! fixed-seed generator, must not panic and must keep the invariants that
//! `vercel_oidc::fuzzing` and each cloud's `fuzz` module check (see the table of `fuzzing`). Stable toolchain, bounded: a few thousand
//! inputs per target by default, a few seconds in all; `FUZZ_PROPS_ITERATIONS=N` runs N per
//! target (with `--release` for long runs). The same targets run unbounded under cargo-fuzz
//! from `tests/fuzz/` (README, "Fuzzing").
//!
//! A failure prints the target, the iteration and the input (escaped), which replays with
//! `vercel_oidc::fuzzing::<target>(input)` (or `vercel_oidc::<cloud>::fuzz::<target>`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use vercel_oidc::{aws, azure, fuzzing, gcp};

/// Inputs per target unless `FUZZ_PROPS_ITERATIONS` says otherwise.
const DEFAULT_ITERATIONS: usize = 3000;
/// The longest input tried.
const MAX_LEN: usize = 16 * 1024;

fn iterations(weight: usize) -> usize {
    let n = std::env::var("FUZZ_PROPS_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_ITERATIONS);
    (n / weight).max(1)
}

/// Changes `input` in one to four random ways: bits, bytes, ranges, dictionary words, splices
/// from other seeds, truncation.
fn mutate(rng: &mut fastrand::Rng, input: &mut Vec<u8>, dict: &[&[u8]], seeds: &[Vec<u8>]) {
    for _ in 0..rng.usize(1..=4) {
        let len = input.len();
        let at = rng.usize(0..=len);
        match rng.u8(0..10) {
            0 if len > 0 => {
                let i = rng.usize(0..len);
                input[i] ^= 1 << rng.u8(0..8);
            }
            1 if len > 0 => {
                let i = rng.usize(0..len);
                input[i] = rng.u8(..);
            }
            2 => input.insert(at, rng.u8(..)),
            3 if len > 0 => {
                let end = (at + rng.usize(1..=16)).min(len);
                input.drain(at.min(end)..end);
            }
            4 if len > 0 => {
                let start = rng.usize(0..len);
                let end = (start + rng.usize(1..=32)).min(len);
                let piece = input[start..end].to_vec();
                let to = rng.usize(0..=input.len());
                input.splice(to..to, piece);
            }
            5 | 6 if !dict.is_empty() => {
                let word = dict[rng.usize(0..dict.len())];
                input.splice(at..at, word.iter().copied());
            }
            7 => {
                let other = &seeds[rng.usize(0..seeds.len())];
                if !other.is_empty() {
                    let start = rng.usize(0..other.len());
                    let end = (start + rng.usize(1..=64)).min(other.len());
                    input.splice(at..at, other[start..end].iter().copied());
                }
            }
            8 => input.truncate(at),
            _ => {
                let digits: &[&[u8]] = &[
                    b"0",
                    b"-1",
                    b"9223372036854775807",
                    b"18446744073709551616",
                    b"1e309",
                    b"-9223372036854775808",
                    b"0.5",
                ];
                let word = digits[rng.usize(0..digits.len())];
                input.splice(at..at, word.iter().copied());
            }
        }
    }
    input.truncate(MAX_LEN);
}

/// Feeds `target` with the seeds themselves, then with `iterations(weight)` mutations, each of
/// a seed or (half the time) of the previous input; reports the first input that panics.
fn run(name: &str, seed: u64, weight: usize, seeds: &[Vec<u8>], dict: &[&[u8]], target: fn(&[u8])) {
    let check = |input: &[u8], i: usize| {
        if std::panic::catch_unwind(|| target(input)).is_err() {
            panic!(
                "fuzzing::{name} failed at iteration {i} (seed {seed:#x}) on the input\n{:?}",
                String::from_utf8_lossy(input)
            );
        }
    };
    for (i, s) in seeds.iter().enumerate() {
        check(s, i);
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut input = seeds[0].clone();
    for i in 0..iterations(weight) {
        if rng.bool() {
            input = seeds[rng.usize(0..seeds.len())].clone();
        }
        mutate(&mut rng, &mut input, dict, seeds);
        check(&input, i);
    }
}

fn b64(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn jwt(claims: serde_json::Value) -> Vec<u8> {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&serde_json::json!({"alg": "RS256", "kid": "k1", "typ": "JWT"})),
        b64(&claims)
    )
    .into_bytes()
}

fn claims() -> serde_json::Value {
    serde_json::json!({
        "iss": "https://oidc.vercel.com/acme",
        "sub": "owner:acme:project:web:environment:production",
        "aud": "https://vercel.com/acme",
        "iat": 1795000000, "nbf": 1795000000, "exp": 1795003600,
        "owner": "acme", "owner_id": "team_acme", "project": "web", "project_id": "prj_web",
        "environment": "production",
    })
}

const JSON_WORDS: &[&[u8]] = &[
    b"{", b"}", b"[", b"]", b"\"", b":", b",", b"null", b"true", b"\\u0000", b"\\ud800", b"\\\"",
    b"1e999", b"-0", b" ", b"\n",
];

#[test]
fn token_claims() {
    let mut list = claims();
    list["aud"] = serde_json::json!(["a", "b"]);
    let mut huge = claims();
    huge["exp"] = serde_json::json!(i64::MAX);
    let mut float = claims();
    float["exp"] = serde_json::json!(1795003600.5);
    let seeds = vec![
        jwt(claims()),
        jwt(list),
        jwt(huge),
        jwt(float),
        b"a.b.c".to_vec(),
        b"eyJhbGciOiJub25lIn0.eyJleHAiOjF9.".to_vec(),
    ];
    let dict: &[&[u8]] = &[b".", b"=", b"eyJ", b"e30", b"AAAA", b"-", b"_", b" ", b"\n"];
    run("token", 0x7031_0001, 1, &seeds, dict, fuzzing::token);
}

#[test]
fn dotenv_local() {
    let seeds = vec![
        b"# Created by Vercel CLI\nVERCEL_OIDC_TOKEN=\"a.b.c\"\nVERCEL_ENV=\"development\"\n"
            .to_vec(),
        b"\xEF\xBB\xBFexport\tVERCEL_OIDC_TOKEN='x.y.z' # comment\r\nOTHER=\"caf\xe9\"\r\n"
            .to_vec(),
        b"VERCEL_OIDC_TOKEN=\"line\\nnext\\\"q\\\"\"\nVERCEL_OIDC_TOKEN=bare value # c\n".to_vec(),
        Vec::new(),
    ];
    let dict: &[&[u8]] = &[
        b"VERCEL_OIDC_TOKEN",
        b"=",
        b"\"",
        b"'",
        b"\\",
        b"#",
        b"export ",
        b"export\t",
        b"\n",
        b"\r\n",
        b"\xEF\xBB\xBF",
        b"\xff",
        b" #",
    ];
    run("dotenv", 0x7031_0002, 1, &seeds, dict, fuzzing::dotenv);
}

#[test]
fn sts_responses() {
    let seeds = vec![
        br#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>owner:acme:project:web:environment:production</SubjectFromWebIdentityToken>
    <Credentials>
      <SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <Expiration>2026-11-26T13:00:00.123Z</Expiration>
      <AccessKeyId>ASIAEXAMPLE123456789</AccessKeyId>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
</AssumeRoleWithWebIdentityResponse>"#
            .to_vec(),
        br#"<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized</Message></Error></ErrorResponse>"#.to_vec(),
    ];
    let dict: &[&[u8]] = &[
        b"<",
        b">",
        b"</",
        b"/>",
        b"&amp;",
        b"&#10;",
        b"&#0;",
        b"<![CDATA[",
        b"]]>",
        b"<!DOCTYPE x [<!ENTITY a \"b\">]>",
        b"<Credentials>",
        b"</Credentials>",
        b"<Expiration>",
        b"9999-12-31T23:59:59Z",
        b"+14:00",
        b"xmlns:a=\"x\"",
        b"<a:Credentials>",
    ];
    run("sts_xml", 0x7031_0003, 1, &seeds, dict, aws::fuzz::sts_xml);
}

#[test]
fn gcp_responses() {
    let seeds = vec![
        br#"{"access_token":"ya29.x","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":3599}"#.to_vec(),
        br#"{"access_token":"a","expires_in":"60"}"#.to_vec(),
        br#"{"access_token":"a","expires_in":9223372036854775807}"#.to_vec(),
        br#"{"accessToken":"a","expireTime":"9999-12-31T23:59:59Z"}"#.to_vec(),
        br#"{"accessToken":"ya29.sa","expireTime":"2026-11-26T13:00:00Z"}"#.to_vec(),
        br#"{"error":"invalid_grant","error_description":"The audience in ID Token does not match."}"#.to_vec(),
        br#"{"error":{"code":403,"message":"Permission denied","status":"PERMISSION_DENIED"}}"#.to_vec(),
    ];
    run(
        "gcp_json",
        0x7031_0004,
        1,
        &seeds,
        JSON_WORDS,
        gcp::fuzz::gcp_json,
    );
}

#[test]
fn entra_responses() {
    let seeds = vec![
        br#"{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAi.x"}"#.to_vec(),
        br#"{"token_type":"Bearer","expires_in":"3599","access_token":"t"}"#.to_vec(),
        br#"{"token_type":"Bearer","expires_in":9223372036854775807,"access_token":"t"}"#.to_vec(),
        br#"{"error":"invalid_client","error_description":"AADSTS70021: No matching federated identity record found.\r\nTrace ID: t","error_codes":[70021],"trace_id":"t","correlation_id":"c"}"#.to_vec(),
    ];
    run(
        "entra_json",
        0x7031_0005,
        1,
        &seeds,
        JSON_WORDS,
        azure::fuzz::entra_json,
    );
}

#[test]
fn cache_entries() {
    let seeds = vec![
        br#"{"expires_at":1900000000,"value":{"Version":1,"AccessKeyId":"ASIA","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-01T00:00:00Z"}}"#.to_vec(),
        br#"{"expires_at":1,"value":{}}"#.to_vec(),
        // The far past and future of an i64: an expiry check that overflows would serve these.
        br#"{"expires_at":-9223372036854775808,"value":{"a":[1,2.5,"x",null]}}"#.to_vec(),
        br#"{"expires_at":9223372036854775807,"value":"forever"}"#.to_vec(),
        b"{".to_vec(),
    ];
    // Each input is a file written and read: fewer of them.
    run(
        "cache_entry",
        0x7031_0006,
        10,
        &seeds,
        JSON_WORDS,
        fuzzing::cache_entry,
    );
}

#[test]
fn project_config() {
    let seeds = vec![
        br#"[aws]
role_arn = "arn:aws:iam::123456789012:role/vercel-preview"
region = "eu-west-1"
policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]

[gcp]
project_number = 123456789012
pool = "vercel"
provider = "vercel"
source = "executable"

[azure]
tenant_id = "00000000-0000-0000-0000-000000000000"

[production.aws]
role_arn = "arn:aws:iam::123456789012:role/vercel-production"
"#
        .to_vec(),
        b"[gcp]\nproject_number = \"123\"\nscopes = []\n".to_vec(),
    ];
    let dict: &[&[u8]] = &[
        b"[",
        b"]",
        b"[[",
        b"=",
        b"\"",
        b"'''",
        b"\"\"\"",
        b"\n",
        b"#",
        b"[preview.gcp]",
        b"[development.azure]",
        b"duration_seconds = 99999999999",
        b"{a = 1}",
        b"\\u0000",
    ];
    run(
        "project_toml",
        0x7031_0007,
        1,
        &seeds,
        dict,
        fuzzing::project_toml,
    );
}

#[test]
fn aws_config_editor() {
    let seeds = vec![
        b"# my settings\n[default]\nregion = us-east-1\n\n[profile vercel]\nregion = eu-west-1\ns3 =\n  max_concurrent_requests = 20\ncredential_process = old\n\n[profile other]\noutput = json\n".to_vec(),
        b"[ profile  vercel ]\r\nrole_arn = x\r\n; comment\r\n[sso-session s]\nsso_region = x".to_vec(),
        b"[profile with space]\n[profile vercel]\n[profile vercel]\nregion=a\n".to_vec(),
        b"[DEFAULT]\rs3 =\r  a = b\r[profile vercel]\r  CREDENTIAL_PROCESS: old\r  --more\r\r[default]\rRegion : x".to_vec(),
        Vec::new(),
    ];
    let dict: &[&[u8]] = &[
        b"[",
        b"]",
        b"[profile vercel]",
        b"[default]",
        b"[profile with space]",
        b"=",
        b"\n",
        b"\r\n",
        b"  ",
        b"\t",
        b"#",
        b";",
        b"region = x\n",
        b"credential_process = y\n",
        b":",
        b"\r",
        b"[DEFAULT]",
        b"REGION",
        b"[ profile vercel ]",
    ];
    run(
        "aws_config",
        0x7031_0008,
        1,
        &seeds,
        dict,
        aws::fuzz::aws_config,
    );
}

#[test]
fn verify_documents() {
    // A real 2048-bit modulus, so that mutations start from a key that is kept.
    let n = URL_SAFE_NO_PAD.encode([0xc5u8; 256]);
    let seeds = vec![
        serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": n, "e": "AQAB"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
        ]})
        .to_string()
        .into_bytes(),
        serde_json::json!({
            "issuer": "https://oidc.vercel.com/acme",
            "jwks_uri": "https://oidc.vercel.com/acme/.well-known/jwks",
        })
        .to_string()
        .into_bytes(),
        jwt(claims()),
        b"public, max-age=600".to_vec(),
    ];
    let dict: &[&[u8]] = &[
        b"\"kty\":\"RSA\"",
        b"\"kid\":\"\"",
        b"\"use\":\"enc\"",
        b"\"alg\":\"none\"",
        b"AQAB",
        b"AQ",
        b"\"crit\":[]",
        b"http://",
        b"/.well-known/",
        b"max-age=",
        b"no-cache",
    ];
    let mut dict = dict.to_vec();
    dict.extend_from_slice(JSON_WORDS);
    run("jwks", 0x7031_0009, 1, &seeds, &dict, fuzzing::jwks);
}

#[test]
fn server_text_redaction() {
    let seeds = vec![
        b"Token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln is not valid".to_vec(),
        b"SuperSecretToken01\x01key ASIAQWERTYUIOPASDFGH secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY".to_vec(),
        br#"{"access_token":"ya29.a","id_token":"x","refresh_token":"r"}"#.to_vec(),
        b"Authorization: Bearer abc\nWebIdentityToken=abc&X=1\x1b[31m".to_vec(),
        b"expected audience //iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/p/providers/q".to_vec(),
    ];
    let dict: &[&[u8]] = &[
        b"eyJ",
        b"ASIA",
        b"AKIA",
        b"Bearer ",
        b"\"token\":\"",
        b"access_token=",
        b"<SessionToken>",
        b"//////",
        b"\x01",
        b"\x1b",
        b"\xc3\xa9",
    ];
    run(
        "redaction",
        0x7031_000a,
        1,
        &seeds,
        dict,
        fuzzing::redaction,
    );
}

#[test]
fn env_output_quoting() {
    let seeds = vec![
        b"`id`$(id)'\"\\".to_vec(),
        b"plain".to_vec(),
        b"line\nbreak\r\ttab".to_vec(),
        "ünïcödé".as_bytes().to_vec(),
    ];
    let dict: &[&[u8]] = &[
        b"'", b"\"", b"\\", b"$", b"`", b"\n", b"\r", b"$(", b"${", b"!", b"\\'",
    ];
    run(
        "env_output",
        0x7031_000b,
        1,
        &seeds,
        dict,
        fuzzing::env_output,
    );
}
