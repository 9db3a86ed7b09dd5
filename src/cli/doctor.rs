//! `vercel-oidc doctor`: the whole set-up on one screen, and whether each cloud accepts the token.
//!
//! Reads what every command reads: the token (the usual sources; in local development a missing
//! or expiring one is refreshed as usual, except with `--offline`), the project config, and each
//! cloud's settings from the same flags and environment variables as `exec`, then
//! `vercel-oidc.toml`.
//!
//! Requests, unless `--offline`: one real exchange per checked cloud (every configured one, or
//! those chosen with `--aws`, `--gcp`, `--azure`), through the same code as `aws
//! credential-process`, `gcp access-token` and `azure access-token`, with the shared cache
//! neither read nor written, so that the trust is tested rather than the cache:
//! - AWS: STS `AssumeRoleWithWebIdentity`;
//! - GCP: Google STS, then IAM Credentials `generateAccessToken` with a service account;
//! - Azure: an Entra ID token for [`AZURE_SCOPE`].
//!
//! Prints on stdout a report (or with `--json` one JSON document with the same content): the
//! token's source, claims and time left, whether a local refresh is possible, the project config,
//! each cloud's settings and where each came from, and each check's result. The token, secrets
//! and access tokens are never printed; an AWS key id only masked (`****ABCD`). For every cloud
//! whose check did not pass (or was not made), the trust configuration that accepts this very
//! token ([`crate::aws::trust`], [`crate::gcp::trust`], [`crate::azure::trust`]).
//! Writes nothing (a refreshed token goes to the shared store, as for every command).
//!
//! The report for people shows everything from outside escaped (claims, server messages,
//! setting values, paths: see [`crate::outside`]), one report line per line written; every
//! command in it quotes its values for the shell, and one whose value cannot be shown safely,
//! or that the tool would read as other values than the one shown (gcloud splits
//! `--allowed-audiences` at `,`; the AWS CLI loads `--url file://…`), is a `# no command: …`
//! comment instead.
//!
//! Exit status: 0 when the token is usable and every check passed (with `--offline`: when the
//! settings are valid), 1 otherwise, including a missing or expired token, an invalid project
//! config and no configured cloud.

mod checks;
mod human;
mod origins;
mod trust;

use crate::vars;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::problem::Explain as _;
use crate::project::ProjectConfig;
use crate::refresh::Refresher;
use crate::token::{self, OidcToken, TokenError, TokenSource};
use crate::{session, timefmt};
use clap::Args;
use serde::Serialize;
use time::OffsetDateTime;

use super::clouds::Settings;
use super::flags::{self, CloudFlags, SettingFlags};
use super::summary::ClaimsSummary;
use super::{Ctx, print_stdout};
use checks::Checker;
use origins::SettingList;

/// The scope of the Entra ID token the Azure check asks for.
pub const AZURE_SCOPE: &str = "https://management.azure.com/.default";

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    clouds: CloudFlags,

    /// Make no request: show the set-up and the trust each cloud needs for this token
    ///
    /// Neither the clouds nor the Vercel API (for a refresh) are called.
    #[arg(long)]
    offline: bool,

    /// Print one JSON document with the same content instead of the report
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    settings: SettingFlags<flags::Doctor>,

    /// Accepted as every command that exchanges accepts it: doctor never uses the cache anyway
    #[arg(long, hide = true)]
    no_cache: bool,
}

