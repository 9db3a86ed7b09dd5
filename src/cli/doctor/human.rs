//! `doctor`'s report for people: one screen, sections for the token, the project config and
//! each checked cloud, then the result. Every line is written through [`Out::line`], which
//! escapes what a terminal would act on, so that no value can start a line or move the cursor.

use crate::cli::summary::ClaimsSummary;
use crate::outside;
use time::OffsetDateTime;

use super::{CloudReport, Report, Status, TokenReport};

pub(super) fn render(report: &Report, now: OffsetDateTime) -> String {
    let mut out = Out::default();
    token(&mut out, &report.token, now);
    out.line("");
    project_config(&mut out, report);
    for (table, cloud) in report.clouds.checked() {
        out.line("");
        cloud_section(&mut out, table.title, cloud);
    }
    out.line("");
    result(&mut out, report);
    out.0
}

/// The report as written so far, a line at a time.
#[derive(Default)]
struct Out(String);

impl Out {
    /// One line of the report, with every character of [`outside::is_hidden`] escaped
    /// (claims are escaped already; this also covers settings, paths and error text).
    fn line(&mut self, text: impl AsRef<str>) {
        self.0.push_str(&outside::escaped(text.as_ref()));
        self.0.push('\n');
    }

    /// `key` in a column of 13, then `value` as it displays (a [`crate::outside::Text`] escaped).
    fn row(&mut self, key: &str, value: impl std::fmt::Display) {
        self.line(format!("  {key:<13}{value}"));
    }

    /// A message of several lines: the first after `error`, each further one below it.
    fn error_rows(&mut self, error: &str) {
        for (i, l) in error.lines().enumerate() {
            self.row(if i == 0 { "error" } else { "" }, l.trim());
        }
    }
}

/// The token: where it came from, its claims, whether it can be used and refreshed.
fn token(out: &mut Out, t: &TokenReport, now: OffsetDateTime) {
    out.line("Token");
    if let Some(source) = &t.source_description {
        out.row("source", source);
    }
    if let Some(c) = &t.claims {
        claims(out, c, t.status == "valid", now);
    }
    out.row("status", t.status);
    if let Some(error) = &t.error {
        out.error_rows(error);
    }
    let refresh = if t.refresh.possible {
        format!("possible: {}", t.refresh.reason)
    } else {
        format!("not possible: {}", t.refresh.reason)
    };
    out.row("refresh", &refresh);
}

/// The claims, as `token` shows them ([`ClaimsSummary`]), without the time of issue.
fn claims(out: &mut Out, c: &ClaimsSummary, valid: bool, now: OffsetDateTime) {
    for (label, value) in c.identity_rows() {
        out.row(label, value);
    }
    let (label, value) = c.expiry_row(!valid, now);
    out.row(label, value);
}

/// The project config: its file, its error, and the clouds it and the environment configure.
fn project_config(out: &mut Out, report: &Report) {
    out.line("Project config");
    let file = match &report.config.path {
        Some(p) => format!("`{}`", p.display()),
        None => "none (no vercel-oidc.toml from here up; --config or VERCEL_OIDC_CONFIG name one)"
            .into(),
    };
    out.row("file", &file);
    if let Some(error) = &report.config.error {
        out.error_rows(error);
    }
    let configured = if report.configured.is_empty() {
        "none".to_string()
    } else {
        report
            .configured
            .iter()
            .map(|t| t.title)
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.row("configured", &configured);
    for skipped in &report.skipped {
        out.row(
            "untrusted",
            match skipped.owner {
                Some(owner) => format!(
                    "passed over `{}` (owner uid {owner}): {}",
                    skipped.file, skipped.fix
                ),
                None => format!("passed over `{}`: {}", skipped.file, skipped.fix),
            },
        );
        out.row("", &skipped.problem);
    }
}

/// One cloud: its settings and where each came from, its check, and the trust it needs.
fn cloud_section(out: &mut Out, name: &str, cloud: &CloudReport) {
    let configured = if cloud.configured {
        ""
    } else {
        " (not configured)"
    };
    out.line(format!("{name}{configured}"));
    for s in &cloud.settings.0 {
        if let Some(value) = &s.value {
            out.line(format!("  {:<23}{value}  ({})", s.name, s.origin_label()));
        }
    }
    let c = &cloud.check;
    let status = match c.status {
        Status::Passed => "passed",
        Status::Failed => "FAILED",
        Status::Skipped => "skipped",
    };
    out.line(format!("  {:<23}{status}: {}", "check", c.summary));
    if let Some(hint) = c.error.as_ref().and_then(|e| e.hint.as_ref()) {
        for l in hint.lines() {
            out.line(format!("  {:<23}{l}", ""));
        }
    }
    if !cloud.trust_text.is_empty() {
        out.line(match c.status {
            Status::Failed => "  the trust configuration that accepts this token:",
            _ => "  the trust configuration this token needs:",
        });
        for l in &cloud.trust_text {
            out.line(format!("    {l}"));
        }
    }
}

/// Whether everything passed, or the problems in the way.
fn result(out: &mut Out, report: &Report) {
    let checks = report.clouds.checked().count();
    if !report.ok {
        out.line(format!(
            "Result: {}",
            plural(report.problems.len(), "problem")
        ));
        for p in &report.problems {
            out.line(format!("  - {p}"));
        }
    } else if report.offline {
        out.line(format!(
            "Result: offline, nothing was called; the settings of {} are valid, and the trust each needs is shown above",
            plural(checks, "cloud")
        ));
    } else if checks == 1 {
        out.line("Result: the check passed");
    } else {
        out.line(format!("Result: all {checks} checks passed"));
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
