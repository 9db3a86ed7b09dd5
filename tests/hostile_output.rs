//! The real binary showing text from outside to a person (issue 15, item 6): a token's claims,
//! a server's refusal or answer, a token file's path, a setting's value, a path an error or a
//! `-v` line names; and the commands it prints for a person to paste.
//!
//! Every such string is shown escaped (`\x1b`, `\n`, `\u{202e}`), so that it cannot add a line,
//! move the cursor, retitle the terminal or reorder the text around it; the machine-read JSON
//! keeps it as it is. Every pasted command, run by real shells (and split by Python's `shlex`)
//! with stand-ins for `aws`, `gcloud` and `az` that record their arguments, gives exactly the
//! arguments intended and runs nothing else; a value that cannot be shown safely, or that the
//! tool itself would read as other values than the one shown (a list it splits, a file it
//! loads), gives a `# no command: …` comment in the command's place. Each case asserts the
//! exact output.

mod common;

use std::path::Path;
use vercel_oidc::vars;

use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/deploy";
const SA: &str = "deploy@my-project.iam.gserviceaccount.com";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
const SCOPE: &str = "https://management.azure.com/.default";
const MAPPING: &str = "google.subject=assertion.sub,attribute.owner=assertion.owner,attribute.project=assertion.project,attribute.environment=assertion.environment";
const POOL: &str = "projects/123456789012/locations/global/workloadIdentityPools/vercel";

/// Claims that would drive a terminal or forge a line if printed raw: an OSC title change, a
/// screen clear, a right-to-left override, a carriage return and cursor move, a line break, a
/// C1 CSI.
fn control_claims() -> serde_json::Value {
    serde_json::json!({
        "iss": "https://oidc.vercel.com/acme\u{1b}]0;owned\u{7}",
        "sub": "owner:acme:project:web:environment:production\u{1b}[2J",
        "aud": "https://vercel.com/acme\u{202e}lmth.exe",
        "owner": "acme\r\u{1b}[1A",
        "project": "web\nforged     line",
        "environment": "production\u{9b}31m",
    })
}

/// How [`control_claims`] are shown.
const ISS_SHOWN: &str = "https://oidc.vercel.com/acme\\x1b]0;owned\\x07";
const SUB_SHOWN: &str = "owner:acme:project:web:environment:production\\x1b[2J";
const AUD_SHOWN: &str = "https://vercel.com/acme\\u{202e}lmth.exe";

/// Claims that would run commands or split arguments if pasted into a shell unquoted, but that
/// hold nothing a terminal acts on.
fn shell_claims() -> serde_json::Value {
    serde_json::json!({
        "iss": "https://oidc.vercel.com/acme$(touch pwned-iss)",
        "sub": "owner:acme:project:we`touch pwned-sub`b:environment:production",
        "aud": "https://vercel.com/acme;touch pwned-aud",
        "owner": "ac'me\"$(touch pwned-owner)",
        "project": "we b|touch pwned-project",
        "environment": "production&&touch pwned-env",
    })
}

/// When the tokens here were issued and expire: far enough from now that the relative times
/// shown (`2d 0h ago`, `in 3d 0h`) do not move while a test runs.
fn times() -> (i64, i64) {
    let now = now();
    (now - 2 * 86400 - 1800, now + 3 * 86400 + 1800)
}

/// A token with the standard claims, `overrides` put over them, and [`times`].
fn token_with(overrides: serde_json::Value) -> String {
    let (iat, exp) = times();
    let mut c = claims(exp);
    c["iat"] = iat.into();
    c["nbf"] = iat.into();
    for (k, v) in overrides.as_object().unwrap() {
        c[k] = v.clone();
    }
    jwt(&c)
}

fn rfc3339(unix: i64) -> String {
    vercel_oidc::timefmt::rfc3339_z(time::OffsetDateTime::from_unix_timestamp(unix).unwrap())
}

/// Fails unless every character of `text` is one a terminal shows as itself (line breaks
/// aside), checked independently of the library's own list.
#[track_caller]
fn assert_visible(text: &str) {
    let acted_on = |c: char| {
        c != '\n'
            && (c.is_control()
                || ('\u{200b}'..='\u{200f}').contains(&c)
                || ('\u{2028}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c))
    };
    assert!(
        !text.chars().any(acted_on),
        "a character a terminal acts on was printed:\n{text:?}"
    );
}

/// A sandbox with `token` and every cloud configured (AWS role [`ROLE`], GCP impersonating
/// [`SA`], Azure app [`CLIENT`]), nothing reachable: for `doctor --offline`.
fn every_cloud(token: &str) -> Sandbox {
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, token)
        .set(vars::AWS_ROLE_ARN, ROLE)
        .set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme")
        .set(vars::GCP_SERVICE_ACCOUNT_EMAIL, SA)
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_CLIENT_ID, CLIENT);
    sb
}