pub fn run(ctx: &Ctx, args: &DoctorArgs) -> anyhow::Result<ExitCode> {
    let now = ctx.now();
    let token = inspect_token(ctx, args.offline, now);
    let claims = token.loaded.as_ref().map(OidcToken::claims);
    let environment = claims.and_then(|c| c.environment.as_deref());
    let (project, config) = project_config(ctx);
    let settings = Settings::resolve(ctx, &args.settings.given, &project, environment);
    let want = settings.wanted(args.clouds.into());
    let check = Checker {
        ctx,
        now,
        offline: args.offline,
        token: token.usable.as_ref(),
        claims,
    };
    let mut report = Report {
        ok: false,
        offline: args.offline,
        configured: settings
            .configured()
            .names()
            .into_iter()
            .map(str::to_ascii_lowercase)
            .collect(),
        aws: want.aws.then(|| check.aws(&settings.aws)),
        gcp: want.gcp.then(|| check.gcp(&settings.gcp)),
        azure: want.azure.then(|| check.azure(&settings.azure)),
        problems: Vec::new(),
        token: token.report,
        config,
        skipped: crate::walk::skipped()
            .into_iter()
            .map(SkippedReport::from)
            .collect(),
    };
    report.problems = problems(&report, token.problem, want.any());
    report.ok = report.problems.is_empty();
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        human::render(&report, now)
    };
    print_stdout(&text)?;
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The project config, or an empty one and the error that stopped it.
fn project_config(ctx: &Ctx) -> (ProjectConfig, ConfigReport) {
    match ctx.project() {
        Ok(project) => {
            let path = project.path.clone();
            (project, ConfigReport { path, error: None })
        }
        Err(e) => {
            let config = ConfigReport {
                path: ctx.config.as_ref().map(|p| ctx.env().absolute(p)),
                error: Some(format!("{e:#}")),
            };
            (ProjectConfig::default(), config)
        }
    }
}

/// What stands in the way, each with what to do: the token's problem, the project config's,
/// no cloud at all, and each failed check.
fn problems(report: &Report, token_problem: Option<String>, any_cloud: bool) -> Vec<String> {
    let mut problems: Vec<String> = token_problem.into_iter().collect();
    if report.config.error.is_some() {
        problems.push("the project config cannot be used: fix the error shown under it".into());
    }
    if !any_cloud {
        problems.push(NOTHING_CONFIGURED.into());
    }
    for (name, cloud) in [
        ("AWS", &report.aws),
        ("GCP", &report.gcp),
        ("Azure", &report.azure),
    ] {
        if let Some(cloud) = cloud
            && cloud.check.status == Status::Failed
        {
            problems.push(format!("{name}: {}", cloud.check.summary));
        }
    }
    problems
}

const NOTHING_CONFIGURED: &str = "no cloud is configured, so there is nothing to check: set AWS_ROLE_ARN, the GCP_* variables or AZURE_TENANT_ID and AZURE_CLIENT_ID, or commit a vercel-oidc.toml (see the README), or name a cloud with --aws, --gcp or --azure";

// --- the report ---

#[derive(Serialize)]
struct Report {
    /// Whether everything checked is fine (the exit status).
    ok: bool,
    offline: bool,
    token: TokenReport,
    config: ConfigReport,
    /// The clouds whose settings are complete enough to be used: `aws`, `gcp`, `azure`.
    configured: Vec<String>,
    /// Each checked cloud; `null` when not checked.
    aws: Option<CloudReport>,
    gcp: Option<CloudReport>,
    azure: Option<CloudReport>,
    /// What stands in the way, each with what to do; empty when `ok`.
    problems: Vec<String>,
    /// Files found walking up from here that another user could have written, and were passed
    /// over.
    skipped: Vec<SkippedReport>,
}

#[derive(Serialize)]
struct SkippedReport {
    file: String,
    /// The owner of the file, or of the folder above it that is at fault; `null` when it
    /// could not be checked.
    owner: Option<u32>,
    problem: String,
    /// How to trust it.
    fix: String,
}

impl From<crate::walk::Skipped> for SkippedReport {
    fn from(s: crate::walk::Skipped) -> Self {
        Self {
            file: crate::ownership::shown(&s.file),
            owner: s.untrusted.known_owner(),
            problem: s.untrusted.describe(),
            fix: s.untrusted.fix(),
        }
    }
}

