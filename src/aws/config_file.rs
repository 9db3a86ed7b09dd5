//! Editing one profile of the AWS config file (`AWS_CONFIG_FILE`, else `~/.aws/config`) while
//! keeping every other line, comment and profile as it was.
//!
//! botocore runs what this file says (`credential_process`), so the writer itself refuses what
//! would change the file's structure, whatever its caller checked: a profile name outside
//! [`is_profile_name`], a key that is not a plain name, and a line break or any other control
//! character in a value.

/// Why a profile cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error(
        "`{}` is not a profile name the AWS CLI can use\n  use 1 to 128 letters, digits and `_.@+,:/-` (--profile or VERCEL_OIDC_AWS_PROFILE)",
        .0.escape_debug()
    )]
    BadProfile(String),
    #[error("`{}` is not a key of the AWS config file", .0.escape_debug())]
    BadKey(String),
    #[error(
        "will not write `{key}` into the AWS config file: its value `{}` holds a line break or another control character, which would end the line and start another\n  remove it from the setting that produced it",
        value.escape_debug()
    )]
    ControlCharacter { key: String, value: String },
    #[error(
        "will not write `{key}` into the AWS config file: its value `{}` holds a space or tab before `#` or `;`, which the Rust, Go and Java SDKs read as the start of a comment\n  remove it from the setting or path that produced it (a session policy can go in a file: --policy @FILE)",
        value.escape_debug()
    )]
    CommentMarker { key: String, value: String },
}

/// A profile name that botocore finds again: `[profile NAME]` is split like a shell line, so a
/// name with spaces, quotes or brackets names another profile or none.
pub fn is_profile_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@+,:/-".contains(c))
}