/// The lines of `text` from the one that is exactly `heading` to the next blank line, each with
/// its newline.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .find(&format!("{heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading:?} in:\n{text}"));
    let rest = &text[start..];
    &rest[..rest.find("\n\n").map_or(rest.len(), |end| end + 1)]
}

/// The trust lines of a cloud's section of doctor's report, without their indent.
fn trust_lines(report: &str, cloud: &str) -> Vec<String> {
    let section = section(report, &format!("\n{cloud}"));
    let start = section
        .find("  the trust configuration this token needs:\n")
        .unwrap_or_else(|| panic!("no trust in:\n{section}"));
    section[start..]
        .lines()
        .skip(1)
        .map(|l| l.strip_prefix("    ").unwrap_or(l).to_string())
        .collect()
}

/// The commands of doctor's report: the lines that start with a tool's name, or that say why
/// there is no command.
fn pasted_commands(report: &str) -> Vec<String> {
    report
        .lines()
        .map(str::trim_start)
        .filter(|l| {
            ["aws ", "gcloud ", "az ", "# no command"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .filter(|l| !l.ends_with(':'))
        .map(str::to_string)
        .collect()
}

// --- token ----------------------------------------------------------------------------------

/// `token` shows each claim on its own line, escaped, and the token file's path escaped;
/// `--json` keeps the claims as they are.
#[test]
fn token_shows_claims_and_the_source_path_escaped() {
    let sb = Sandbox::new();
    let file = sb.path().join("tok\u{1b}[2Jen");
    std::fs::write(&file, token_with(control_claims())).unwrap();
    let mut sb = sb;
    sb.set(vars::VERCEL_OIDC_TOKEN_FILE, file.display().to_string());
    let (iat, exp) = times();
    let out = sb.run(&["token"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    let dir = sb.path().display();
    assert_eq!(
        out.stdout,
        format!(
            "source       VERCEL_OIDC_TOKEN_FILE (`{dir}/tok\\x1b[2Jen`)\n\
             issuer       {ISS_SHOWN} (team issuer)\n\
             subject      {SUB_SHOWN}\n\
             audience     {AUD_SHOWN}\n\
             owner        acme\\r\\x1b[1A (team_acme123)\n\
             project      web\\nforged     line (prj_web123)\n\
             environment  production\\u{{9b}}31m\n\
             issued       {} (2d 0h ago)\n\
             expires      {} (in 3d 0h)\n",
            rfc3339(iat),
            rfc3339(exp),
        )
    );
    let json = sb.run(&["token", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(
        (v["subject"].clone(), v["project"].clone()),
        (
            control_claims()["sub"].clone(),
            control_claims()["project"].clone()
        )
    );
}

// --- doctor ---------------------------------------------------------------------------------

/// `doctor` shows the claims escaped in its token section and in the trust each cloud needs,
/// with the JSON it shows still JSON; a command whose value cannot be shown safely is a
/// comment saying why.
#[test]
fn doctor_shows_claims_escaped_and_prints_no_command_it_cannot_quote() {
    let sb = every_cloud(&token_with(control_claims()));
    let out = sb.run(&["doctor", "--offline"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    assert_visible(&out.stdout);
    let (_, exp) = times();
    assert_eq!(
        section(&out.stdout, "Token"),
        format!(
            "Token\n\
             \x20 source       VERCEL_OIDC_TOKEN\n\
             \x20 issuer       {ISS_SHOWN} (team issuer)\n\
             \x20 subject      {SUB_SHOWN}\n\
             \x20 audience     {AUD_SHOWN}\n\
             \x20 owner        acme\\r\\x1b[1A (team_acme123)\n\
             \x20 project      web\\nforged     line (prj_web123)\n\
             \x20 environment  production\\u{{9b}}31m\n\
             \x20 expires      {} (in 3d 0h)\n\
             \x20 status       valid\n\
             \x20 refresh      not possible: this folder is not in a linked project (no `.vercel/project.json` from `{}` up): run `vercel link` to turn refresh on\n",
            rfc3339(exp),
            sb.path().display(),
        )
    );
    let hidden =
        "holds a control or invisible character, which cannot be shown in a command to paste";
    assert_eq!(
        trust_lines(&out.stdout, "AWS"),
        [
            "IAM OIDC provider in account 123456789012:".to_string(),
            format!("  URL       {ISS_SHOWN}"),
            format!("  audience  {AUD_SHOWN}"),
            "  ARN       arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme\\x1b]0;owned\\x07".into(),
            "trust policy of role `deploy` (save as trust-policy.json):".into(),
            "  {".into(),
            "    \"Version\": \"2012-10-17\",".into(),
            "    \"Statement\": [".into(),
            "      {".into(),
            "        \"Effect\": \"Allow\",".into(),
            "        \"Principal\": {".into(),
            "          \"Federated\": \"arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme\\u001b]0;owned\\u0007\"".into(),
            "        },".into(),
            "        \"Action\": \"sts:AssumeRoleWithWebIdentity\",".into(),
            "        \"Condition\": {".into(),
            "          \"StringEquals\": {".into(),
            "            \"oidc.vercel.com/acme\\u001b]0;owned\\u0007:aud\": \"https://vercel.com/acme\\u202elmth.exe\",".into(),
            "            \"oidc.vercel.com/acme\\u001b]0;owned\\u0007:sub\": \"owner:acme:project:web:environment:production\\u001b[2J\"".into(),
            "          }".into(),
            "        }".into(),
            "      }".into(),
            "    ]".into(),
            "  }".into(),
            "commands:".into(),
            format!("  # no command: `{ISS_SHOWN}` {hidden}"),
            "  aws iam update-assume-role-policy --role-name deploy --policy-document file://trust-policy.json".into(),
            "(to admit every environment of the project, use `\"StringLike\": {\"oidc.vercel.com/acme\\u001b]0;owned\\u0007:sub\": \"owner:acme\\r\\u001b[1A:project:web\\nforged     line:environment:*\"}` instead)".into(),
        ]
    );
    assert_eq!(
        trust_lines(&out.stdout, "GCP"),
        [
            format!("workload identity pool provider `{POOL}/providers/vercel-acme`:"),
            format!("  issuer URI           {ISS_SHOWN}"),
            format!("  allowed audience     {AUD_SHOWN}"),
            format!("  attribute mapping    {MAPPING}"),
            "  attribute condition  assertion.owner == \"acme\\r\\x1b[1A\"".to_string(),
            format!("IAM binding: roles/iam.workloadIdentityUser on {SA}, for this token's principal:"),
            format!("  principal://iam.googleapis.com/{POOL}/subject/{SUB_SHOWN}"),
            "or for every environment of the project:".into(),
            format!("  principalSet://iam.googleapis.com/{POOL}/attribute.project/web\\nforged     line"),
            "gcloud commands:".into(),
            "  gcloud iam workload-identity-pools create vercel --project=123456789012 --location=global".into(),
            format!("  # no command: `{ISS_SHOWN}` {hidden}"),
            format!("  # no command: `{ISS_SHOWN}` {hidden}  # instead of create-oidc, for a provider that exists"),
            format!("  # no command: `principal://iam.googleapis.com/{POOL}/subject/{SUB_SHOWN}` {hidden}"),
        ]
    );
    assert_eq!(
        trust_lines(&out.stdout, "Azure"),
        [
            format!(
                "federated credential on app `{CLIENT}` (issuer and subject must match exactly, case-sensitive; save as credential.json):"
            ),
            "  {".into(),
            "    \"name\": \"vercel-web-forged-----line-production-31m\",".into(),
            "    \"issuer\": \"https://oidc.vercel.com/acme\\u001b]0;owned\\u0007\",".into(),
            "    \"subject\": \"owner:acme:project:web:environment:production\\u001b[2J\",".into(),
            "    \"audiences\": [".into(),
            "      \"https://vercel.com/acme\\u202elmth.exe\"".into(),
            "    ]".into(),
            "  }".into(),
            "command:".into(),
            format!(
                "  az ad app federated-credential create --id {CLIENT} --parameters credential.json"
            ),
            format!(
                "note: Azure proposes the audience `api://AzureADTokenExchange` for new credentials, but this token's is `{AUD_SHOWN}`: the credential must list `{AUD_SHOWN}`"
            ),
        ]
    );
}

/// A setting's value (here the role ARN, from the environment) is shown escaped where doctor
/// echoes it, and in its error; the command that would name it is refused.
#[test]
fn doctor_echoes_setting_values_escaped() {
    let mut sb = every_cloud(&token_with(serde_json::json!({})));
    sb.set(
        vars::AWS_ROLE_ARN,
        "arn:aws:iam::123456789012:role/dep\u{1b}[8mloy",
    );
    let out = sb.run(&["doctor", "--offline", "--aws"]);
    assert_eq!((out.code, out.stderr.as_str()), (1, ""), "{}", out.stdout);
    assert_visible(&out.stdout);
    let aws = section(&out.stdout, "\nAWS");
    let rows: Vec<&str> = aws
        .lines()
        .filter(|l| {
            l.starts_with("  role_arn ")
                || l.contains("update-assume-role-policy")
                || l.contains("# no command")
        })
        .collect();
    assert_eq!(
        rows,
        [
            "  role_arn               arn:aws:iam::123456789012:role/dep\\x1b[8mloy  (env AWS_ROLE_ARN)",
            "      # no command: `dep\\x1b[8mloy` holds a control or invisible character, which cannot be shown in a command to paste",
        ]
    );
}

/// Runs `line` in `shell` from `dir`, with stand-ins for `aws`, `gcloud` and `az` first on PATH
/// that write their arguments to `argv`, and returns them (the tool's name first).
fn run_pasted(shell: &str, line: &str, dir: &Path) -> Vec<String> {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("argv");
    for tool in ["aws", "gcloud", "az"] {
        let stub = bin.join(tool);
        std::fs::write(
            &stub,
            format!(
                "#!/bin/sh\nprintf '%s\\0' {tool} \"$@\" > '{}'\n",
                log.display()
            ),
        )
        .unwrap();
        let mut perms = std::fs::metadata(&stub).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
        std::fs::set_permissions(&stub, perms).unwrap();
    }
    let _ = std::fs::remove_file(&log);
    let out = Run::helper(shell)
        .args(["-c", line])
        .current_dir(dir)
        .env_clear()
        .env(vars::PATH, format!("{}:/usr/bin:/bin", bin.display()))
        .output();
    assert_eq!(out.code, 0, "{shell} failed on {line:?}: {}", out.stderr);
    let argv = std::fs::read_to_string(&log).unwrap_or_default();
    argv.split_terminator('\0').map(str::to_string).collect()
}

/// `line` as Python's `shlex.split` (POSIX mode, comments dropped) reads it, as botocore and
/// google-auth read commands; `None` without python3.
fn shlex_split(line: &str) -> Option<Vec<String>> {
    let python = which::which("python3").ok()?;
    let out = Run::helper(python)
        .args([
            "-c",
            "import json, shlex, sys; print(json.dumps(shlex.split(sys.argv[1], comments=True)))",
            line,
        ])
        .output();
    assert_eq!(out.code, 0, "{}", out.stderr);
    Some(serde_json::from_str(&out.stdout).unwrap())
}

/// Each command doctor prints, with claims full of shell syntax, gives exactly the intended
/// arguments in dash and bash and to `shlex`, and runs nothing else.
#[test]
fn pasted_commands_give_exactly_the_intended_arguments() {
    let c = shell_claims();
    let text = |k: &str| c[k].as_str().unwrap().to_string();
    let (iss, sub, aud) = (text("iss"), text("sub"), text("aud"));
    let sb = every_cloud(&token_with(c.clone()));
    let out = sb.run(&["doctor", "--offline"]);
    assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
    let provider = |verb: &str| {
        vec![
            "gcloud".to_string(),
            "iam".into(),
            "workload-identity-pools".into(),
            "providers".into(),
            verb.into(),
            "vercel-acme".into(),
            "--project=123456789012".into(),
            "--location=global".into(),
            "--workload-identity-pool=vercel".into(),
            format!("--issuer-uri={iss}"),
            format!("--allowed-audiences={aud}"),
            format!("--attribute-mapping={MAPPING}"),
            "--attribute-condition=assertion.owner == \"ac'me\\\"$(touch pwned-owner)\"".into(),
        ]
    };
    let words = |s: &str| s.split(' ').map(str::to_string).collect::<Vec<_>>();
    let mut create_provider = words("aws iam create-open-id-connect-provider --url");
    create_provider.extend([
        iss.clone(),
        "--client-id-list".into(),
        serde_json::json!([aud]).to_string(),
    ]);
    let mut grant = words("gcloud iam service-accounts add-iam-policy-binding");
    grant.extend([
        SA.to_string(),
        "--role=roles/iam.workloadIdentityUser".into(),
        format!("--member=principal://iam.googleapis.com/{POOL}/subject/{sub}"),
    ]);
    let intended: Vec<Vec<String>> = vec![
        create_provider,
        words(
            "aws iam update-assume-role-policy --role-name deploy --policy-document file://trust-policy.json",
        ),
        words(
            "gcloud iam workload-identity-pools create vercel --project=123456789012 --location=global",
        ),
        provider("create-oidc"),
        provider("update-oidc"),
        grant,
        words(&format!(
            "az ad app federated-credential create --id {CLIENT} --parameters credential.json"
        )),
    ];
    let commands = pasted_commands(&out.stdout);
    assert_eq!(commands.len(), intended.len(), "{commands:#?}");
    let dir = tempfile::tempdir().unwrap();
    for (line, want) in commands.iter().zip(&intended) {
        for shell in ["dash", "bash"] {
            assert_eq!(
                &run_pasted(shell, line, dir.path()),
                want,
                "{shell}: {line}"
            );
        }
        if let Some(split) = shlex_split(line) {
            assert_eq!(&split, want, "shlex: {line}");
        }
    }
    let made: Vec<String> = file_names(dir.path())
        .into_iter()
        .filter(|n| n != "bin" && n != "argv")
        .collect();
    assert!(made.is_empty(), "a pasted command ran something: {made:?}");
}

/// One row per claim that a tool would read as more or other than the one value a pasted
/// command shows, whatever the quoting: the exact commands doctor prints. gcloud splits
/// `--allowed-audiences` at `,` (or at the separator a leading `^X^` names) and reads an empty
/// one as no audience, so those give no provider command; the AWS CLI would read a bare
/// `--client-id-list` value starting with `[` as JSON and one starting with `file://` or (v1)
/// `https://` as a file or address to load, so the audience goes as a one-item JSON list; and
/// it loads `--url file://…` (v2), so that gives no command.
#[test]
fn doctor_prints_no_command_that_a_tool_would_read_as_other_values() {
    let gcloud_rest = format!(
        "--attribute-mapping={MAPPING} --attribute-condition='assertion.owner == \"acme\"'"
    );
    let provider = |verb: &str, iss: &str, aud: &str| {
        format!(
            "gcloud iam workload-identity-pools providers {verb} vercel-acme --project=123456789012 --location=global --workload-identity-pool=vercel --issuer-uri={iss} --allowed-audiences={aud} {gcloud_rest}"
        )
    };
    let note = "  # instead of create-oidc, for a provider that exists";
    let aws = |iss: &str, list: &str| {
        format!("aws iam create-open-id-connect-provider --url {iss} --client-id-list {list}")
    };
    let split = "holds `,`, where gcloud splits a list flag's value into several";
    let iss = "https://oidc.vercel.com/acme";
    let rows: Vec<(serde_json::Value, [String; 3])> = vec![
        (
            serde_json::json!({"aud": "https://vercel.com/a,https://evil.example"}),
            [
                aws(iss, r#"'["https://vercel.com/a,https://evil.example"]'"#),
                format!("# no command: `https://vercel.com/a,https://evil.example` {split}"),
                format!("# no command: `https://vercel.com/a,https://evil.example` {split}{note}"),
            ],
        ),
        (
            serde_json::json!({"aud": "^;^https://vercel.com/a;https://evil.example"}),
            [
                aws(iss, r#"'["^;^https://vercel.com/a;https://evil.example"]'"#),
                "# no command: `^;^https://vercel.com/a;https://evil.example` starts with `^`, with which gcloud names another separator for a list flag's value".into(),
                format!("# no command: `^;^https://vercel.com/a;https://evil.example` starts with `^`, with which gcloud names another separator for a list flag's value{note}"),
            ],
        ),
        (
            serde_json::json!({"aud": r#"["https://vercel.com/acme","https://evil.example"]"#}),
            [
                aws(
                    iss,
                    r#"'["[\"https://vercel.com/acme\",\"https://evil.example\"]"]'"#,
                ),
                format!("# no command: `[\"https://vercel.com/acme\",\"https://evil.example\"]` {split}"),
                format!("# no command: `[\"https://vercel.com/acme\",\"https://evil.example\"]` {split}{note}"),
            ],
        ),
        (
            serde_json::json!({"aud": "file:///home/me/.aws/credentials"}),
            [
                aws(iss, r#"'["file:///home/me/.aws/credentials"]'"#),
                provider("create-oidc", iss, "file:///home/me/.aws/credentials"),
                provider("update-oidc", iss, "file:///home/me/.aws/credentials") + note,
            ],
        ),
        (
            serde_json::json!({"iss": "file:///home/me/.aws/credentials"}),
            [
                "# no command: `file:///home/me/.aws/credentials` starts with `file://` or `fileb://`, which the AWS CLI reads as a file to load".into(),
                provider("create-oidc", "file:///home/me/.aws/credentials", "https://vercel.com/acme"),
                provider("update-oidc", "file:///home/me/.aws/credentials", "https://vercel.com/acme") + note,
            ],
        ),
    ];
    for (claims, [create_provider, create_oidc, update_oidc]) in rows {
        let sb = every_cloud(&token_with(claims.clone()));
        let out = sb.run(&["doctor", "--offline"]);
        assert_eq!((out.code, out.stderr.as_str()), (0, ""), "{}", out.stdout);
        assert_eq!(
            pasted_commands(&out.stdout),
            [
                create_provider,
                "aws iam update-assume-role-policy --role-name deploy --policy-document file://trust-policy.json".to_string(),
                "gcloud iam workload-identity-pools create vercel --project=123456789012 --location=global".into(),
                create_oidc,
                update_oidc,
                format!("gcloud iam service-accounts add-iam-policy-binding {SA} --role=roles/iam.workloadIdentityUser --member=principal://iam.googleapis.com/{POOL}/subject/owner:acme:project:web:environment:production"),
                format!("az ad app federated-credential create --id {CLIENT} --parameters credential.json"),
            ],
            "{claims}"
        );
    }
}

// --- refusals -------------------------------------------------------------------------------

fn sts_access_denied(message: &str) -> Reply {
    Reply::xml(
        403,
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        ),
    )
}

/// STS refuses a token whose claims hold escape sequences, in a message that holds some too
/// (a C1 CSI, a line break, a right-to-left override: XML allows no ESC): the whole error is
/// shown escaped, one line per line of its own.
#[test]
fn sts_refusal_shows_claims_and_message_escaped() {
    let sts = MockServer::start(|_, _| {
        sts_access_denied("Not authorized&#x9b;2J&#10;error: forged line&#x202e;")
    });
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, token_with(control_claims()))
        .set(vars::AWS_ENDPOINT_URL_STS, sts.url());
    let out = sb.run(&["aws", "credential-process", "--role-arn", ROLE]);
    let url = sts.url();
    assert_visible(&out.stderr);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            1,
            "",
            &*format!(
                "error: STS refused to let the token assume `arn:aws:iam::123456789012:role/deploy` ({url}): AccessDenied: Not authorized\\u{{9b}}2J\\nerror: forged line\\u{{202e}}\n  the role's trust policy does not accept this token (usually its `sub` or `aud` condition).\n  the token carried:\n    iss: https://oidc.vercel.com/acme\\x1b]0;owned\\x07\n    sub: owner:acme:project:web:environment:production\\x1b[2J\n    aud: https://vercel.com/acme\\u{{202e}}lmth.exe\n  STS accepts it when account 123456789012 has the IAM OIDC provider `arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme\\x1b]0;owned\\x07` (provider URL `https://oidc.vercel.com/acme\\x1b]0;owned\\x07`, audience `https://vercel.com/acme\\u{{202e}}lmth.exe`)\n  and the trust policy of `arn:aws:iam::123456789012:role/deploy` allows it, for example:\n    {{\n      \"Version\": \"2012-10-17\",\n      \"Statement\": [\n        {{\n          \"Effect\": \"Allow\",\n          \"Principal\": {{\n            \"Federated\": \"arn:aws:iam::123456789012:oidc-provider/oidc.vercel.com/acme\\u001b]0;owned\\u0007\"\n          }},\n          \"Action\": \"sts:AssumeRoleWithWebIdentity\",\n          \"Condition\": {{\n            \"StringEquals\": {{\n              \"oidc.vercel.com/acme\\u001b]0;owned\\u0007:aud\": \"https://vercel.com/acme\\u202elmth.exe\",\n              \"oidc.vercel.com/acme\\u001b]0;owned\\u0007:sub\": \"owner:acme:project:web:environment:production\\u001b[2J\"\n            }}\n          }}\n        }}\n      ]\n    }}\n  (a `StringLike` condition on `oidc.vercel.com/acme\\x1b]0;owned\\x07:sub` such as `owner:<team>:project:<project>:environment:*` admits every environment)\n"
            )
        ),
    );
}

/// Google STS the same.
#[test]
fn google_refusal_shows_claims_and_message_escaped() {
    let google = MockServer::start(|_, _| {
        Reply::json(
            400,
            r#"{"error":"invalid_grant","error_description":"The audience in ID Token does not match\u001b[2J\nerror: forged line\u202e"}"#,
        )
    });
    let mut sb = Sandbox::new();
    sb.set(vars::VERCEL_OIDC_TOKEN, token_with(control_claims()))
        .set(vars::GCP_PROJECT_NUMBER, "123456789012")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_ID, "vercel")
        .set(vars::GCP_WORKLOAD_IDENTITY_POOL_PROVIDER_ID, "vercel-acme")
        .set(
            vars::VERCEL_OIDC_GCP_TOKEN_URL,
            format!("{}/v1/token", google.url()),
        );
    let out = sb.run(&["gcp", "access-token"]);
    let url = google.url();
    assert_visible(&out.stderr);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            1,
            "",
            &*format!(
                "error: Google STS (`{url}/v1/token`) refused the token: HTTP 400 invalid_grant: The audience in ID Token does not match\\x1b[2J\\nerror: forged line\\u{{202e}}\n  the provider's allowed audiences must include the token's `aud` (`https://vercel.com/acme\\u{{202e}}lmth.exe`); a new provider allows only its own resource name by default\n  the token carried:\n    iss: https://oidc.vercel.com/acme\\x1b]0;owned\\x07\n    sub: owner:acme:project:web:environment:production\\x1b[2J\n    aud: https://vercel.com/acme\\u{{202e}}lmth.exe\n  audience sent: //iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/vercel/providers/vercel-acme\n  Google STS accepts it when provider `vercel-acme` of pool `vercel` in project 123456789012 has:\n    issuer URI:        https://oidc.vercel.com/acme\\x1b]0;owned\\x07\n    allowed audience:  https://vercel.com/acme\\u{{202e}}lmth.exe\n    attribute mapping: google.subject=assertion.sub (and any attribute condition accepts the claims above)\n  for example:\n    # no command: `https://oidc.vercel.com/acme\\x1b]0;owned\\x07` holds a control or invisible character, which cannot be shown in a command to paste\n"
            )
        ),
    );
}

/// A sandbox with `token` for app [`CLIENT`] of [`TENANT`], the authority being the TLS `mock`.
fn azure_sandbox(mock: &MockServer, token: &str) -> Sandbox {
    let mut sb = Sandbox::new();
    let ca = mock.write_ca(sb.path());
    sb.set(vars::VERCEL_OIDC_TOKEN, token)
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_CLIENT_ID, CLIENT)
        .set(vars::AZURE_AUTHORITY_HOST, mock.url())
        .set(vars::SSL_CERT_FILE, ca.display().to_string());
    sb
}

/// Entra ID the same.
#[test]
fn entra_refusal_shows_claims_and_message_escaped() {
    let entra = MockServer::start_tls(|_, _| {
        Reply::json(
            400,
            r#"{"error":"invalid_client","error_description":"AADSTS70021: No matching federated identity record found\u001b[2J\nerror: forged line\u202e","error_codes":[70021]}"#,
        )
    });
    let sb = azure_sandbox(&entra, &token_with(control_claims()));
    let out = sb.run(&["azure", "access-token", "--scope", SCOPE]);
    let url = entra.url();
    assert_visible(&out.stderr);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            1,
            "",
            &*format!(
                "error: Entra ID refused the token for app `11111111-2222-3333-4444-555555555555` in tenant `72f988bf-86f1-41af-91ab-2d7cd011db47` ({url}/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token): invalid_client: AADSTS70021: No matching federated identity record found\\x1b[2J\n  no federated credential on app `11111111-2222-3333-4444-555555555555` matches the token.\n  the token carried:\n    iss: https://oidc.vercel.com/acme\\x1b]0;owned\\x07\n    sub: owner:acme:project:web:environment:production\\x1b[2J\n    aud: https://vercel.com/acme\\u{{202e}}lmth.exe\n  a federated credential on app `11111111-2222-3333-4444-555555555555` matches it when its issuer and subject equal these exactly (subject matching is case-sensitive, no wildcards) and its audiences include the token's `aud`, for example (save as credential.json, then `az ad app federated-credential create --id 11111111-2222-3333-4444-555555555555 --parameters credential.json`):\n    {{\n      \"name\": \"vercel-web-forged-----line-production-31m\",\n      \"issuer\": \"https://oidc.vercel.com/acme\\u001b]0;owned\\u0007\",\n      \"subject\": \"owner:acme:project:web:environment:production\\u001b[2J\",\n      \"audiences\": [\n        \"https://vercel.com/acme\\u202elmth.exe\"\n      ]\n    }}\n  note: Azure proposes the audience `api://AzureADTokenExchange` for new credentials, but this token's audience is `https://vercel.com/acme\\u{{202e}}lmth.exe`; the credential must list `https://vercel.com/acme\\u{{202e}}lmth.exe`\n"
            )
        ),
    );
}

// --- -v -------------------------------------------------------------------------------------

/// Under `-v`, the `token_type` Entra answers is shown redacted and escaped like error text: an
/// escape sequence, a line break and a JWT-looking value (the client assertion sent back) in it
/// neither reach the terminal nor are shown.
#[test]
fn verbose_shows_the_token_type_redacted_and_escaped() {
    let token = token_with(serde_json::json!({}));
    let echoed = token.clone();
    register_secret("eyJhbGciOi.eyJzdWIiOiJ4In0.c2lnbmF0dXJl");
    let entra = MockServer::start_tls(move |_, _| {
        register_secret("azure-access-value-0123");
        Reply::json(
            200,
            format!(
                r#"{{"token_type":"Bearer\u001b[2J\nvercel-oidc: forged {echoed} eyJhbGciOi.eyJzdWIiOiJ4In0.c2lnbmF0dXJl","expires_in":3599,"access_token":"azure-access-value-0123"}}"#
            ),
        )
    });
    let sb = azure_sandbox(&entra, &token);
    let out = sb
        .command(&["-v", "azure", "access-token", "--scope", SCOPE])
        .reveals("azure-access-value-0123")
        .output();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "azure-access-value-0123\n");
    assert_visible(&out.stderr);
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("vercel-oidc: Entra ID issued a "))
        .unwrap_or_else(|| panic!("no line for the issued token in:\n{}", out.stderr));
    let until = line.rsplit_once(" until ").unwrap().1;
    assert_eq!(
        line,
        format!(
            "vercel-oidc: Entra ID issued a Bearer\\x1b[2J\\nvercel-oidc: forged [redacted] [redacted] token until {until}"
        )
    );
    assert!(
        !out.stderr.contains("\nvercel-oidc: forged"),
        "{}",
        out.stderr
    );
}

// --- whatever else reaches stderr -------------------------------------------------------------

/// An error naming a path with an escape sequence in it (here SSL_CERT_FILE) shows the path
/// escaped, the message's own line break kept.
#[test]
fn errors_show_paths_escaped() {
    let mut sb = Sandbox::new();
    let missing = sb.path().join("c\u{1b}[2Ja.pem");
    sb.set(vars::VERCEL_OIDC_TOKEN, token_with(serde_json::json!({})))
        .set(vars::SSL_CERT_FILE, missing.display().to_string());
    let out = sb.run(&["aws", "credential-process", "--role-arn", ROLE]);
    assert_eq!(
        (out.code, out.stdout.as_str(), out.stderr.as_str()),
        (
            1,
            "",
            &*format!(
                "error: cannot read SSL_CERT_FILE `{}/c\\x1b[2Ja.pem`: it does not exist\n  point SSL_CERT_FILE at a PEM bundle (a regular file of at most 8 MiB), or unset it\n",
                sb.path().display()
            )
        ),
    );
}

/// Every `-v` line is escaped, whatever it names: here a cache hit in a cache directory whose
/// name holds an escape sequence.
#[test]
fn verbose_lines_show_paths_escaped() {
    let sts = MockServer::start(|_, _| sts_credentials("ASIAHOSTILEOUTPUT1", 3 * 3600));
    let mut sb = Sandbox::new();
    let cache = sb.path().join("ca\u{1b}[2Jche");
    sb.set(vars::VERCEL_OIDC_TOKEN, token_with(serde_json::json!({})))
        .set(vars::AWS_ENDPOINT_URL_STS, sts.url())
        .set(vars::VERCEL_OIDC_CACHE_DIR, cache.display().to_string());
    let args = ["-v", "aws", "credential-process", "--role-arn", ROLE];
    let run = || {
        sb.command(&args)
            .reveals_all(sts_secrets("ASIAHOSTILEOUTPUT1"))
            .output()
    };
    assert_eq!(run().code, 0);
    let out = run();
    assert_eq!((out.code, sts.count()), (0, 1), "{}", out.stderr);
    assert_visible(&out.stderr);
    let hit = format!(
        "vercel-oidc: cache hit `{}/ca\\x1b[2Jche/",
        sb.path().display()
    );
    assert!(
        out.stderr.lines().any(|l| l.starts_with(&hit)),
        "no line starting {hit:?} in:\n{}",
        out.stderr
    );
}
