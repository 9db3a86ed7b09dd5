//! `vercel-oidc exec -- COMMAND [ARGS...]`: run a build command with every configured cloud wired
//! through its own native mechanism, so the command and every tool it starts need no set-up.
//!
//! - The command is resolved on `PATH` first: a missing command fetches nothing.
//! - Inside another `exec` (`VERCEL_OIDC_EXEC` is set) it refuses unless `--force`.
//! - A private directory (0700, in the user's runtime or cache directory, removed when the child
//!   exits, however it exits, and by the next run when this one was killed: see
//!   [`crate::rundir`]) holds:
//!   `token` (the Vercel token, 0600, no trailing newline, kept fresh while the child runs) and,
//!   for GCP, `gcp-credentials.json` (an `external_account` file whose source is `token`).
//! - The child's environment: this one byte for byte (names and values that are not UTF-8
//!   included), less and plus the wiring: `VERCEL_OIDC_TOKEN` and `VERCEL_OIDC_TOKEN_FILE`
//!   (the run's token file, so nested `vercel-oidc` calls and Vercel's own helpers read the
//!   fresh one), `VERCEL_OIDC_EXEC=1`, and per cloud:
//!   - AWS: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
//!     `AWS_CREDENTIAL_EXPIRATION`, `AWS_REGION`/`AWS_DEFAULT_REGION` when a region is set; the
//!     variables that would win over them or confuse tools are removed (`AWS_PROFILE`,
//!     `AWS_DEFAULT_PROFILE`, `AWS_SECURITY_TOKEN`, `AWS_WEB_IDENTITY_TOKEN_FILE`,
//!     `AWS_ROLE_SESSION_NAME`, `AWS_CONTAINER_CREDENTIALS_*`, `AWS_CONTAINER_AUTHORIZATION_TOKEN`).
//!     A running process cannot be handed new environment variables, so unless a duration is
//!     set the longest lifetime the role allows is requested (12 hours, then the default when the
//!     role refuses it), and cached credentials are used only when at most 10 minutes old.
//!   - GCP: `GOOGLE_APPLICATION_CREDENTIALS` and `CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE` (the
//!     run's credential file), `GOOGLE_CLOUD_PROJECT` and `CLOUDSDK_CORE_PROJECT` when known.
//!   - Azure: `AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE` (the run's token
//!     file), `AZURE_AUTHORITY_HOST`.
//! - While the child runs, the token file is renewed before it comes within [`KEEP_FRESH`] of
//!   expiry when a fresh token can be had (local development); when none can, stderr says so
//!   before it bites, and likewise before the AWS credentials in the environment expire.
//! - `SIGTERM`, `SIGHUP`, `SIGUSR1` and `SIGUSR2` are forwarded to the child, and so are
//!   `SIGINT` and `SIGQUIT` when another process sent them; from a terminal they reach the child
//!   directly, so they are not sent twice. The child's exit code passes through; a child ended by
//!   a signal ends this process with the same signal.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration as StdDuration;

use crate::aws::container::{self, Delivery};
use crate::aws::settings::{DURATION_SECONDS, EXEC_CREDENTIALS};
use crate::aws::{AwsConfig, AwsCredentials, StsError, config_file};
use crate::azure::AzureConfig;
use crate::gcp::GcpConfig;
use crate::gcp::credfile::{self, CredentialSource};
use crate::settings::{BadValue, Origin, Resolved};
use crate::token::{OidcToken, TokenSource};
use crate::{Env, Secret, fsutil, timefmt, vars};
use anyhow::Context as _;
use clap::Args;
use time::{Duration, OffsetDateTime};
use tokio::signal::unix::{SignalKind, signal};

use super::clouds::{Clouds, Settings};
use super::flags::{self, CacheFlag, CloudFlags, SettingFlags};
use super::{Ctx, aws};

/// How close to its expiry the run's token file is renewed: the Azure SDKs re-read it only every
/// 5 to 10 minutes.
pub const KEEP_FRESH: Duration = Duration::minutes(15);
/// Cached AWS credentials are handed to a child only when at most this old.
const FRESH_ENOUGH: Duration = Duration::minutes(10);
/// Warn this long before the AWS credentials in the child's environment expire.
const AWS_WARNING: Duration = Duration::minutes(10);

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    clouds: CloudFlags,

    /// Run even inside another `vercel-oidc exec`
    #[arg(long, env = vars::VERCEL_OIDC_EXEC_FORCE, value_parser = clap::builder::BoolishValueParser::new())]
    force: bool,

    #[command(flatten)]
    settings: SettingFlags<flags::Exec>,

    #[command(flatten)]
    cache: CacheFlag,

    /// The command to run, and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// One cloud's contribution to the child's environment.