fn check_entries(profile: &str, entries: &[(&str, &str)]) -> Result<(), ConfigFileError> {
    if !is_profile_name(profile) {
        return Err(ConfigFileError::BadProfile(profile.to_string()));
    }
    for (key, value) in entries {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            return Err(ConfigFileError::BadKey(key.to_string()));
        }
        if value.chars().any(char::is_control) {
            return Err(ConfigFileError::ControlCharacter {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
        if [" #", " ;"].iter().any(|m| value.contains(m)) {
            return Err(ConfigFileError::CommentMarker {
                key: key.to_string(),
                value: value.to_string(),
            });
        }
    }
    Ok(())
}

/// The section header botocore expects: `[default]` or `[profile NAME]`.
pub fn section_header(profile: &str) -> String {
    if profile == "default" {
        "[default]".into()
    } else {
        format!("[profile {profile}]")
    }
}

/// The name of the section a line opens, if it is a section header, normalised like botocore:
/// `[ profile  x ]` is `profile x`.
fn header_name(line: &str) -> Option<String> {
    let t = line.trim();
    let inner = t.strip_prefix('[')?.split(']').next()?.trim();
    Some(inner.split_whitespace().collect::<Vec<_>>().join(" "))
}

fn line_key(line: &str) -> Option<&str> {
    if line.starts_with([' ', '\t']) {
        return None; // a nested sub-setting (`s3 =` followed by indented lines)
    }
    let (k, _) = line.split_once('=')?;
    let k = k.trim();
    (!k.is_empty() && !k.starts_with(['#', ';'])).then_some(k)
}

/// Sets `entries` (key, value) in `profile`'s section of `content`: updates keys in place,
/// appends missing ones at the end of the section, or appends a new section. Returns the new
/// content; unchanged content means nothing needed doing.
pub fn upsert_profile(
    content: &str,
    profile: &str,
    entries: &[(&str, &str)],
) -> Result<String, ConfigFileError> {
    check_entries(profile, entries)?;
    Ok(upsert_checked(content, profile, entries))
}

fn upsert_checked(content: &str, profile: &str, entries: &[(&str, &str)]) -> String {
    let header = section_header(profile);
    let wanted = header_name(&header).expect("header");
    let lines: Vec<&str> = content.lines().collect();
    let start = lines
        .iter()
        .position(|l| header_name(l).as_deref() == Some(wanted.as_str()));
    let Some(start) = start else {
        let mut out = content.to_string();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        if !out.trim().is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(&header);
        out.push('\n');
        for (k, v) in entries {
            out.push_str(&format!("{k} = {v}\n"));
        }
        return out;
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| header_name(l).is_some())
        .map_or(lines.len(), |i| start + 1 + i);
    let mut section: Vec<String> = lines[start + 1..end]
        .iter()
        .map(|l| l.to_string())
        .collect();
    for (k, v) in entries {
        let new_line = format!("{k} = {v}");
        match section.iter().position(|l| line_key(l) == Some(*k)) {
            Some(i) => {
                if section[i].trim() != new_line {
                    section[i] = new_line;
                }
            }
            None => {
                // After the section's last non-blank line, so blank separators stay put.
                let at = section
                    .iter()
                    .rposition(|l| !l.trim().is_empty())
                    .map_or(0, |i| i + 1);
                section.insert(at, new_line);
            }
        }
    }
    let mut out: Vec<String> = lines[..=start].iter().map(|l| l.to_string()).collect();
    out.extend(section);
    out.extend(lines[end..].iter().map(|l| l.to_string()));
    let mut text = out.join("\n");
    if content.ends_with('\n') || content.is_empty() {
        text.push('\n');
    }
    text
}

/// Keys of `profile`'s section other than ours that botocore would prefer over
/// `credential_process`, so the user can be warned.
pub fn conflicting_keys(content: &str, profile: &str) -> Vec<String> {
    section_keys(content, profile)
        .into_iter()
        .filter(|k| PREFERRED_SOURCES.contains(&k.as_str()))
        .collect()
}

/// The keys that make a profile a source of credentials that the SDKs prefer over a
/// `credential_process` or a container endpoint.
pub const PREFERRED_SOURCES: [&str; 5] = [
    "role_arn",
    "web_identity_token_file",
    "aws_access_key_id",
    "sso_start_url",
    "sso_session",
];

/// The keys set in `profile`'s section (`[default]` or `[profile NAME]`; in the shared
/// credentials file, `[NAME]`, which is the same for `default`).
pub fn section_keys(content: &str, profile: &str) -> Vec<String> {
    let wanted = header_name(&section_header(profile)).expect("header");
    let mut in_section = false;
    let mut found = Vec::new();
    for line in content.lines() {
        if let Some(name) = header_name(line) {
            in_section = name == wanted;
            continue;
        }
        if in_section && let Some(k) = line_key(line) {
            found.push(k.to_string());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const CP: (&str, &str) = (
        "credential_process",
        "/usr/local/bin/vercel-oidc aws credential-process --role-arn arn:aws:iam::1:role/r",
    );

    #[test]
    fn inserts_into_empty_file() {
        assert_eq!(
            upsert_profile("", "ci", &[CP]).unwrap(),
            format!("[profile ci]\ncredential_process = {}\n", CP.1)
        );
    }

    #[test]
    fn appends_new_profile_after_others() {
        let before = "# my config\n[default]\nregion = us-east-1\n";
        let after = upsert_profile(before, "ci", &[CP, ("region", "eu-west-1")]).unwrap();
        assert_eq!(
            after,
            format!(
                "# my config\n[default]\nregion = us-east-1\n\n[profile ci]\ncredential_process = {}\nregion = eu-west-1\n",
                CP.1
            )
        );
    }

    #[test]
    fn updates_in_place_and_keeps_comments_and_other_keys() {
        let before = "[profile ci]\n# keep me\ncredential_process = old\noutput = json\n  \n[profile other]\nregion = x\n";
        let after = upsert_profile(before, "ci", &[CP, ("region", "eu-west-1")]).unwrap();
        assert_eq!(
            after,
            format!(
                "[profile ci]\n# keep me\ncredential_process = {}\noutput = json\nregion = eu-west-1\n  \n[profile other]\nregion = x\n",
                CP.1
            )
        );
    }

    #[test]
    fn twice_changes_nothing() {
        let once = upsert_profile("[default]\nregion = a\n", "ci", &[CP]).unwrap();
        assert_eq!(upsert_profile(&once, "ci", &[CP]).unwrap(), once);
    }

    #[test]
    fn default_profile_and_loose_headers() {
        let before = "[ profile   ci ]\nregion=a\n";
        assert_eq!(
            upsert_profile(before, "ci", &[("region", "b")]).unwrap(),
            "[ profile   ci ]\nregion = b\n"
        );
        assert_eq!(
            upsert_profile("", "default", &[("region", "b")]).unwrap(),
            "[default]\nregion = b\n"
        );
    }

    #[test]
    fn nested_settings_are_not_keys() {
        let before = "[profile ci]\ns3 =\n  region = nested\n";
        let after = upsert_profile(before, "ci", &[("region", "top")]).unwrap();
        assert_eq!(
            after,
            "[profile ci]\ns3 =\n  region = nested\nregion = top\n"
        );
    }

    #[test]
    fn no_trailing_newline_is_kept() {
        assert_eq!(
            upsert_profile("[profile ci]\nregion = a", "ci", &[("region", "b")]).unwrap(),
            "[profile ci]\nregion = b"
        );
    }

    #[test]
    fn refuses_what_would_change_the_file_structure() {
        let before = "[default]\nregion = a\n";
        for (profile, entries, want) in [
            (
                "a]b",
                vec![CP],
                "`a]b` is not a profile name the AWS CLI can use",
            ),
            (
                "a\n[default]",
                vec![CP],
                "`a\\n[default]` is not a profile name the AWS CLI can use",
            ),
            ("", vec![CP], "`` is not a profile name the AWS CLI can use"),
            (
                "two words",
                vec![CP],
                "`two words` is not a profile name the AWS CLI can use",
            ),
            (
                "ci",
                vec![("region\nx", "a")],
                "`region\\nx` is not a key of the AWS config file",
            ),
            (
                "ci",
                vec![(
                    "credential_process",
                    "/bin/x\n[profile default]\ncredential_process = /bin/evil",
                )],
                "will not write `credential_process` into the AWS config file: its value `/bin/x\\n[profile default]\\ncredential_process = /bin/evil` holds a line break",
            ),
            (
                "ci",
                vec![("region", "a\rb")],
                "will not write `region` into the AWS config file: its value `a\\rb` holds a line break",
            ),
            (
                "ci",
                vec![("region", "a\u{7f}")],
                "will not write `region` into the AWS config file",
            ),
        ] {
            let err = upsert_profile(before, profile, &entries)
                .unwrap_err()
                .to_string();
            assert!(err.starts_with(want), "{profile:?}: {err}");
        }
        for ok in [
            "default",
            "ci",
            "org-prod_1",
            "a.b@c+d,e:f/g",
            &"x".repeat(128),
        ] {
            upsert_profile(before, ok, &[CP]).unwrap();
        }
    }

    #[test]
    fn finds_conflicts() {
        let c = "[profile ci]\nrole_arn = x\nregion = y\n[profile z]\naws_access_key_id = k\n";
        assert_eq!(conflicting_keys(c, "ci"), vec!["role_arn"]);
        assert!(conflicting_keys(c, "other").is_empty());
    }
}
