//! The library's `aws-config` credentials provider, used through `aws-config` and a real SDK
//! client (`aws-sdk-sts`), against a local recording stand-in for STS.

mod common;

use aws_credential_types::provider::ProvideCredentials;
use common::*;
use vercel_oidc::Env;
use vercel_oidc::aws::VercelOidcCredentialsProvider;
use vercel_oidc::vars;

const ROLE: &str = "arn:aws:iam::123456789012:role/vercel-deploy";
const AKID: &str = "ASIAPROVIDERTEST0001";
const SECRET: &str = "providerSecretKeyValue/abc";
const SESSION: &str = "providerSessionTokenValue";

fn stub_sts(_: usize, req: &Recorded) -> Reply {
    match req.form_value("Action").as_deref() {
        Some("AssumeRoleWithWebIdentity") => Reply::xml(
            200,
            format!(
                r#"<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>
<AccessKeyId>{AKID}</AccessKeyId><SecretAccessKey>{SECRET}</SecretAccessKey><SessionToken>{SESSION}</SessionToken>
<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"#
            ),
        ),
        Some("GetCallerIdentity") => Reply::xml(
            200,
            r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>
<Arn>arn:aws:sts::123456789012:assumed-role/vercel-deploy/vercel-web-production</Arn><UserId>AROA:vercel-web-production</UserId>
<Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"#,
        ),
        _ => Reply::xml(
            400,
            "<ErrorResponse><Error><Code>InvalidAction</Code><Message>?</Message></Error></ErrorResponse>",
        ),
    }
}

#[tokio::test]
async fn an_sdk_client_signs_with_the_exchanged_credentials() {
    let server = MockServer::start(stub_sts);
    let token = fresh_token();
    let dir = tempfile::tempdir().unwrap();
    let env = Env::from_pairs([(vars::VERCEL_OIDC_TOKEN, token.as_str())], dir.path());
    let provider = VercelOidcCredentialsProvider::builder()
        .role_arn(ROLE)
        .endpoint_url(server.url())
        .env(env)
        .build()
        .unwrap();
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .credentials_provider(provider)
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(server.url())
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&config);
    let who = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who.account(), Some("123456789012"));
    let who_again = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(who_again.account(), Some("123456789012"));

    let reqs = server.requests();
    let exchanges: Vec<_> = reqs
        .iter()
        .filter(|r| r.form_value("Action").as_deref() == Some("AssumeRoleWithWebIdentity"))
        .collect();
    assert_eq!(
        exchanges.len(),
        1,
        "the SDK's identity cache keeps the credentials in process"
    );
    assert_eq!(
        exchanges[0].form_value("WebIdentityToken").as_deref(),
        Some(token.as_str())
    );
    assert_eq!(
        exchanges[0].form_value("RoleSessionName").as_deref(),
        Some("vercel-web-production")
    );
    let signed: Vec<_> = reqs
        .iter()
        .filter(|r| r.form_value("Action").as_deref() == Some("GetCallerIdentity"))
        .collect();
    assert_eq!(signed.len(), 2);
    for r in signed {
        let auth = r.header("authorization").expect("signed");
        assert!(
            auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={AKID}/")),
            "{auth}"
        );
        assert_eq!(r.header("x-amz-security-token"), Some(SESSION));
    }
}

#[tokio::test]
async fn each_load_reads_the_token_source_again() {
    let server = MockServer::start(stub_sts);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    let first = fresh_token();
    std::fs::write(&file, &first).unwrap();
    let provider = VercelOidcCredentialsProvider::builder()
        .role_arn(ROLE)
        .endpoint_url(server.url())
        .token_file(&file)
        .env(Env::from_pairs::<&str, &str>([], dir.path()))
        .build()
        .unwrap();
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), AKID);
    assert_eq!(creds.session_token(), Some(SESSION));
    assert!(creds.expiry().is_some());
    let second = jwt(&claims(now() + 7200));
    std::fs::write(&file, &second).unwrap();
    provider.provide_credentials().await.unwrap();
    let sent: Vec<_> = server
        .requests()
        .iter()
        .filter_map(|r| r.form_value("WebIdentityToken"))
        .collect();
    assert_eq!(sent, vec![first, second]);
}

#[tokio::test]
async fn no_token_is_not_loaded_and_a_bad_role_is_a_build_error() {
    let dir = tempfile::tempdir().unwrap();
    let provider = VercelOidcCredentialsProvider::builder()
        .role_arn(ROLE)
        .endpoint_url("http://127.0.0.1:9")
        .env(Env::from_pairs::<&str, &str>([], dir.path()))
        .build()
        .unwrap();
    let err = provider.provide_credentials().await.unwrap_err();
    assert!(
        matches!(
            err,
            aws_credential_types::provider::error::CredentialsError::CredentialsNotLoaded(_)
        ),
        "{err:?}"
    );
    let err = VercelOidcCredentialsProvider::builder()
        .role_arn("not-a-role")
        .env(Env::from_pairs::<&str, &str>([], dir.path()))
        .build()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("`not-a-role` is not an IAM role ARN")
    );
    // The role may also come from the provider's environment, as the CLI reads it.
    let from_env = VercelOidcCredentialsProvider::builder()
        .endpoint_url("http://127.0.0.1:9")
        .env(Env::from_pairs([(vars::AWS_ROLE_ARN, ROLE)], dir.path()))
        .build();
    assert!(from_env.is_ok());
}

/// The sandbox's environment, as the provider sees it.
fn sandbox_env(sb: &Sandbox) -> Env {
    Env::from_pairs(sb.env.clone(), sb.path())
}

