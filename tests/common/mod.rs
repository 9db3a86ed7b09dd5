//! Shared test harness: run the real binary in a clean environment, mint unsigned tokens, and
//! serve HTTP (or HTTPS, with a throwaway CA) from a local recording server.
//!
//! Every process a test starts goes through [`Run`] (`run.rs`), which checks its stdout and
//! stderr against every secret the test's world has issued (`secrets.rs`): the tokens minted
//! here and the credentials the stand-in servers hand out, registered as they are issued.
//! tests/harness.rs keeps it so.

#![allow(dead_code)]

mod run;
mod secrets;

// Each test file uses some of these.
#[allow(unused_imports)]
pub use run::{HANG, Output, Run, Running, Stdin};
#[allow(unused_imports)]
pub use secrets::{World, assert_no_secrets, forms, register_secret, world};

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use vercel_oidc::vars;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const BIN: &str = env!("CARGO_BIN_EXE_vercel-oidc");

/// `secs` from now as RFC 3339 with `Z`, whole seconds (the form the clouds send).
pub fn rfc3339_in(secs: i64) -> String {
    vercel_oidc::timefmt::rfc3339_z(time::OffsetDateTime::now_utc() + time::Duration::seconds(secs))
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims shaped like a Vercel production token for team `acme`, project `web`.
pub fn claims(exp: i64) -> serde_json::Value {
    serde_json::json!({
        "iss": "https://oidc.vercel.com/acme",
        "sub": "owner:acme:project:web:environment:production",
        "scope": "owner:acme:project:web:environment:production",
        "aud": "https://vercel.com/acme",
        "iat": exp - 3600, "nbf": exp - 3600, "exp": exp,
        "owner": "acme", "owner_id": "team_acme123",
        "project": "web", "project_id": "prj_web123",
        "environment": "production",
    })
}

/// An unsigned JWT with these claims (nothing here checks signatures). Registered as a secret.
pub fn jwt(claims: &serde_json::Value) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"test-key","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap());
    let sig = URL_SAFE_NO_PAD.encode(format!("signature-{}", fastrand::u64(..)));
    let token = format!("{header}.{body}.{sig}");
    register_secret(token.clone());
    token
}

/// What to do about an expired token, locally.
pub const PULL_HINT: &str = "locally, run `vercel link` once and then `vercel env pull` to write a fresh token (valid about 12 hours) to `.env.local`";

/// What to do about an expired token, in a Vercel build.
pub const BUILD_HINT: &str = "in a Vercel build, enable OIDC Federation in the project settings (Settings > Security); build tokens last about an hour, so fetch credentials early or use `vercel-oidc exec`";

/// The error for a token from `source` (`VERCEL_OIDC_TOKEN`, or that in `…/.env.local`) whose
/// `exp`, `ago` (`1h 0m`) before the run, has passed, ending in `hint`.
pub fn expired_error(source: &str, ago: &str, exp: i64, hint: &str) -> String {
    let at = vercel_oidc::timefmt::rfc3339_z(vercel_oidc::timefmt::from_unix_saturating(exp));
    format!("error: the Vercel OIDC token from {source} expired {ago} ago (at {at})\n  {hint}\n")
}

/// Fails the test unless `actual` is one of `candidates` (the wordings of a time that depends
/// on when the run looked).
#[track_caller]
pub fn assert_one_of(actual: &str, candidates: &[String]) {
    assert!(
        candidates.iter().any(|c| c == actual),
        "{actual:?} is none of {candidates:#?}"
    );
}

/// A token valid for another hour.
pub fn fresh_token() -> String {
    jwt(&claims(now() + 3600))
}