#[derive(Default)]
struct Wiring {
    set: Vec<(String, String)>,
    remove: Vec<&'static str>,
    aws_expiry: Option<OffsetDateTime>,
}

/// The clouds to wire and their checked settings, before anything is fetched or written.
struct Plan {
    want: Clouds,
    aws: Option<(AwsConfig, Delivery)>,
    /// Whether the settings leave the AWS duration to `exec` (see [`wire_aws`]).
    aws_duration_set: bool,
    gcp: Option<GcpConfig>,
    azure: Option<AzureConfig>,
}

pub fn run(ctx: &Ctx, args: &ExecArgs) -> anyhow::Result<ExitCode> {
    let program = resolve_program(ctx, &args.command[0])?;
    if ctx.env().get(vars::VERCEL_OIDC_EXEC).is_some() && !args.force {
        anyhow::bail!(
            "already inside `vercel-oidc exec` (VERCEL_OIDC_EXEC is set): the outer one has wired the credentials\n  run the command directly, or pass --force to wire them again"
        );
    }
    let token = ctx.fresh(ctx.load_token()?)?;
    let plan = plan(ctx, args, &token)?;
    let run_dir = crate::rundir::RunDir::create(ctx.env())?;
    let token_path = run_dir.path().join("token");
    fsutil::write_private(&token_path, token.expose_secret().as_bytes())
        .with_context(|| format!("cannot write `{}`", token_path.display()))?;
    let (wiring, endpoint) = wire(ctx, &plan, &token, args.cache.no_cache, run_dir.path())?;
    crate::debug!(
        "running `{}` with {} wired",
        program.display(),
        plan.want.names().join(", ")
    );
    let command = child_command(
        ctx,
        &program,
        &args.command[1..],
        &wiring,
        &token,
        &token_path,
    );
    let status = run_child(
        ctx,
        command,
        &program,
        token,
        &token_path,
        &wiring,
        endpoint,
    )?;
    drop(run_dir);
    Ok(exit_like(status))
}

/// Resolves every cloud's settings and checks those of the clouds to wire, before anything is
/// fetched.
fn plan(ctx: &Ctx, args: &ExecArgs, token: &OidcToken) -> anyhow::Result<Plan> {
    let project = ctx.project()?;
    let environment = token.claims().environment.as_deref();
    let settings = Settings::resolve(ctx, &args.settings.given, &project, environment);
    let want = settings.wanted(args.clouds.into());
    if !want.any() {
        anyhow::bail!(
            "no cloud is configured, so there is nothing to wire\n  set AWS_ROLE_ARN, the GCP_* variables or AZURE_TENANT_ID and AZURE_CLIENT_ID, or commit a vercel-oidc.toml (see the README)"
        );
    }
    let aws = match want.aws {
        true => {
            let config = AwsConfig::from_settings(&settings.aws, ctx.env())?;
            let (delivery, origin) =
                choose_delivery(ctx.env(), &settings.aws, ctx.session.can_refresh())?;
            crate::debug!(
                "AWS credentials reach the command by {}: {}",
                delivery.as_str(),
                describe_choice(&origin)
            );
            Some((config, delivery))
        }
        false => None,
    };
    let gcp = want
        .gcp
        .then(|| GcpConfig::from_settings(&settings.gcp))
        .transpose()?;
    let azure = want
        .azure
        .then(|| AzureConfig::from_settings(&settings.azure))
        .transpose()?;
    Ok(Plan {
        want,
        aws,
        aws_duration_set: settings.aws.set_value(&DURATION_SECONDS).is_some(),
        gcp,
        azure,
    })
}