fn assume_requests(server: &MockServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.form_value("Action").as_deref() == Some("AssumeRoleWithWebIdentity"))
        .count()
}

/// A sandbox whose role comes from `vercel-oidc.toml` and whose STS is `server`.
fn project_sandbox(server: &MockServer) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
        .set(vars::AWS_ENDPOINT_URL_STS, server.url());
    std::fs::write(
        sb.path().join("vercel-oidc.toml"),
        format!("[production.aws]\nrole_arn = \"{ROLE}\"\nduration_seconds = 1800\n"),
    )
    .unwrap();
    sb
}

async fn sdk_account(provider: VercelOidcCredentialsProvider, server: &MockServer) -> String {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .credentials_provider(provider)
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(server.url())
        .load()
        .await;
    let who = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    who.account().unwrap().to_string()
}

#[tokio::test]
async fn the_provider_and_credential_process_share_one_sts_request() {
    let server = MockServer::start(stub_sts);
    let sb = project_sandbox(&server);
    // The provider reads the role and duration from vercel-oidc.toml, as the binary does.
    let provider = VercelOidcCredentialsProvider::builder()
        .env(sandbox_env(&sb))
        .build()
        .unwrap();
    assert_eq!(sdk_account(provider, &server).await, "123456789012");
    assert_eq!(assume_requests(&server), 1);
    let sent = &server.requests()[0];
    assert_eq!(sent.form_value("RoleArn").as_deref(), Some(ROLE));
    assert_eq!(sent.form_value("DurationSeconds").as_deref(), Some("1800"));

    let out = sb.run(&["aws", "credential-process"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["AccessKeyId"], AKID);
    assert_eq!(
        assume_requests(&server),
        1,
        "credential-process was served from the provider's cache entry"
    );

    // And the other way round: a fresh cache, the binary first.
    let server = MockServer::start(stub_sts);
    let sb = project_sandbox(&server);
    assert_eq!(sb.run(&["aws", "credential-process"]).code, 0);
    let provider = VercelOidcCredentialsProvider::builder()
        .env(sandbox_env(&sb))
        .build()
        .unwrap();
    let creds = provider.provide_credentials().await.unwrap();
    assert_eq!(creds.access_key_id(), AKID);
    assert_eq!(
        assume_requests(&server),
        1,
        "the provider used the binary's entry"
    );
}

#[tokio::test]
async fn the_cache_and_the_project_config_can_each_be_turned_off() {
    let server = MockServer::start(stub_sts);
    let sb = project_sandbox(&server);
    let uncached = VercelOidcCredentialsProvider::builder()
        .env(sandbox_env(&sb))
        .no_cache()
        .build()
        .unwrap();
    uncached.provide_credentials().await.unwrap();
    uncached.provide_credentials().await.unwrap();
    assert_eq!(assume_requests(&server), 2, "no cache: every load asks STS");
    assert!(
        !sb.cache_dir().exists() || file_names(&sb.cache_dir()).is_empty(),
        "nothing was written to the cache"
    );

    let err = VercelOidcCredentialsProvider::builder()
        .env(sandbox_env(&sb))
        .no_project_config()
        .build()
        .unwrap_err();
    assert!(
        err.to_string().starts_with("no role to assume"),
        "without vercel-oidc.toml there is no role: {err}"
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_in_a_linked_project_unless_refresh_is_off() {
    let minted = jwt(&claims(now() + 12 * 3600));
    let body = format!(r#"{{"token":"{minted}"}}"#);
    let api = MockServer::start(
        move |_, req| match req.path.split('?').next().unwrap_or("") {
            "/v1/projects/prj_web123/token" => Reply::json(200, body.clone()),
            _ => Reply::json(404, "{}"),
        },
    );
    let sts = MockServer::start(stub_sts);
    let (sb, app) = linked_project(&api);
    let env = Env::from_pairs(sb.env.clone(), &app);
    let builder = || {
        VercelOidcCredentialsProvider::builder()
            .role_arn(ROLE)
            .endpoint_url(sts.url())
            .env(env.clone())
            .no_cache()
    };
    let off = builder().no_refresh().build().unwrap();
    let err = off.provide_credentials().await.unwrap_err();
    assert!(
        matches!(
            err,
            aws_credential_types::provider::error::CredentialsError::InvalidConfiguration(_)
        ),
        "{err:?}"
    );
    assert_eq!(api.count(), 0, "refresh off: the Vercel API is not called");
    assert_eq!(sts.count(), 0);

    builder()
        .build()
        .unwrap()
        .provide_credentials()
        .await
        .unwrap();
    assert_eq!(api.count(), 1);
    assert_eq!(
        sts.requests()[0].form_value("WebIdentityToken").as_deref(),
        Some(minted.as_str()),
        "the refreshed token was sent"
    );
}

#[tokio::test]
async fn the_cache_switch_of_the_environment_is_honoured_as_the_binary_honours_it() {
    let server = MockServer::start(stub_sts);
    let mut sb = project_sandbox(&server);
    sb.set(vars::VERCEL_OIDC_NO_CACHE, "1");
    let provider = VercelOidcCredentialsProvider::builder()
        .env(sandbox_env(&sb))
        .build()
        .unwrap();
    provider.provide_credentials().await.unwrap();
    provider.provide_credentials().await.unwrap();
    assert_eq!(
        assume_requests(&server),
        2,
        "VERCEL_OIDC_NO_CACHE=1: no cache"
    );
}

#[test]
#[should_panic(expected = "`scopes` is not an AWS setting")]
fn another_clouds_setting_is_refused() {
    let _ =
        VercelOidcCredentialsProvider::builder().setting(&vercel_oidc::gcp::settings::SCOPES, "x");
}
