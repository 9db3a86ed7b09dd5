//! `vercel-oidc token`: the token that would be used, summarised: for people one line per
//! claim, each value shown escaped ([`crate::outside`]), so that a claim cannot add a line or
//! drive the terminal; with `--json` the claims as the token says them; with `--print` the
//! token itself.

use std::process::ExitCode;

use crate::outside::{self, Text};
use crate::timefmt;
use crate::token::{Claims, IssuerMode, TokenSource};
use clap::Args;
use serde::Serialize;
use time::OffsetDateTime;

use super::{Ctx, print_stdout};

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Print the summary as JSON
    #[arg(long, conflicts_with = "print")]
    json: bool,

    /// Print the raw token itself (for piping into another tool) instead of a summary
    #[arg(long)]
    print: bool,
}

#[derive(Serialize)]
struct Summary<'a> {
    source: &'a TokenSource,
    source_description: String,
    issuer: &'a str,
    issuer_mode: IssuerMode,
    subject: &'a str,
    audience: Vec<&'a str>,
    owner: Option<&'a str>,
    owner_id: Option<&'a str>,
    project: Option<&'a str>,
    project_id: Option<&'a str>,
    environment: Option<&'a str>,
    issued_at: Option<String>,
    expires_at: String,
    expires_in_seconds: i64,
    expired: bool,
}

pub fn run(ctx: &Ctx, args: &TokenArgs) -> anyhow::Result<ExitCode> {
    let now = ctx.now();
    let loaded = ctx.load_token()?;
    let (token, fresh) = match ctx.fresh(loaded.clone()) {
        Ok(t) => (t, Ok(())),
        Err(e) => (loaded, Err(e)),
    };
    if args.print {
        fresh?;
        print_stdout(&format!("{}\n", token.expose_secret()))?;
        return Ok(ExitCode::SUCCESS);
    }
    let claims: &Claims = token.claims();
    let summary = Summary {
        source: token.source(),
        source_description: token.source().to_string(),
        issuer: &claims.iss,
        issuer_mode: claims.issuer_mode(),
        subject: &claims.sub,
        audience: claims.aud.values(),
        owner: claims.owner.as_deref(),
        owner_id: claims.owner_id.as_deref(),
        project: claims.project.as_deref(),
        project_id: claims.project_id.as_deref(),
        environment: claims.environment.as_deref(),
        issued_at: claims.issued_at().map(timefmt::rfc3339_z),
        expires_at: timefmt::rfc3339_z(claims.expires_at()),
        expires_in_seconds: (claims.expires_at() - now).whole_seconds(),
        expired: fresh.is_err(),
    };
    if args.json {
        fresh?;
        print_stdout(&(serde_json::to_string_pretty(&summary)? + "\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    print_stdout(&human(claims, &summary, now))?;
    fresh?;
    Ok(ExitCode::SUCCESS)
}

/// The summary for people: one `key value` line each, every value [`outside::escaped`] (the
/// claims are [`Text`], escaped already; this also covers the source's path).
fn human(claims: &Claims, summary: &Summary, now: OffsetDateTime) -> String {
    let with_id = |name: Option<&Text>, id: Option<&Text>| match (name, id) {
        (Some(n), Some(i)) => format!("{n} ({i})"),
        (Some(n), None) => n.to_string(),
        (None, Some(i)) => i.to_string(),
        (None, None) => "-".to_string(),
    };
    let mut text = String::new();
    let mut line = |k: &str, v: String| {
        text.push_str(&format!("{k:<12} {}\n", outside::escaped(&v)));
    };
    line("source", summary.source_description.clone());
    line(
        "issuer",
        format!("{} ({} issuer)", claims.iss, summary.issuer_mode),
    );
    line("subject", claims.sub.to_string());
    line("audience", claims.aud.to_string());
    line(
        "owner",
        with_id(claims.owner.as_ref(), claims.owner_id.as_ref()),
    );
    line(
        "project",
        with_id(claims.project.as_ref(), claims.project_id.as_ref()),
    );
    line("environment", with_id(claims.environment.as_ref(), None));
    if let Some(iat) = claims.issued_at() {
        line(
            "issued",
            format!(
                "{} ({})",
                timefmt::rfc3339_z(iat),
                timefmt::relative(iat, now)
            ),
        );
    }
    let exp = claims.expires_at();
    let state = if summary.expired {
        "expired"
    } else {
        "expires"
    };
    line(
        state,
        format!(
            "{} ({})",
            timefmt::rfc3339_z(exp),
            timefmt::relative(exp, now)
        ),
    );
    text
}
