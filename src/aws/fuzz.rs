//! Fuzz targets of AWS's parsers of outside bytes (see [`crate::fuzzing`] for the harnesses):
//! STS answers, and the AWS config file editor. Not part of the library's API.

use time::OffsetDateTime;
use time::macros::datetime;

use crate::{output, timefmt, token};

/// A fixed "now", so that a failure reproduces.
const NOW: OffsetDateTime = datetime!(2026-11-26 12:00:00 UTC);

/// An STS `AssumeRoleWithWebIdentity` answer, success or error.
pub fn sts_xml(data: &[u8]) {
    let xml = String::from_utf8_lossy(data);
    if let Ok(creds) = super::sts::parse_success(&xml) {
        let json = creds.to_process_json();
        let v: serde_json::Value = serde_json::from_str(&json).expect("process JSON parses");
        assert_eq!(v["Version"], 1);
        assert_eq!(v.as_object().map(|o| o.len()), Some(5));
        let back: super::AwsCredentials = serde_json::from_value(v).expect("reads back");
        assert_eq!(back.access_key_id, creds.access_key_id);
        assert_eq!(
            timefmt::rfc3339_z(back.expiration),
            timefmt::rfc3339_z(creds.expiration)
        );
        let _ = timefmt::unusable_expiry(creds.expiration, NOW, token::CLOCK_SKEW);
        let _ = output::render(&creds.env_vars(Some("eu-west-1")), output::EnvFormat::Sh);
    }
    let _ = super::sts::parse_error(&xml);
}

/// The AWS config file editor, on any file content, with the entries `aws configure` writes.
pub fn aws_config(data: &[u8]) {
    use super::config_file;
    let content = String::from_utf8_lossy(data);
    let profile = ["vercel", "default", "with space"][data.len() % 3];
    let entries = [
        (
            "credential_process",
            "/usr/local/bin/vercel-oidc aws credential-process --role-arn arn:aws:iam::123456789012:role/r",
        ),
        ("region", "eu-west-1"),
    ];
    let once = match config_file::upsert_profile(&content, profile, &entries) {
        Ok(text) => text,
        Err(e) => {
            // A name botocore would not find again, or a file it would read otherwise, named
            // by its line; never an edit that changes what botocore reads elsewhere.
            let e = e.to_string();
            assert!(
                !config_file::is_profile_name(profile) || e.starts_with("line"),
                "{e}"
            );
            return;
        }
    };
    let twice = config_file::upsert_profile(&once, profile, &entries)
        .expect("a profile written once can be written again");
    assert_eq!(once, twice, "a second edit changed the file");
    assert_botocore_reads_entries(&once, profile, &entries);
    assert_entry_written_on_one_line(&once, profile, data);
    assert_other_lines_kept(&content, &once, &entries);
    let _ = config_file::conflicting_keys(&once, profile);
}

/// botocore reads the entries as the profile's.
fn assert_botocore_reads_entries(written: &str, profile: &str, entries: &[(&str, &str)]) {
    use super::config_file::reader;
    let read = reader::read(written);
    let section = read
        .sections
        .iter()
        .rfind(|s| reader::profile_of(&s.name).as_deref() == Some(profile))
        .expect("the profile is there");
    for &(k, v) in entries {
        let found = section.settings.iter().find(|s| s.key == k);
        assert_eq!(found.map(|s| s.value.as_str()), Some(v), "`{k}`");
    }
}

/// Whatever the file held, what is written for an entry is one line: a value taken from the file
/// is refused only when it could not be written as one (a control character, a comment marker,
/// blanks around it).
fn assert_entry_written_on_one_line(written: &str, profile: &str, data: &[u8]) {
    let value: String = String::from_utf8_lossy(data).chars().take(40).collect();
    if let Err(e) = super::config_file::upsert_profile(written, profile, &[("region", &value)]) {
        assert!(
            value.chars().any(char::is_control)
                || value.contains(" #")
                || value.contains(" ;")
                || value.trim() != value,
            "{e}"
        );
    }
}

/// Every line of `content` but those the edit may replace (a key line of one of the entries) is
/// kept in `written`, in order, with its line end (a last line without one may gain one).
fn assert_other_lines_kept(content: &str, written: &str, entries: &[(&str, &str)]) {
    use super::config_file::reader;
    let replaceable = |l: &str| {
        let l = reader::py_trim(l).to_lowercase();
        entries.iter().any(|(k, _)| {
            l.strip_prefix(k)
                .is_some_and(|rest| reader::py_trim(rest).starts_with(['=', ':']))
        })
    };
    let before = reader::split_lines(content);
    let mut rest = reader::split_lines(written).into_iter();
    for (i, line) in before.iter().enumerate() {
        if replaceable(line.text) {
            continue;
        }
        let last = i + 1 == before.len();
        assert!(
            rest.any(|o| o.text == line.text && (o.end == line.end || last)),
            "the line {line:?} was lost or moved"
        );
    }
}
