//! The secrets a test's world has issued, and the check that every run's output goes through.
//!
//! A *world* is what one test has set up: its tokens, the credentials its stand-in servers
//! handed out, the login files it planted. Each is registered when it is issued: by the token
//! builders ([`super::jwt`]), by the answers of a [`super::MockServer`] (whose handler threads
//! register into the world of the test that started the server), or by hand with
//! [`register_secret`]. A test's world is its thread's (libtest runs each test on a thread of
//! its own) and is made on first use.
//!
//! [`check_run`] fails the test when any registered secret shows in a run's stderr, or in its
//! stdout unless the run was asked to print that very secret ([`super::Run::reveals`]), in
//! every form a leak could take: as it is, URL-encoded (form and percent encoding, either case
//! of hex) and JSON-escaped. It also fails a run in a world that has issued no secret at all,
//! where the check would pass whatever the run printed.

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The secrets one test has issued.
#[derive(Default)]
pub struct World {
    secrets: Mutex<Vec<String>>,
}

impl World {
    fn secrets(&self) -> MutexGuard<'_, Vec<String>> {
        // A test that failed while holding the lock does not poison it for its server threads.
        self.secrets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn register(&self, secret: &str) {
        let mut secrets = self.secrets();
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_string());
        }
    }

    /// How many secrets this world has issued.
    pub fn issued(&self) -> usize {
        self.secrets().len()
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<World>>> = const { RefCell::new(None) };
}

/// Every secret any world of this test binary has issued: checked as well, so that a secret
/// registered on a thread that does not know its test's world is still looked for.
static EVERY: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The world of the test running on this thread.
pub fn world() -> Arc<World> {
    CURRENT.with(|current| {
        current
            .borrow_mut()
            .get_or_insert_with(|| Arc::new(World::default()))
            .clone()
    })
}

/// Makes `world` this thread's, for a thread that serves a test (a stand-in server's handler).
pub fn enter(world: Arc<World>) {
    CURRENT.with(|current| *current.borrow_mut() = Some(world));
}

/// Marks `secret` as issued in this test's world: from now on no run may show it, in any form,
/// unless asked to. An empty string is no secret and is ignored.
pub fn register_secret(secret: impl Into<String>) {
    let secret = secret.into();
    if secret.is_empty() {
        return;
    }
    world().register(&secret);
    let mut every = EVERY.lock().unwrap_or_else(PoisonError::into_inner);
    if !every.contains(&secret) {
        every.push(secret);
    }
}

/// `secret` in every form a leak could take: as it is, URL-encoded (as a form value, and
/// percent-encoded with upper- or lower-case hex), JSON-escaped (with or without `\/`), and
/// base64-encoded (standard and URL-safe); for a JWT, also its signature alone, which is what
/// makes it a credential.
pub fn forms(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    let json = serde_json::to_string(secret).unwrap();
    let json = json[1..json.len() - 1].to_string();
    let percent_upper: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut all = vec![
        secret.to_string(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        lower_hex_escapes(&percent_upper),
        percent_upper,
        json.replace('/', "\\/"),
        json,
        STANDARD.encode(secret),
        URL_SAFE_NO_PAD.encode(secret),
    ];
    all.extend(jwt_signature(secret).map(str::to_string));
    all.sort();
    all.dedup();
    all
}

/// The signature segment of `secret` when it is a JWT (three dot-separated base64url parts) with a
/// signature long enough to be one.
fn jwt_signature(secret: &str) -> Option<&str> {
    let parts: Vec<&str> = secret.split('.').collect();
    let base64url = |p: &str| {
        p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    match parts[..] {
        [h, p, sig] if sig.len() >= 16 && [h, p, sig].iter().all(|part| base64url(part)) => {
            Some(sig)
        }
        _ => None,
    }
}

/// `text` with the hex digits of each `%XX` escape in lower case, and nothing else changed.
fn lower_hex_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        out.push_str(&escape.to_ascii_lowercase());
        rest = &rest[at + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// Fails the test when a secret of `world` (or of any other world) shows in the run's stderr,
/// or in its stdout unless `revealed` says the run was asked for it; and, when
/// `must_have_issued`, when `world` has issued no secret. `run` is (what ran, for the message;
/// stdout; stderr).
#[track_caller]
pub fn check_run(
    world: &World,
    run: (&str, &str, &str),
    revealed: &dyn Fn(&str) -> bool,
    must_have_issued: bool,
) {
    let (what, stdout, stderr) = run;
    assert!(
        !must_have_issued || world.issued() > 0,
        "{what}: this test has issued no secret, so the leak check of its output proves nothing; \
         give the run something it must keep to itself (a token from fresh_token() or jwt(), \
         credentials from sts_credentials(), or register_secret())"
    );
    let mut secrets = world.secrets().clone();
    for s in EVERY.lock().unwrap_or_else(PoisonError::into_inner).iter() {
        if !secrets.contains(s) {
            secrets.push(s.clone());
        }
    }
    for secret in &secrets {
        for form in forms(secret) {
            assert!(
                !stderr.contains(&form),
                "{what}: a secret leaked into stderr as `{form}`:\n{stderr}"
            );
            assert!(
                revealed(secret) || !stdout.contains(&form),
                "{what}: a secret it was not asked for leaked into stdout as `{form}`:\n{stdout}"
            );
        }
    }
}

/// Fails the test when a registered secret shows in `text`, in any form.
#[track_caller]
pub fn assert_no_secrets(text: &str) {
    check_run(&world(), ("this text", "", text), &|_| false, true);
}