/// A clean place to run the binary: an empty HOME and working directory, a cleared environment.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    pub env: BTreeMap<String, String>,
    /// The world of the test that made it, whose secrets its runs are checked against.
    world: Arc<World>,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut env = BTreeMap::new();
        env.insert(vars::HOME.into(), home.display().to_string());
        env.insert(vars::PATH.into(), "/usr/local/bin:/usr/bin:/bin".into());
        env.insert(
            vars::XDG_CACHE_HOME.into(),
            dir.path().join("cache").display().to_string(),
        );
        Self {
            dir,
            env,
            world: world(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn home(&self) -> PathBuf {
        self.path().join("home")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.path().join("cache").join("vercel-oidc")
    }

    pub fn set(&mut self, k: &str, v: impl Into<String>) -> &mut Self {
        self.env.insert(k.into(), v.into());
        self
    }

    pub fn unset(&mut self, k: &str) -> &mut Self {
        self.env.remove(k);
        self
    }

    /// A run of the binary with `args` here: the sandbox's environment alone, its folder as the
    /// working directory, nothing on stdin.
    pub fn command(&self, args: &[&str]) -> Run {
        self.program(BIN, args)
    }

    /// A run of `program` (a shell running a line the binary wrote, a client) set up as
    /// [`Sandbox::command`] sets up the binary, and checked the same way.
    pub fn program(&self, program: impl AsRef<std::ffi::OsStr>, args: &[&str]) -> Run {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env_clear()
            .envs(&self.env)
            .current_dir(self.path());
        Run::new(cmd, self.world.clone())
    }

    /// Runs the binary to the end; its output is checked for secrets.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output()
    }

    /// [`Sandbox::run`] from another working directory.
    #[track_caller]
    pub fn run_in(&self, dir: &Path, args: &[&str]) -> Output {
        self.command(args).current_dir(dir).output()
    }

    /// Starts `n` copies of the binary at once in `dir` and waits for them all.
    #[track_caller]
    pub fn run_concurrently(&self, n: usize, dir: &Path, args: &[&str]) -> Vec<Output> {
        let children: Vec<Running> = (0..n)
            .map(|_| self.command(args).current_dir(dir).spawn())
            .collect();
        children.into_iter().map(Running::wait).collect()
    }
}

/// The secret key and the session token of [`sts_credentials`] with the key id `key_id`.
pub fn sts_secrets(key_id: &str) -> [String; 2] {
    [
        format!("{key_id}/wJalrXUtnFEMIK7MDENGbPxRfiCYSECRET"),
        format!("FwoGZXIvYXdzSESSION{key_id}secret"),
    ]
}

/// An STS `AssumeRoleWithWebIdentity` answer with the key id `key_id`, expiring in
/// `expires_in` seconds; its secrets ([`sts_secrets`]) are registered.
pub fn sts_credentials(key_id: &str, expires_in: i64) -> Reply {
    let [secret, session] = sts_secrets(key_id);
    register_secret(secret.clone());
    register_secret(session.clone());
    Reply::xml(
        200,
        format!(
            r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>{key_id}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{session}</SessionToken><Expiration>{}</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/vercel-deploy/s</Arn></AssumedRoleUser></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"#,
            rfc3339_in(expires_in)
        ),
    )
}

/// The names in `dir`, sorted.
#[allow(dead_code)]
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// One request as the server received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When it had been read whole.
    pub at: std::time::Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body decoded as `application/x-www-form-urlencoded`, in order.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    pub fn form_value(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// What the server answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub delay: Duration,
    /// More response headers, after `Content-Type`.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    pub fn new(status: u16, content_type: &'static str, body: impl Into<String>) -> Self {
        Self {
            status,
            content_type,
            body: body.into(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    /// A redirect with `status` (301, 302, 303, 307, 308) to `location`.
    pub fn redirect(status: u16, location: impl Into<String>) -> Self {
        Self::new(status, "text/plain", "").with_header("Location", location)
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn xml(status: u16, body: impl Into<String>) -> Self {
        Self::new(status, "text/xml", body)
    }

    pub fn json(status: u16, body: impl Into<String>) -> Self {
        Self::new(status, "application/json", body)
    }

    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

type Handler = Arc<dyn Fn(usize, &Recorded) -> Reply + Send + Sync>;

/// A CA and a server certificate for 127.0.0.1 and localhost, signed by it.
struct TestPki {
    ca_pem: String,
    cert_der: rustls::pki_types::CertificateDer<'static>,
    key_der: rustls::pki_types::PrivateKeyDer<'static>,
}

impl TestPki {
    fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.distinguished_name
            .push(rcgen::DnType::CommonName, "vercel-oidc test CA");
        let ca_key = KeyPair::generate().unwrap();
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca, ca_key);
        let mut leaf =
            CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
        leaf.use_authority_key_identifier_extension = true;
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_key = KeyPair::generate().unwrap();
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
        Self {
            ca_pem: ca_cert.pem(),
            cert_der: leaf_cert.der().clone(),
            key_der: rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
        }
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![self.cert_der.clone()], self.key_der.clone_key())
            .unwrap();
        Arc::new(config)
    }
}

/// A local HTTP/1.1 server on 127.0.0.1 that records every request and answers through a
/// handler given the request's index (0 for the first); plain with [`MockServer::start`], over
/// TLS with a certificate from a throwaway CA with [`MockServer::start_tls`]. It stops when
/// dropped. The handler runs in the world of the test that started the server, so what it
/// issues ([`sts_credentials`], [`jwt`], [`register_secret`]) is registered before the answer
/// leaves.
pub struct MockServer {
    pub addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    /// The CA that signed the server's certificate, when it serves TLS.
    ca_pem: Option<String>,
}

impl MockServer {
    pub fn start(handler: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Self::listen(Arc::new(handler), None)
    }

    /// Serves HTTPS; clients trust it through the CA of [`MockServer::write_ca`].
    pub fn start_tls(handler: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Self::listen(Arc::new(handler), Some(TestPki::new()))
    }

    fn listen(handler: Handler, pki: Option<TestPki>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let tls = pki.as_ref().map(TestPki::server_config);
        let (reqs, stop2) = (requests.clone(), stop.clone());
        let world = world();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = stream else { continue };
                let (reqs, handler, tls) = (reqs.clone(), handler.clone(), tls.clone());
                let world = world.clone();
                std::thread::spawn(move || {
                    secrets::enter(world);
                    match tls {
                        None => {
                            let mut tcp = tcp;
                            serve(&mut tcp, &reqs, &handler);
                        }
                        Some(config) => {
                            let Ok(conn) = rustls::ServerConnection::new(config) else {
                                return;
                            };
                            let mut tls = rustls::StreamOwned::new(conn, tcp);
                            serve(&mut tls, &reqs, &handler);
                            tls.conn.send_close_notify();
                            let _ = tls.flush();
                        }
                    }
                });
            }
        });
        Self {
            addr,
            requests,
            stop,
            ca_pem: pki.map(|p| p.ca_pem),
        }
    }

    /// `http://127.0.0.1:<port>`, or `https://…` for a TLS server; no trailing slash.
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// Writes the CA of a TLS server to `dir/ca.pem` and returns its path.
    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        let pem = self
            .ca_pem
            .as_ref()
            .expect("only a server started with start_tls has a CA");
        let path = dir.join("ca.pem");
        std::fs::write(&path, pem).unwrap();
        path
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads one HTTP request from `stream`.
pub fn read_request(stream: &mut impl Read) -> Option<Recorded> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Recorded {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at: std::time::Instant::now(),
    })
}

