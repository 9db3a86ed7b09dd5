//! Environments that are not all UTF-8 (issue 15, item 7), through the real binary: `exec`'s
//! command gets the parent's environment byte for byte, less and plus the wiring, names and
//! values that are not UTF-8 included; a variable vercel-oidc reads itself whose value is not
//! UTF-8 is refused, naming it, before anything is done.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;
use vercel_oidc::vars;

use common::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "11111111-2222-3333-4444-555555555555";

/// A Latin-1 value, as an old system's paths are.
const LATIN1_VALUE: &[u8] = b"/srv/caf\xe9";
/// A name holding byte 0xff, and its value.
const ODD_NAME: &[u8] = b"ODD_\xff_NAME";
const ODD_VALUE: &[u8] = b"value \xff\xfe";
/// A `PATH` whose first directory is not UTF-8.
const LATIN1_PATH: &[u8] = b"/opt/caf\xe9/bin:/usr/bin:/bin";

fn os(b: &[u8]) -> &OsStr {
    OsStr::from_bytes(b)
}

/// The environment `env -0` printed, as bytes.
fn environ(printed: &[u8]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    printed
        .split(|b| *b == 0)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let eq = entry.iter().position(|b| *b == b'=').expect("NAME=value");
            (entry[..eq].to_vec(), entry[eq + 1..].to_vec())
        })
        .collect()
}

/// `exec --azure -- env -0` (Azure needs no request to wire): the child's whole environment is
/// the parent's, byte for byte, with the wiring added; `PATH` is searched as the bytes it holds.
#[test]
fn exec_hands_the_command_every_variable_byte_for_byte() {
    let mut sb = Sandbox::new();
    let token = fresh_token();
    sb.set(vars::VERCEL_OIDC_TOKEN, token.clone())
        .set(vars::AZURE_TENANT_ID, TENANT)
        .set(vars::AZURE_CLIENT_ID, CLIENT);
    // A stand-in `az` first on PATH, so that exec puts its login step in front of it on every
    // machine, joining its own folder to a PATH that is not UTF-8.
    let tools = sb.path().join("tools");
    std::fs::create_dir(&tools).unwrap();
    std::fs::write(tools.join("az"), "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(tools.join("az"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = [tools.as_os_str().as_bytes(), b":", LATIN1_PATH].concat();
    let out = sb
        .command(&["exec", "--azure", "--", "env", "-0"])
        .env(vars::PATH, os(&path))
        .env("SRV_DIR", os(LATIN1_VALUE))
        .env(os(ODD_NAME), os(ODD_VALUE))
        .reveals(token.clone())
        .output();
    assert_eq!((out.code, out.stderr.as_str()), (0, ""));
    let mut child = environ(&out.stdout_bytes);

    // The wiring: what exec adds (the run's files are gone by now, so only their names).
    let mut wired = |name: &str| child.remove(name.as_bytes()).expect(name);
    let token_file = wired(vars::VERCEL_OIDC_TOKEN_FILE);
    assert!(token_file.ends_with(b"/token"));
    assert_eq!(wired(vars::AZURE_FEDERATED_TOKEN_FILE), token_file);
    assert_eq!(wired(vars::VERCEL_OIDC_EXEC), b"1");
    assert_eq!(
        wired(vars::AZURE_AUTHORITY_HOST),
        b"https://login.microsoftonline.com/"
    );
    assert_eq!(wired(vars::ARM_OIDC_TOKEN_FILE_PATH), token_file);
    assert_eq!(wired(vars::ARM_USE_OIDC), b"true");
    assert_eq!(wired(vars::ARM_CLIENT_ID), CLIENT.as_bytes());
    assert_eq!(wired(vars::ARM_TENANT_ID), TENANT.as_bytes());
    assert_eq!(wired(vars::ARM_ENVIRONMENT), b"public");
    let run = &token_file[..token_file.len() - b"/token".len()];
    assert_eq!(
        wired(vars::AZURE_CONFIG_DIR),
        [run, b"/azure-cli/config"].concat()
    );
    assert_eq!(wired(vars::PATH), [run, b"/azure-cli/bin:", &path].concat());
    // The rest: the parent's environment exactly, those set again by the wiring included.
    let mut parent: BTreeMap<Vec<u8>, Vec<u8>> = sb
        .env
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    parent.remove(b"PATH".as_slice()); // wired, above
    parent.insert(b"SRV_DIR".to_vec(), LATIN1_VALUE.to_vec());
    parent.insert(ODD_NAME.to_vec(), ODD_VALUE.to_vec());
    assert_eq!(child, parent);
}

/// A variable read as text whose value is not UTF-8: refused, naming it, with nothing on
/// stdout, even where another source would have served (it was read as unset, and the token
/// in `VERCEL_OIDC_TOKEN` used in place of the file named).
#[test]
fn a_variable_read_as_text_that_is_not_utf8_is_refused_by_name() {
    let cases: &[(&str, &[&str])] = &[
        (vars::VERCEL_OIDC_TOKEN_FILE, &["token", "--print"]),
        (vars::HTTPS_PROXY, &["token", "--print"]),
        (vars::AZURE_CLIENT_ID, &["exec", "--azure", "--", "true"]),
        (vars::HOME, &["exec", "--azure", "--", "true"]),
    ];
    for (var, args) in cases {
        let mut sb = Sandbox::new();
        sb.set(vars::VERCEL_OIDC_TOKEN, fresh_token())
            .set(vars::AZURE_TENANT_ID, TENANT)
            .set(vars::AZURE_CLIENT_ID, CLIENT);
        let out = sb.command(args).env(var, os(LATIN1_VALUE)).output();
        let want = format!(
            "error: the value of {var} is not UTF-8 text, and vercel-oidc reads it as text\n  set {var} to UTF-8 text, or unset it\n"
        );
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (1, "", want.as_str()),
            "{var}"
        );
    }
}

