//! `vercel-oidc token`: the token that would be used, summarised: for people one line per
//! claim, each value shown escaped ([`crate::outside`]), so that a claim cannot add a line or
//! drive the terminal; with `--json` the claims as the token says them; with `--print` the
//! token itself.

use std::process::ExitCode;

use crate::outside::{self, Text};
use crate::token::{IssuerMode, TokenSource};
use clap::Args;
use serde::Serialize;
use time::OffsetDateTime;

use super::summary::ClaimsSummary;
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

/// `--json`: the claims as the token says them ([`ClaimsSummary`]), under these names.
#[derive(Serialize)]
struct Summary<'a> {
    source: &'a TokenSource,
    source_description: String,
    issuer: &'a Text,
    issuer_mode: IssuerMode,
    subject: &'a Text,
    audience: &'a [Text],
    owner: Option<&'a Text>,
    owner_id: Option<&'a Text>,
    project: Option<&'a Text>,
    project_id: Option<&'a Text>,
    environment: Option<&'a Text>,
    issued_at: Option<&'a str>,
    expires_at: &'a str,
    expires_in_seconds: i64,
    expired: bool,
}

impl<'a> Summary<'a> {
    fn new(source: &'a TokenSource, claims: &'a ClaimsSummary, expired: bool) -> Self {
        Self {
            source,
            source_description: source.to_string(),
            issuer: &claims.iss,
            issuer_mode: claims.issuer_mode,
            subject: &claims.sub,
            audience: &claims.aud,
            owner: claims.owner.as_ref(),
            owner_id: claims.owner_id.as_ref(),
            project: claims.project.as_ref(),
            project_id: claims.project_id.as_ref(),
            environment: claims.environment.as_ref(),
            issued_at: claims.issued_at.as_deref(),
            expires_at: &claims.expires_at,
            expires_in_seconds: claims.expires_in_seconds,
            expired,
        }
    }
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
    let claims = ClaimsSummary::new(token.claims(), now);
    let summary = Summary::new(token.source(), &claims, fresh.is_err());
    if args.json {
        fresh?;
        print_stdout(&(serde_json::to_string_pretty(&summary)? + "\n"))?;
        return Ok(ExitCode::SUCCESS);
    }
    print_stdout(&human(&claims, &summary, now))?;
    fresh?;
    Ok(ExitCode::SUCCESS)
}

/// The summary for people: one `key value` line each, every value [`outside::escaped`] (the
/// claims are [`Text`], escaped already; this also covers the source's path).
fn human(claims: &ClaimsSummary, summary: &Summary, now: OffsetDateTime) -> String {
    let mut rows = vec![("source", summary.source_description.clone())];
    rows.extend(claims.identity_rows());
    rows.extend(claims.issued_row(now));
    rows.push(claims.expiry_row(summary.expired, now));
    rows.iter()
        .map(|(k, v)| format!("{k:<12} {}\n", outside::escaped(v)))
        .collect()
}
