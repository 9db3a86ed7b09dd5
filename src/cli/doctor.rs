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
//! neither read nor written, so that the trust is tested rather than the cache: what each
//! cloud's `cli/doctor.rs` asks for (AWS: STS `AssumeRoleWithWebIdentity`; GCP: Google STS,
//! then IAM Credentials `generateAccessToken` with a service account; Azure: an Entra ID token
//! for the management scope).
//!
//! Prints on stdout a report (or with `--json` one JSON document with the same content): the
//! token's source, claims and time left, whether a local refresh is possible, the project config,
//! each cloud's settings and where each came from, and each check's result. The token, secrets
//! and access tokens are never printed; an AWS key id only masked (`****ABCD`). For every cloud
//! whose check did not pass (or was not made), the trust configuration that accepts this very
//! token (each cloud's `trust` module).
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

mod check;
mod human;
mod origins;
mod report;

use crate::vars;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::problem::Explain as _;
use crate::project::ProjectConfig;
use crate::refresh::Refresher;
use crate::session;
use crate::token::{self, OidcToken, TokenError, TokenSource};
use clap::Args;
use serde::Serialize;
use time::OffsetDateTime;

use super::clouds::{self, Choice, Clouds, Settings};
use super::summary::ClaimsSummary;
use super::{Ctx, print_stdout};
use crate::settings::Table;

pub(crate) use check::{Checker, indented_json, refusal, value_for_trust};
pub(crate) use origins::{Row, listing};
use report::Status;
pub(crate) use report::{Check, CloudReport};

// The flags of `doctor` itself; `args` puts them among the clouds' flags. (A plain comment: a
// doc comment here would become the command's about line.)
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Make no request: show the set-up and the trust each cloud needs for this token
    ///
    /// Neither the clouds nor the Vercel API (for a refresh) are called.
    #[arg(long)]
    offline: bool,

    /// Print one JSON document with the same content instead of the report
    #[arg(long)]
    json: bool,

    /// Accepted as every command that exchanges accepts it: doctor never uses the cache anyway
    #[arg(long, hide = true)]
    no_cache: bool,
}

/// `doctor`'s arguments, in the order its help lists them: a flag choosing each cloud, its own,
/// and every cloud's setting flags.
pub fn args(cmd: clap::Command, clouds: Clouds) -> clap::Command {
    let cmd = DoctorArgs::augment_args(clouds::choice_flags(cmd, clouds));
    let tables = clouds::tables(clouds);
    super::flags::setting_args(cmd, &tables, crate::settings::Command::DOCTOR)
}

pub fn run(
    ctx: &Ctx,
    args: &DoctorArgs,
    clouds: Clouds,
    choice: &Choice,
) -> anyhow::Result<ExitCode> {
    let now = ctx.now();
    let token = inspect_token(ctx, args.offline, now);
    let claims = token.loaded.as_ref().map(OidcToken::claims);
    let environment = claims.and_then(|c| c.environment.as_deref());
    let (project, config) = project_config(ctx);
    let settings = Settings::resolve(ctx, clouds, &choice.given, &project, environment);
    let checker = Checker {
        ctx,
        now,
        offline: args.offline,
        token: token.usable.as_ref(),
        claims,
    };
    let mut report = Report {
        ok: false,
        offline: args.offline,
        configured: settings.configured().map(|(c, _)| c.table()).collect(),
        clouds: checks(&checker, &settings, &choice.chosen),
        problems: Vec::new(),
        token: token.report,
        config,
        skipped: crate::walk::skipped()
            .into_iter()
            .map(SkippedReport::from)
            .collect(),
    };
    report.problems = problems(&report, token.problem, clouds);
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

/// Each cloud's report: checked when `chosen` names it (or, when none is chosen, when it is
/// configured), else `None`.
fn checks(checker: &Checker, settings: &Settings, chosen: &[&str]) -> CloudReports {
    CloudReports(
        settings
            .0
            .iter()
            .map(|&(cloud, ref resolved)| {
                let want = clouds::is_wanted(chosen, cloud, resolved);
                (cloud.table(), want.then(|| cloud.check(checker, resolved)))
            })
            .collect(),
    )
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
fn problems(report: &Report, token_problem: Option<String>, clouds: Clouds) -> Vec<String> {
    let mut problems: Vec<String> = token_problem.into_iter().collect();
    if report.config.error.is_some() {
        problems.push("the project config cannot be used: fix the error shown under it".into());
    }
    if report.clouds.checked().next().is_none() {
        problems.push(format!(
            "no cloud is configured, so there is nothing to check: {}, or name a cloud with {}",
            clouds::how_to_configure(clouds),
            clouds::choice_flag_names(clouds)
        ));
    }
    for (table, cloud) in report.clouds.checked() {
        if cloud.check.status == Status::Failed {
            problems.push(format!("{}: {}", table.title, cloud.check.summary));
        }
    }
    problems
}

// --- the report ---

#[derive(Serialize)]
struct Report {
    /// Whether everything checked is fine (the exit status).
    ok: bool,
    offline: bool,
    token: TokenReport,
    config: ConfigReport,
    /// The clouds whose settings are complete enough to be used, by section: `aws`, `gcp`,
    /// `azure`.
    #[serde(serialize_with = "sections")]
    configured: Vec<&'static Table>,
    /// Each cloud by section; `null` when not checked.
    #[serde(flatten)]
    clouds: CloudReports,
    /// What stands in the way, each with what to do; empty when `ok`.
    problems: Vec<String>,
    /// Files found walking up from here that another user could have written, and were passed
    /// over.
    skipped: Vec<SkippedReport>,
}

/// Each cloud's report, in the clouds' order: a JSON member per cloud, named by its section.
struct CloudReports(Vec<(&'static Table, Option<CloudReport>)>);

impl CloudReports {
    /// The clouds checked, with their reports.
    fn checked(&self) -> impl Iterator<Item = (&'static Table, &CloudReport)> {
        self.0
            .iter()
            .filter_map(|(table, report)| Some((*table, report.as_ref()?)))
    }
}

impl Serialize for CloudReports {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (table, report) in &self.0 {
            map.serialize_entry(table.section, report)?;
        }
        map.end()
    }
}

/// Tables as their sections.
fn sections<S: serde::Serializer>(tables: &[&'static Table], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(tables.iter().map(|t| t.section))
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