/// The Vercel CLI that a local refresh runs gets the environment byte for byte too, found on a
/// `PATH` whose directory is not UTF-8. (Through `sh`, which drops a name that is not one, so
/// only a value is checked here.)
#[test]
fn the_vercel_cli_gets_the_environment_byte_for_byte() {
    let api = MockServer::start(|_, _| Reply::json(500, "{}"));
    let (mut sb, app) = linked_project(&api);
    let minted = jwt(&claims(now() + 12 * 3600));
    let mut bin = sb.path().as_os_str().as_bytes().to_vec();
    bin.extend_from_slice(b"/bin-caf\xe9");
    let bin = PathBuf::from(os(&bin));
    std::fs::create_dir(&bin).unwrap();
    let dump = sb.path().join("vercel-env.out");
    let script = format!(
        "#!/bin/sh\nenv -0 > '{}'\nprintf '{{\"token\":\"%s\"}}' '{minted}'\n",
        dump.display()
    );
    std::fs::write(bin.join("vercel"), script).unwrap();
    std::fs::set_permissions(bin.join("vercel"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut path = bin.as_os_str().as_bytes().to_vec();
    path.extend_from_slice(b":/usr/bin:/bin");
    sb.unset(vars::PATH);
    let out = sb
        .command(&["token", "--print"])
        .current_dir(&app)
        .env(vars::PATH, os(&path))
        .env("SRV_DIR", os(LATIN1_VALUE))
        .reveals(minted.clone())
        .output();
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (0, ""),
        "the CLI was not run"
    );
    assert_eq!(out.stdout, format!("{minted}\n"));
    let seen = environ(&std::fs::read(&dump).unwrap());
    assert_eq!(seen[&b"SRV_DIR"[..]], LATIN1_VALUE);
    assert_eq!(seen[&b"PATH"[..]], path);
    assert_eq!(api.count(), 0);
}
