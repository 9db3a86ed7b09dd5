//! AWS in `vercel-oidc exec`: credentials reach the child as environment keys, or through the
//! container-credentials endpoint that every SDK renews from ([`choose_delivery`] says which).
//!
//! - Keys: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//!   `AWS_CREDENTIAL_EXPIRATION`, `AWS_REGION`/`AWS_DEFAULT_REGION` when a region is set; the
//!   variables that would win over them or confuse tools are removed (`AWS_PROFILE`,
//!   `AWS_DEFAULT_PROFILE`, `AWS_SECURITY_TOKEN`, `AWS_WEB_IDENTITY_TOKEN_FILE`,
//!   `AWS_ROLE_SESSION_NAME`, `AWS_CONTAINER_CREDENTIALS_*`, `AWS_CONTAINER_AUTHORIZATION_TOKEN`).
//!   A running process cannot be handed new environment variables, so unless a duration is set
//!   the longest lifetime the role allows is requested (12 hours, then the default when the role
//!   refuses it), and cached credentials are used only when at most 10 minutes old; `exec` warns
//!   before they expire.
//! - Endpoint: `AWS_CONTAINER_CREDENTIALS_FULL_URI` (a loopback port of this process),
//!   `AWS_CONTAINER_AUTHORIZATION_TOKEN` and its file, the region; keys and profiles removed.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration as StdDuration;

use anyhow::Context as _;
use time::Duration;

use crate::aws::container::{self, Delivery};
use crate::aws::settings::{DURATION_SECONDS, EXEC_CREDENTIALS};
use crate::aws::{AwsConfig, AwsCredentials, StsError, config_file, credentials};
use crate::cli::Ctx;
use crate::cli::exec::{current_token, display_name};
use crate::cli::wiring::{Expiring, Run, Service, Wire, Wiring};
use crate::env::Env;
use crate::secret::Secret;
use crate::settings::{BadValue, Origin, Resolved};
use crate::{fsutil, vars};

use super::{SharedFile, shared_file};

/// Cached AWS credentials are handed to a child only when at most this old.
const FRESH_ENOUGH: Duration = Duration::minutes(10);

/// How long a failed renewal is answered without trying again, so that SDK retries do not
/// become a burst of STS calls.
const FAILURE_HOLD: StdDuration = StdDuration::from_secs(5);

/// The variables that would win over what `exec` hands the child, or confuse tools.
const SHADOWING_AWS_VARS: [&str; 9] = [
    vars::AWS_PROFILE,
    vars::AWS_DEFAULT_PROFILE,
    vars::AWS_SECURITY_TOKEN,
    vars::AWS_WEB_IDENTITY_TOKEN_FILE,
    vars::AWS_ROLE_SESSION_NAME,
    vars::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
    vars::AWS_CONTAINER_CREDENTIALS_FULL_URI,
    vars::AWS_CONTAINER_AUTHORIZATION_TOKEN,
    vars::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
];

/// AWS, planned: its checked settings and how credentials reach the child.
pub(super) struct Planned {
    config: AwsConfig,
    delivery: Delivery,
    /// Whether the settings set the duration (else `exec` asks for the longest: see
    /// [`env_keys`]).
    duration_set: bool,
}

/// Checks the AWS settings and chooses how credentials reach the child.
pub(super) fn plan(ctx: &Ctx, settings: &Resolved) -> anyhow::Result<Planned> {
    let config = AwsConfig::from_settings(settings, ctx.env())?;
    let (delivery, origin) = choose_delivery(ctx.env(), settings, ctx.session.can_refresh())?;
    crate::log::debug!(
        "AWS credentials reach the command by {}: {}",
        delivery.as_str(),
        describe_choice(&origin)
    );
    Ok(Planned {
        config,
        delivery,
        duration_set: settings.set_value(&DURATION_SECONDS).is_some(),
    })
}

impl Wire for Planned {
    fn wire(self: Box<Self>, ctx: &Ctx, run: &Run) -> anyhow::Result<Wiring> {
        match self.delivery {
            Delivery::Env => env_keys(ctx, &self.config, !self.duration_set, run),
            Delivery::Endpoint => endpoint(ctx, self.config, run),
        }
    }
}