#[derive(Serialize)]
struct TokenReport {
    /// `valid`, `expired`, `missing` or `invalid`.
    status: &'static str,
    /// Why it cannot be used, and what to do.
    error: Option<String>,
    source: Option<TokenSource>,
    source_description: Option<String>,
    claims: Option<ClaimsSummary>,
    refresh: RefreshReport,
}

#[derive(Serialize)]
struct RefreshReport {
    /// Whether an expiring token can be replaced here (local development in a linked project).
    possible: bool,
    /// Why, or why not.
    reason: String,
    /// The linked project's id and folder, when linked.
    project_id: Option<String>,
    root: Option<PathBuf>,
}

#[derive(Serialize)]
struct ConfigReport {
    /// The `vercel-oidc.toml` used, or `null` when there is none.
    path: Option<PathBuf>,
    error: Option<String>,
}

#[derive(Serialize)]
struct CloudReport {
    /// Whether its settings are complete (it may be checked without, when named with a flag).
    configured: bool,
    settings: SettingList,
    check: Check,
    /// The trust configuration that accepts this token; `null` when the check passed, or when
    /// there is no token to describe.
    trust: Option<serde_json::Value>,
    /// The same as human-readable lines.
    #[serde(skip)]
    trust_text: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Passed,
    Failed,
    Skipped,
}

#[derive(Serialize)]
struct Check {
    status: Status,
    /// One line: what happened.
    summary: String,
    /// When the credentials or access token got expire.
    expires_at: Option<String>,
    /// The AWS access key id, masked.
    access_key_id: Option<String>,
    error: Option<CloudError>,
}

#[derive(Serialize)]
struct CloudError {
    /// `STS`, `Google STS`, `IAM Credentials`, `Entra ID`, or `settings`.
    service: String,
    /// The HTTP status, when the service answered.
    status: Option<u16>,
    /// The service's error code (`AccessDenied`, `invalid_grant`, `PERMISSION_DENIED`,
    /// `AADSTS70021`…), when it sent one.
    code: Option<String>,
    message: String,
    /// What to do.
    hint: Option<String>,
}

impl Check {
    fn skipped(summary: impl Into<String>) -> Self {
        Self {
            status: Status::Skipped,
            summary: summary.into(),
            expires_at: None,
            access_key_id: None,
            error: None,
        }
    }

    fn failed(summary: impl Into<String>, error: CloudError) -> Self {
        Self {
            status: Status::Failed,
            summary: summary.into(),
            expires_at: None,
            access_key_id: None,
            error: Some(error),
        }
    }

    fn passed(summary: String, expires_at: OffsetDateTime) -> Self {
        Self {
            status: Status::Passed,
            summary,
            expires_at: Some(timefmt::rfc3339_z(expires_at)),
            access_key_id: None,
            error: None,
        }
    }

    /// A settings error: what is wrong, and what to do as the hint.
    fn bad_settings(error: &dyn crate::problem::Explain) -> Self {
        let message = error.problem();
        Self::failed(
            format!("the settings are not valid: {message}"),
            CloudError {
                service: "settings".into(),
                status: None,
                code: None,
                message,
                hint: error.fix(),
            },
        )
    }
}

// --- the token ---

struct TokenState {
    /// The token as found (perhaps expired), for its claims.
    loaded: Option<OidcToken>,
    /// The token to send, when it can be used.
    usable: Option<OidcToken>,
    report: TokenReport,
    problem: Option<String>,
}

