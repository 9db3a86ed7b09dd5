//! `doctor`'s report for people: one screen, sections for the token, the project config and
//! each checked cloud, then the result.

use time::OffsetDateTime;
use vercel_oidc::timefmt;

use super::{CloudReport, Report, Status};

pub(super) fn render(report: &Report, now: OffsetDateTime) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    let row = |key: &str, value: &str| format!("  {key:<13}{value}");

    line("Token".into());
    let t = &report.token;
    if let Some(source) = &t.source_description {
        line(row("source", source));
    }
    if let Some(c) = &t.claims {
        let with_id = |name: &Option<String>, id: &Option<String>| match (name, id) {
            (Some(n), Some(i)) => format!("{n} ({i})"),
            (Some(n), None) => n.clone(),
            (None, Some(i)) => i.clone(),
            (None, None) => "-".into(),
        };
        line(row(
            "issuer",
            &format!("{} ({} issuer)", c.iss, c.issuer_mode),
        ));
        line(row("subject", &c.sub));
        line(row("audience", &c.aud.join(", ")));
        line(row("owner", &with_id(&c.owner, &c.owner_id)));
        line(row("project", &with_id(&c.project, &c.project_id)));
        line(row("environment", c.environment.as_deref().unwrap_or("-")));
        let exp = timefmt::parse_rfc3339(&c.expires_at).unwrap_or(now);
        let verb = if t.status == "valid" {
            "expires"
        } else {
            "expired"
        };
        line(row(
            verb,
            &format!("{} ({})", c.expires_at, timefmt::relative(exp, now)),
        ));
    }
    line(row("status", t.status));
    if let Some(error) = &t.error {
        for (i, l) in error.lines().enumerate() {
            line(row(if i == 0 { "error" } else { "" }, l.trim()));
        }
    }
    let refresh = if t.refresh.possible {
        format!("possible: {}", t.refresh.reason)
    } else {
        format!("not possible: {}", t.refresh.reason)
    };
    line(row("refresh", &refresh));

    line(String::new());
    line("Project config".into());
    let file = match &report.config.path {
        Some(p) => format!("`{}`", p.display()),
        None => "none (no vercel-oidc.toml from here up; --config or VERCEL_OIDC_CONFIG name one)"
            .into(),
    };
    line(row("file", &file));
    if let Some(error) = &report.config.error {
        for (i, l) in error.lines().enumerate() {
            line(row(if i == 0 { "error" } else { "" }, l.trim()));
        }
    }
    let configured = if report.configured.is_empty() {
        "none".to_string()
    } else {
        report
            .configured
            .iter()
            .map(|c| display_name(c))
            .collect::<Vec<_>>()
            .join(", ")
    };
    line(row("configured", &configured));

    for (name, cloud) in [
        ("AWS", &report.aws),
        ("GCP", &report.gcp),
        ("Azure", &report.azure),
    ] {
        let Some(cloud) = cloud else { continue };
        line(String::new());
        line(format!(
            "{name}{}",
            if cloud.configured {
                ""
            } else {
                " (not configured)"
            }
        ));
        for s in &cloud.settings.0 {
            let Some(value) = &s.value else { continue };
            let from = s.origin_label();
            line(format!("  {:<23}{value}  ({from})", s.name));
        }
        let c = &cloud.check;
        let status = match c.status {
            Status::Passed => "passed",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
        };
        line(format!("  {:<23}{status}: {}", "check", c.summary));
        if let Some(hint) = c.error.as_ref().and_then(|e| e.hint.as_ref()) {
            for l in hint.lines() {
                line(format!("  {:<23}{l}", ""));
            }
        }
        if !cloud.trust_text.is_empty() {
            let heading = match c.status {
                Status::Failed => "  the trust configuration that accepts this token:",
                _ => "  the trust configuration this token needs:",
            };
            line(heading.into());
            for l in &cloud.trust_text {
                line(format!("    {l}"));
            }
        }
    }

    line(String::new());
    let checks: Vec<&CloudReport> = [&report.aws, &report.gcp, &report.azure]
        .into_iter()
        .flatten()
        .collect();
    if report.ok {
        if report.offline {
            line(format!(
                "Result: offline, nothing was called; the settings of {} are valid, and the trust each needs is shown above",
                plural(checks.len(), "cloud")
            ));
        } else {
            line(format!(
                "Result: {} passed",
                if checks.len() == 1 {
                    "the check".to_string()
                } else {
                    format!("all {} checks", checks.len())
                }
            ));
        }
    } else {
        line(format!(
            "Result: {}",
            plural(report.problems.len(), "problem")
        ));
        for p in &report.problems {
            line(format!("  - {p}"));
        }
    }
    out
}

fn display_name(key: &str) -> &str {
    match key {
        "aws" => "AWS",
        "gcp" => "GCP",
        "azure" => "Azure",
        other => other,
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