/// How AWS reaches the child, and where that came from: the setting
/// ([`crate::aws::settings::EXEC_CREDENTIALS`]: `--aws-credentials`, its variable, or
/// `credentials` under `[aws]`), else the default: `endpoint` in local development where a fresh
/// token can be had (`refreshable`), else `env`.
pub(super) fn choose_delivery(
    env: &Env,
    settings: &Resolved,
    refreshable: bool,
) -> Result<(Delivery, Origin), BadValue> {
    if let Some(word) = settings.choice(&EXEC_CREDENTIALS)?
        && let (Some(delivery), Some(value)) =
            (Delivery::parse(word), settings.get(&EXEC_CREDENTIALS))
    {
        return Ok((delivery, value.origin.clone()));
    }
    Ok(if env.in_build() {
        (
            Delivery::Env,
            Origin::Default(
                "in a build (VERCEL or CI is set): the build's token cannot be renewed, and environment keys reach every tool",
            ),
        )
    } else if refreshable {
        (
            Delivery::Endpoint,
            Origin::Default(
                "in local development: the command may outlive its credentials, and the SDKs renew them from the endpoint",
            ),
        )
    } else {
        (
            Delivery::Env,
            Origin::Default(
                "where no fresh token can be had (no linked project, or --no-refresh): environment keys, asked for as long as the role allows",
            ),
        )
    })
}

/// Where the choice came from, for `-v`.
fn describe_choice(origin: &Origin) -> String {
    match origin {
        Origin::Default(why) => format!("the default {why}"),
        other => format!("set by {other}"),
    }
}

/// AWS through environment keys. They cannot be renewed in a running process, so unless the
/// duration is set (`ask_long` false) they are asked for as long as the role allows, and cached
/// ones are taken only when nearly new.
fn env_keys(ctx: &Ctx, config: &AwsConfig, ask_long: bool, run: &Run) -> anyhow::Result<Wiring> {
    let lasting = |config: &AwsConfig| {
        let lifetime = Duration::seconds(config.duration_seconds.into());
        crate::aws::credentials_lasting(
            &ctx.session,
            config,
            run.token.clone(),
            run.no_cache,
            lifetime - FRESH_ENOUGH,
        )
    };
    let long = match ask_long {
        true => longest(ctx, config, run.no_cache, lasting)?,
        false => None,
    };
    let creds: AwsCredentials = match long {
        Some(c) => c,
        None => lasting(config)?,
    };
    let mut wiring = Wiring::default();
    wiring.set_all(creds.env_vars(config.endpoint.region.as_deref()));
    wiring.remove.extend(SHADOWING_AWS_VARS);
    wiring.expiring = Some(Expiring {
        what: "AWS credentials",
        at: creds.expiration,
        fix: "raise the role's maximum session duration and --duration-seconds",
    });
    Ok(wiring)
}