fn inspect_token(ctx: &Ctx, offline: bool, now: OffsetDateTime) -> TokenState {
    let refresh = refresh_report(ctx);
    // Offline, nothing is refreshed: that would call the Vercel API or run the Vercel CLI.
    let loaded = if offline {
        token::load(ctx.env(), ctx.token_file()).map_err(session::Error::from)
    } else {
        ctx.load_token()
    };
    let loaded = match loaded {
        Ok(t) => t,
        Err(e) => return no_token(&e, refresh),
    };
    let fresh = if offline {
        loaded
            .ensure_fresh(now, ctx.env().in_build())
            .map(|()| loaded.clone())
            .map_err(session::Error::from)
    } else {
        ctx.fresh(loaded.clone())
    };
    let (shown, usable, error) = match fresh {
        Ok(t) => (t.clone(), Some(t), None),
        Err(e) => (loaded, None, Some(e)),
    };
    let problem = error.as_ref().map(|e| {
        let mut text = format!("the Vercel OIDC token has expired: {}", what_to_do(e));
        if offline && refresh.possible {
            text.push_str(" (or run doctor without --offline, which refreshes it)");
        }
        text
    });
    let report = TokenReport {
        status: if usable.is_some() { "valid" } else { "expired" },
        error: error.map(|e| crate::problem::with_causes(&e)),
        source: Some(shown.source().clone()),
        source_description: Some(shown.source().to_string()),
        claims: Some(ClaimsSummary::new(shown.claims(), now)),
        refresh,
    };
    TokenState {
        loaded: Some(shown),
        usable,
        report,
        problem,
    }
}

/// No token to show: missing, or one that cannot be read.
fn no_token(error: &session::Error, refresh: RefreshReport) -> TokenState {
    let status = match error {
        session::Error::Token(TokenError::NotFound { .. }) => "missing",
        _ => "invalid",
    };
    TokenState {
        loaded: None,
        usable: None,
        problem: Some(format!(
            "the Vercel OIDC token is {status}: {}",
            what_to_do(error)
        )),
        report: TokenReport {
            status,
            error: Some(crate::problem::with_causes(error)),
            source: None,
            source_description: None,
            claims: None,
            refresh,
        },
    }
}

/// What to do about a token that cannot be used: the fix of the error that explains it (for a
/// failed refresh, the refresh's own).
fn what_to_do(error: &session::Error) -> String {
    let explains: &dyn crate::problem::Explain = match error {
        session::Error::Refresh { refresh, .. } => refresh.as_ref(),
        other => other,
    };
    explains.fix().unwrap_or_else(|| explains.problem())
}

/// Whether a local refresh could replace an expiring token here, and why (not).
fn refresh_report(ctx: &Ctx) -> RefreshReport {
    let no = |reason: String| RefreshReport {
        possible: false,
        reason,
        project_id: None,
        root: None,
    };
    if !ctx.session.refreshes() {
        return no("turned off (--no-refresh or VERCEL_OIDC_NO_REFRESH)".into());
    }
    if ctx.env().flag(vars::VERCEL) {
        return no("inside a Vercel build: each build gets its own token, which cannot be renewed; fetch credentials early or use `vercel-oidc exec`".into());
    }
    let refresher = match Refresher::for_env(ctx.env()) {
        None => {
            return no(format!(
                "this folder is not in a linked project (no `.vercel/project.json` from `{}` up): run `vercel link` to turn refresh on",
                ctx.env().cwd().display()
            ));
        }
        Some(Err(e)) => {
            let fix = e.fix().map(|f| format!("; {f}")).unwrap_or_default();
            return no(format!("{}{fix}", e.problem()));
        }
        Some(Ok(r)) => r,
    };
    let link = refresher.link();
    let (possible, how) = match (refresher.vercel_cli(), refresher.login_file()) {
        (Some(cli), _) => (
            true,
            format!("through `{} project token`", cli.display()),
        ),
        (None, Some(login)) => (
            true,
            format!(
                "through the Vercel API with the CLI login in `{}`",
                login.display()
            ),
        ),
        (None, None) => (
            false,
            "but neither the Vercel CLI nor its login is here: install the Vercel CLI and run `vercel login`".into(),
        ),
    };
    RefreshReport {
        possible,
        reason: format!(
            "project `{}` is linked at `{}`; {how}",
            link.project_id,
            link.root.display()
        ),
        project_id: Some(link.project_id.clone()),
        root: Some(link.root.clone()),
    }
}