/// Each planned cloud's files and variables; for AWS through the endpoint, the bound endpoint
/// waiting for the child.
fn wire(
    ctx: &Ctx,
    plan: &Plan,
    token: &OidcToken,
    no_cache: bool,
    run_dir: &Path,
) -> anyhow::Result<(Wiring, Option<EndpointPlan>)> {
    let token_path = run_dir.join("token");
    let mut wiring = Wiring::default();
    let mut endpoint = None;
    match &plan.aws {
        Some((config, Delivery::Env)) => {
            let long = !plan.aws_duration_set;
            wire_aws(ctx, config, long, token, no_cache, &mut wiring)?;
        }
        Some((config, Delivery::Endpoint)) => {
            let bound = wire_aws_endpoint(ctx, config, token, no_cache, run_dir, &mut wiring)?;
            endpoint = Some(bound);
        }
        None => {}
    }
    if let Some(config) = &plan.gcp {
        wire_gcp(config, run_dir, &token_path, &mut wiring)?;
    }
    if let Some(config) = &plan.azure {
        wire_azure(config, &token_path, &mut wiring);
    }
    Ok((wiring, endpoint))
}

/// The child: `program` with `args`, this environment less what the wiring removes, plus what it
/// sets and the run's token.
fn child_command(
    ctx: &Ctx,
    program: &Path,
    args: &[OsString],
    wiring: &Wiring,
    token: &OidcToken,
    token_path: &Path,
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command.args(args).env_clear().envs(ctx.env().vars());
    for name in &wiring.remove {
        command.env_remove(name);
    }
    command
        .envs(wiring.set.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(vars::VERCEL_OIDC_TOKEN, token.expose_secret())
        .env(vars::VERCEL_OIDC_TOKEN_FILE, token_path)
        .env(vars::VERCEL_OIDC_EXEC, "1");
    command
}

/// Runs the child to its end under [`supervise`], serving the AWS endpoint meanwhile when there
/// is one.
fn run_child(
    ctx: &Ctx,
    command: tokio::process::Command,
    program: &Path,
    token: OidcToken,
    token_path: &Path,
    wiring: &Wiring,
    endpoint: Option<EndpointPlan>,
) -> anyhow::Result<std::process::ExitStatus> {
    let runtime = ctx.runtime()?;
    std::thread::scope(|scope| {
        let serving = endpoint.map(|e| e.serve(scope, ctx, token_path, program));
        let status = runtime.block_on(supervise(
            ctx,
            command,
            program,
            token,
            token_path,
            wiring.aws_expiry,
        ));
        if let Some(serving) = serving {
            serving.stop();
        }
        status
    })
}

fn resolve_program(ctx: &Ctx, name: &OsString) -> anyhow::Result<PathBuf> {
    let path = ctx.env().get_os(vars::PATH).unwrap_or_default();
    which::which_in(name, Some(path), ctx.env().cwd()).map_err(|_| {
        anyhow::anyhow!(
            "command `{}` not found on PATH\n  check its name or install it; no credentials were fetched",
            name.to_string_lossy()
        )
    })
}

fn wire_aws(
    ctx: &Ctx,
    config: &AwsConfig,
    ask_long: bool,
    token: &OidcToken,
    no_cache: bool,
    wiring: &mut Wiring,
) -> anyhow::Result<()> {
    // Environment variables cannot be renewed in a running process, so ask for as long as the
    // role allows (unless a duration is set), and take cached credentials only when they are
    // nearly new. A role that refuses 12 hours is remembered for an hour, so later runs do not
    // ask again.
    let lasting = |config: &AwsConfig| {
        let lifetime = Duration::seconds(config.duration_seconds.into());
        crate::aws::credentials_lasting(
            &ctx.session,
            config,
            token.clone(),
            no_cache,
            lifetime - FRESH_ENOUGH,
        )
    };
    let cache = ctx.cache(no_cache)?;
    let refused_key = crate::cache::Key::new(
        "aws-max-duration",
        &(&config.role_arn, &config.endpoint.url),
    );
    let known_refused = cache
        .as_ref()
        .and_then(|c| c.get::<bool>(&refused_key, ctx.now(), Duration::ZERO))
        == Some(true);
    let long = if ask_long && !known_refused {
        let mut long = config.clone();
        long.duration_seconds = 43200;
        match lasting(&long) {
            Ok(creds) => Some(creds),
            Err(e) if e.cloud().and_then(StsError::code) == Some("ValidationError") => {
                crate::debug!("the role does not allow 12-hour sessions; asking for the default");
                if let Some(c) = &cache {
                    let _ = c.put(&refused_key, &true, ctx.now() + Duration::hours(1));
                }
                None
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        None
    };
    let creds: AwsCredentials = match long {
        Some(c) => c,
        None => lasting(config)?,
    };

    let region = config.endpoint.region.as_deref();
    wiring.set.extend(
        creds
            .env_vars(region)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    wiring.remove.extend(SHADOWING_AWS_VARS);
    wiring.aws_expiry = Some(creds.expiration);
    Ok(())
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

/// AWS through the container-credentials endpoint: fetches once now (so a refused trust fails
/// before the command starts), binds the port, writes the authorization token file, and sets the
/// variables every SDK reads for it. Serving starts with [`EndpointPlan::serve`].
fn wire_aws_endpoint(
    ctx: &Ctx,
    config: &AwsConfig,
    token: &OidcToken,
    no_cache: bool,
    run_dir: &Path,
    wiring: &mut Wiring,
) -> anyhow::Result<EndpointPlan> {
    let first = aws::credentials(ctx, config, token.clone(), no_cache)?;
    let listener = container::Listener::bind()
        .context("cannot listen on 127.0.0.1 for the AWS credentials endpoint")?;
    let auth = container::new_token().context("cannot make a random token for the endpoint")?;
    let auth_path = run_dir.join("aws-container-token");
    fsutil::write_private(&auth_path, auth.expose_secret().as_bytes())
        .with_context(|| format!("cannot write `{}`", auth_path.display()))?;
    wiring.set.extend([
        (
            vars::AWS_CONTAINER_CREDENTIALS_FULL_URI.to_string(),
            listener.url(),
        ),
        (
            vars::AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE.to_string(),
            auth_path.display().to_string(),
        ),
        (
            vars::AWS_CONTAINER_AUTHORIZATION_TOKEN.to_string(),
            auth.expose_secret().to_string(),
        ),
    ]);
    wiring.set.extend(
        crate::aws::region_env_vars(config.endpoint.region.as_deref())
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    wiring.remove.extend(
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
        ),
    );
    wiring
        .remove
        .push(vars::AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
    warn_about_shadowing_profiles(ctx);
    Ok(EndpointPlan {
        listener,
        auth,
        first,
        config: config.clone(),
        no_cache,
    })
}

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

/// Every SDK tries the default profile before the endpoint: say so when it holds credentials.
fn warn_about_shadowing_profiles(ctx: &Ctx) {
    let read = |p: &Path| {
        fsutil::read_capped(p, fsutil::limits::CONFIG)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let mut found: Vec<String> = Vec::new();
    for (file, extra) in [
        (aws::SharedFile::Config, "credential_process"),
        (aws::SharedFile::Credentials, ""),
    ] {
        let Some(file) = aws::shared_file(ctx, file) else {
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
struct EndpointPlan {
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

/// How long a failed renewal is answered without trying again, so that SDK retries do not
/// become a burst of STS calls.
const FAILURE_HOLD: StdDuration = StdDuration::from_secs(5);

impl EndpointPlan {
    /// Serves in `scope`: what it last handed out while that keeps the cache's rule (more than
    /// 20 minutes left), else from the shared cache under the same rule, else from STS with the
    /// run's current token, one request at a time, so concurrent requests make one STS call. A
    /// failure is said on stderr once, answered as the SDKs show it, and answered again for 5
    /// seconds without trying, so SDK retries do not become a burst of STS calls.
    fn serve<'scope, 'env>(
        self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        ctx: &'env Ctx,
        token_path: &'env Path,
        program: &Path,
    ) -> container::Serving {
        let name = display_name(program);
        let state = std::sync::Mutex::new(Served {
            last: Some(self.first),
            failure: None,
        });
        let warned = std::sync::atomic::AtomicBool::new(false);
        let config = self.config;
        let no_cache = self.no_cache;
        let role_arn = config.role_arn.clone();
        let min_remaining = config.min_remaining();
        self.listener.serve(scope, self.auth, move || {
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
            match current_token(token_path)
                .and_then(|token| Ok(aws::credentials(ctx, &config, token, no_cache)?))
            {
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
        })
    }
}

/// The token in the run's token file, which [`supervise`] keeps fresh.
fn current_token(path: &Path) -> anyhow::Result<OidcToken> {
    let raw = fsutil::read_capped(path, fsutil::limits::TOKEN)?;
    Ok(OidcToken::parse(
        &String::from_utf8_lossy(&raw),
        TokenSource::EnvFile(path.to_path_buf()),
    )?)
}

/// The program's file name, for messages.
fn display_name(program: &Path) -> String {
    program.file_name().map_or_else(
        || program.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn wire_gcp(
    config: &GcpConfig,
    dir: &Path,
    token_path: &Path,
    wiring: &mut Wiring,
) -> anyhow::Result<()> {
    let path = dir.join("gcp-credentials.json");
    let text = credfile::render(config, &CredentialSource::File(token_path.to_path_buf()));
    fsutil::write_private(&path, text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))?;
    let source = CredentialSource::File(token_path.to_path_buf());
    wiring.set.extend(
        credfile::env_vars(&path, config, &source)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
    Ok(())
}

fn wire_azure(config: &AzureConfig, token_path: &Path, wiring: &mut Wiring) {
    wiring.set.extend(
        config
            .env_vars(token_path)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v)),
    );
}

/// Runs the child to its end: forwards signals, keeps the token file fresh, warns before
/// expiries that cannot be helped.
async fn supervise(
    ctx: &Ctx,
    mut command: tokio::process::Command,
    program: &Path,
    token: OidcToken,
    token_path: &Path,
    aws_expiry: Option<OffsetDateTime>,
) -> anyhow::Result<std::process::ExitStatus> {
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run `{}`", program.display()))?;
    let pid = child.id().context("the child exited at once")? as libc::pid_t;
    let mut forwarded = forwarded_signals()?;
    catch_interrupts()?;
    let mut interrupts = tokio::time::interval(StdDuration::from_millis(50));
    let mut ticks = tokio::time::interval(check_interval(ctx));
    let mut upkeep = Upkeep {
        ctx,
        token,
        token_path,
        aws_expiry,
        name: display_name(program),
        warned_token: false,
        warned_aws: false,
    };
    loop {
        let [(s0, r0), (s1, r1), (s2, r2), (s3, r3)] = &mut forwarded;
        tokio::select! {
            status = child.wait() => return Ok(status?),
            _ = r0.recv() => forward(pid, *s0),
            _ = r1.recv() => forward(pid, *s1),
            _ = r2.recv() => forward(pid, *s2),
            _ = r3.recv() => forward(pid, *s3),
            _ = interrupts.tick() => forward_interrupt(pid),
            _ = ticks.tick() => upkeep.check(ctx.now()).await,
        }
    }
}

/// The signals passed on to the child as they arrive, each with its number: `SIGTERM`,
/// `SIGHUP`, `SIGUSR1`, `SIGUSR2`. (`SIGINT` and `SIGQUIT` are [`catch_interrupts`]'.)
fn forwarded_signals() -> std::io::Result<[(i32, tokio::signal::unix::Signal); 4]> {
    let listen = |kind: SignalKind| signal(kind).map(|s| (kind.as_raw_value(), s));
    Ok([
        listen(SignalKind::terminate())?,
        listen(SignalKind::hangup())?,
        listen(SignalKind::user_defined1())?,
        listen(SignalKind::user_defined2())?,
    ])
}

/// How often the token and the AWS expiry are looked at: `VERCEL_OIDC_EXEC_CHECK_SECONDS`, else
/// every 30 s.
fn check_interval(ctx: &Ctx) -> StdDuration {
    let every = ctx
        .env()
        .get(vars::VERCEL_OIDC_EXEC_CHECK_SECONDS)
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(30)
        .max(1);
    StdDuration::from_secs(every)
}

/// Passes on the `SIGINT` or `SIGQUIT` another process sent, if one is waiting.
fn forward_interrupt(pid: libc::pid_t) {
    let sig = SENT_BY_A_PROCESS.swap(0, Ordering::SeqCst);
    if sig != 0 {
        forward(pid, sig);
    }
}

/// What [`supervise`] looks after besides the child: the run's token file, and a warning, once
/// each, before an expiry that cannot be helped.
struct Upkeep<'a> {
    ctx: &'a Ctx,
    /// The token in the file.
    token: OidcToken,
    token_path: &'a Path,
    aws_expiry: Option<OffsetDateTime>,
    /// The child's name, for warnings.
    name: String,
    warned_token: bool,
    warned_aws: bool,
}

impl Upkeep<'_> {
    async fn check(&mut self, now: OffsetDateTime) {
        if self.token.claims().expires_at() - KEEP_FRESH <= now {
            self.renew_token(now).await;
        }
        if let Some(exp) = self.aws_expiry
            && !self.warned_aws
            && exp - AWS_WARNING <= now
        {
            self.warned_aws = true;
            eprintln!(
                "vercel-oidc: warning: the AWS credentials given to `{}` expire {} (at {}); a running process cannot be handed new ones\n  raise the role's maximum session duration and --duration-seconds",
                self.name,
                timefmt::relative(exp, now),
                timefmt::rfc3339_z(exp)
            );
        }
    }

    /// Writes a fresh token to the file, or says (once) that none can be had. The refresh
    /// blocks (it may run the Vercel CLI or call the Vercel API), so it runs off this thread,
    /// which drives the child's supervision.
    async fn renew_token(&mut self, now: OffsetDateTime) {
        let session = self.ctx.session.clone();
        let fresh = tokio::task::spawn_blocking(move || renew(&session, now))
            .await
            .ok()
            .flatten();
        match fresh {
            Some(fresh) if fresh.expose_secret() != self.token.expose_secret() => {
                match fsutil::write_private(self.token_path, fresh.expose_secret().as_bytes()) {
                    Ok(()) => {
                        crate::debug!("renewed the run's token file from {}", fresh.source());
                        self.token = fresh;
                    }
                    Err(e) => eprintln!(
                        "vercel-oidc: warning: cannot renew `{}`: {e}",
                        self.token_path.display()
                    ),
                }
            }
            _ if !self.warned_token => {
                self.warned_token = true;
                self.warn_token_expiry(now);
            }
            _ => {}
        }
    }

    fn warn_token_expiry(&self, now: OffsetDateTime) {
        let exp = self.token.claims().expires_at();
        let build = if self.ctx.env().flag(vars::VERCEL) {
            " (build tokens last about an hour)"
        } else {
            ""
        };
        let aws = self
            .aws_expiry
            .map(|t| format!(", AWS credentials last until {}", timefmt::rfc3339_z(t)))
            .unwrap_or_default();
        eprintln!(
            "vercel-oidc: warning: the Vercel OIDC token expires {} (at {}) and no fresh one can be had here{build}; GCP and Azure clients in `{}` will fail after that{aws}",
            timefmt::relative(exp, now),
            timefmt::rfc3339_z(exp),
            self.name,
        );
    }
}

/// A token good for more than [`KEEP_FRESH`], when local development allows one.
fn renew(session: &crate::Session, now: OffsetDateTime) -> Option<OidcToken> {
    match session.refresher()? {
        Ok(refresher) => match refresher.fresh_token_within(|| session.now(), KEEP_FRESH) {
            Ok(token) => Some(token),
            Err(e) => {
                crate::debug!(
                    "could not renew the token at {}: {e}",
                    timefmt::rfc3339_z(now)
                );
                None
            }
        },
        Err(e) => {
            crate::debug!("{e}");
            None
        }
    }
}

/// The last `SIGINT` or `SIGQUIT` sent to this process by another process (not by the terminal),
/// waiting to be forwarded.
static SENT_BY_A_PROCESS: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_interrupt(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    let code = unsafe { (*info).si_code };
    // A terminal's Ctrl-C (SI_KERNEL) reaches the whole foreground process group, the child
    // included: forwarding it would deliver it twice. A kill(2) from another process reaches
    // only this one.
    if code == libc::SI_USER || code == libc::SI_QUEUE || code == libc::SI_TKILL {
        SENT_BY_A_PROCESS.store(sig, Ordering::SeqCst);
    }
}

/// Catches `SIGINT` and `SIGQUIT` so they do not end this process before the child, noting
/// those that another process sent.
fn catch_interrupts() -> std::io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: a zeroed sigaction is valid; the handler only stores to an atomic, which is
        // async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note_interrupt as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(sig, &action, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

fn forward(pid: libc::pid_t, sig: i32) {
    crate::debug!("forwarding signal {sig} to the child");
    // SAFETY: kill(2) with a pid this process spawned and still waits for.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// The exit code to leave with: the child's, or for a child ended by a signal, that signal
/// raised again on this process (after the run's files are gone).
fn exit_like(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    let sig = status.signal().unwrap_or(libc::SIGTERM);
    // SAFETY: restoring the default action and raising a signal on this process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
    ExitCode::from((128 + sig).clamp(0, 255) as u8)
}