/// Credentials for 12 hours, or `None` when the role does not allow that. A role that refuses
/// is remembered for an hour in the cache, so later runs do not ask again.
fn longest(
    ctx: &Ctx,
    config: &AwsConfig,
    no_cache: bool,
    lasting: impl Fn(&AwsConfig) -> Result<AwsCredentials, crate::session::ExchangeError<StsError>>,
) -> anyhow::Result<Option<AwsCredentials>> {
    let cache = ctx.cache(no_cache)?;
    let refused_key = crate::cache::Key::new(
        "aws-max-duration",
        &(&config.role_arn, &config.endpoint.url),
    );
    let known_refused = cache
        .as_ref()
        .and_then(|c| c.get::<bool>(&refused_key, ctx.now(), Duration::ZERO))
        == Some(true);
    if known_refused {
        return Ok(None);
    }
    let mut long = config.clone();
    long.duration_seconds = 43200;
    match lasting(&long) {
        Ok(creds) => Ok(Some(creds)),
        Err(e) if e.cloud().and_then(StsError::code) == Some("ValidationError") => {
            crate::log::debug!("the role does not allow 12-hour sessions; asking for the default");
            if let Some(c) = &cache {
                let _ = c.put(&refused_key, &true, ctx.now() + Duration::hours(1));
            }
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// AWS through the container-credentials endpoint: fetches once now (so a refused trust fails
/// before the command starts), binds the port, writes the authorization token file, and sets the
/// variables every SDK reads for it. Serving starts with the child ([`Endpoint::start`]).
fn endpoint(ctx: &Ctx, config: AwsConfig, run: &Run) -> anyhow::Result<Wiring> {
    let first = credentials(&ctx.session, &config, run.token.clone(), run.no_cache)?;
    let listener = container::Listener::bind()
        .context("cannot listen on 127.0.0.1 for the AWS credentials endpoint")?;
    let auth = container::new_token().context("cannot make a random token for the endpoint")?;
    let auth_path = run.dir.join("aws-container-token");
    fsutil::write_private(&auth_path, auth.expose_secret().as_bytes())
        .with_context(|| format!("cannot write `{}`", auth_path.display()))?;
    let mut wiring = Wiring::default();
    wiring.set_all([
        (vars::AWS_CONTAINER_CREDENTIALS_FULL_URI, listener.url()),
        (
            vars::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE,
            auth_path.display().to_string(),
        ),
        (
            vars::AWS_CONTAINER_AUTHORIZATION_TOKEN,
            auth.expose_secret().to_string(),
        ),
    ]);
    wiring.set_all(crate::aws::region_env_vars(
        config.endpoint.region.as_deref(),
    ));
    wiring.remove.extend(endpoint_removes());
    warn_about_shadowing_profiles(ctx);
    wiring.service = Some(Box::new(Endpoint {
        listener,
        auth,
        first,
        config,
        no_cache: run.no_cache,
    }));
    Ok(wiring)
}

/// What the child must not see beside the endpoint: keys, profiles, another endpoint.
fn endpoint_removes() -> impl Iterator<Item = &'static str> {
    [
        vars::AWS_ACCESS_KEY_ID,
        vars::AWS_SECRET_ACCESS_KEY,
        vars::AWS_SESSION_TOKEN,
        vars::AWS_CREDENTIAL_EXPIRATION,
    ]
    .into_iter()
    .chain(
        SHADOWING_AWS_VARS
            .into_iter()
            .filter(|v| !v.starts_with("AWS_CONTAINER_")),
    )
    .chain([vars::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI])
}

/// Every SDK tries the default profile before the endpoint: say so when it holds credentials.
fn warn_about_shadowing_profiles(ctx: &Ctx) {
    let read = |p: &Path| {
        fsutil::read_capped(p, fsutil::limits::CONFIG)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let mut found: Vec<String> = Vec::new();
    for (file, extra) in [
        (SharedFile::Config, "credential_process"),
        (SharedFile::Credentials, ""),
    ] {
        let Some(file) = shared_file(ctx, file) else {
            continue;
        };
        let Some(text) = read(&file) else { continue };
        found.extend(
            config_file::section_keys(&text, "default")
                .into_iter()
                .filter(|k| config_file::PREFERRED_SOURCES.contains(&k.as_str()) || k == extra)
                .map(|k| format!("`{k}` in `{}`", file.display())),
        );
    }
    if !found.is_empty() {
        eprintln!(
            "vercel-oidc: warning: the default AWS profile sets {}, which the AWS SDKs use before the credentials endpoint of `exec`\n  remove it, or pass --aws-credentials env",
            found.join(" and ")
        );
    }
}

/// A bound endpoint waiting for the child to start.
struct Endpoint {
    listener: container::Listener,
    auth: Secret,
    /// What was fetched at the start, handed out first.
    first: AwsCredentials,
    config: AwsConfig,
    no_cache: bool,
}

/// What the endpoint last handed out, and its last failure.
struct Served {
    last: Option<AwsCredentials>,
    failure: Option<(std::time::Instant, String)>,
}

impl Service for Endpoint {
    /// Serves in `scope`: what it last handed out while that keeps the cache's rule (more than
    /// 20 minutes left), else from the shared cache under the same rule, else from STS with the
    /// run's current token, one request at a time, so concurrent requests make one STS call. A
    /// failure is said on stderr once, answered as the SDKs show it, and answered again for 5
    /// seconds without trying, so SDK retries do not become a burst of STS calls.
    fn start<'scope, 'env>(
        self: Box<Self>,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        ctx: &'env Ctx,
        token_path: &'env Path,
        program: &Path,
    ) -> Box<dyn FnOnce() + 'scope> {
        let name = display_name(program);
        let state = std::sync::Mutex::new(Served {
            last: Some(self.first),
            failure: None,
        });
        let warned = AtomicBool::new(false);
        let (config, no_cache) = (self.config, self.no_cache);
        let role_arn = config.role_arn.clone();
        let min_remaining = config.min_remaining();
        let serving = self.listener.serve(scope, self.auth, move || {
            let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(creds) = &state.last
                && creds.expiration - ctx.now() > min_remaining
            {
                return Ok((creds.clone(), role_arn.clone()));
            }
            if let Some((at, message)) = &state.failure
                && at.elapsed() < FAILURE_HOLD
            {
                return Err(message.clone());
            }
            match renewed(ctx, &config, token_path, no_cache) {
                Ok(creds) => {
                    state.failure = None;
                    state.last = Some(creds.clone());
                    Ok((creds, role_arn.clone()))
                }
                Err(e) => {
                    let reason = format!("{e:#}").replace('\n', "; ");
                    if !warned.swap(true, Ordering::SeqCst) {
                        eprintln!(
                            "vercel-oidc: warning: cannot renew the AWS credentials for `{name}`: {reason}"
                        );
                    }
                    let message = format!("vercel-oidc could not renew the AWS credentials: {reason}");
                    state.failure = Some((std::time::Instant::now(), message.clone()));
                    Err(message)
                }
            }
        });
        Box::new(move || serving.stop())
    }
}

/// Credentials for the token now in the run's token file.
fn renewed(
    ctx: &Ctx,
    config: &AwsConfig,
    token_path: &Path,
    no_cache: bool,
) -> anyhow::Result<AwsCredentials> {
    let token = current_token(token_path)?;
    Ok(credentials(&ctx.session, config, token, no_cache)?)
}