/// Writes `reply` as an HTTP/1.1 response that closes the connection.
pub fn write_reply(stream: &mut impl Write, reply: &Reply) {
    let extra: String = reply
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let head = format!(
        "HTTP/1.1 {} X\r\nContent-Type: {}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(reply.body.as_bytes());
    let _ = stream.flush();
}

fn serve(stream: &mut (impl Read + Write), reqs: &Mutex<Vec<Recorded>>, handler: &Handler) {
    let Some(req) = read_request(stream) else {
        return;
    };
    let index = {
        let mut reqs = reqs.lock().unwrap();
        reqs.push(req.clone());
        reqs.len() - 1
    };
    let reply = handler(index, &req);
    std::thread::sleep(reply.delay);
    write_reply(stream, &reply);
}

/// A linked project (`app/`, returned) whose `.env.local` holds an expired token, with a valid
/// Vercel CLI login and `api` standing in for the Vercel API and its OAuth issuer; no `vercel` on
/// PATH. tests/refresh.rs tests the refresh itself.
pub fn linked_project(api: &MockServer) -> (Sandbox, PathBuf) {
    register_secret("cli-login-token-value");
    let mut sb = Sandbox::new();
    let app = sb.path().join("app");
    std::fs::create_dir_all(app.join(".vercel")).unwrap();
    std::fs::write(
        app.join(".vercel/project.json"),
        r#"{"projectId":"prj_web123","orgId":"team_acme123"}"#,
    )
    .unwrap();
    let stale = jwt(&claims(now() - 3600));
    std::fs::write(
        app.join(".env.local"),
        format!("# Created by Vercel CLI\nVERCEL_OIDC_TOKEN=\"{stale}\"\n"),
    )
    .unwrap();
    let data = sb.path().join("data");
    let login = data.join("com.vercel.cli/auth.json");
    std::fs::create_dir_all(login.parent().unwrap()).unwrap();
    std::fs::write(
        &login,
        format!(
            r#"{{"token":"cli-login-token-value","expiresAt":{},"refreshToken":"r"}}"#,
            now() + 3600
        ),
    )
    .unwrap();
    sb.set(vars::XDG_DATA_HOME, data.display().to_string())
        .set(vars::VERCEL_OIDC_API_URL, api.url())
        .set(vars::VERCEL_OIDC_OAUTH_ISSUER, api.url())
        .set(vars::PATH, "/usr/bin:/bin");
    (sb, app)
}
