//! The container-credentials endpoint that `vercel-oidc exec` serves to its child, so that the
//! AWS SDKs and the AWS CLI renew their credentials themselves for as long as the child runs (the
//! protocol of ECS tasks and EKS Pod Identity, which every SDK speaks).
//!
//! The child's environment: `AWS_CONTAINER_CREDENTIALS_FULL_URI`
//! (`http://127.0.0.1:<port>/credentials`), `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (a 0600
//! file holding a random token of 256 bits) and `AWS_CONTAINER_AUTHORIZATION_TOKEN` (the same
//! token, for SDKs that read only the variable).
//!
//! The server listens on 127.0.0.1 only, on a port the system picks. It answers
//! `GET /credentials` carrying `Authorization: <token>` (compared in constant time) with
//!
//! ```json
//! {"AccessKeyId":"ASIA…","SecretAccessKey":"…","Token":"…","Expiration":"2026-12-01T20:00:00Z","RoleArn":"arn:aws:iam::…"}
//! ```
//!
//! A request without the token gets `401`, one with another token `403`; when no credentials can
//! be had, `500`. Each refusal has a body of the shape the SDKs show, `{"Code":…,"Message":…}`
//! (the Go SDK reports only "failed to decode error message" for an empty one). A client has
//! one second, in all, to send a request head of at most 8 KiB; at most 128 are handled at once,
//! so a slow or hostile client can neither hold a handler for long nor keep the endpoint (and so
//! `exec`) from ending.
//!
//! The token is the gate, whoever connects: a child that switches to another user
//! (`gosu node npm start`, `su-exec`, `sudo -u app …` in a container run as root, or a
//! container on the host's network run as another uid) is answered like any other holder of
//! the token. Who owns the other end of a connection ([`crate::peer`] asks the kernel, on
//! Linux) decides only who goes first when the 128 handlers run short, so that no number of
//! another user's connections can crowd out those of the user running `exec`:
//!
//! - a connection of ours takes a free slot, else that of another user's connection (the one
//!   that has waited longest to send its request, else one being answered), else that of our
//!   own that has waited longest to send its request: only 128 requests of ours being answered
//!   at once keep one of ours out;
//! - another user's connection is taken while a slot is free, else in place of another user's
//!   connection that has waited longest to send its request (never one of ours), else closed
//!   unanswered; other users' connections have at most 192 of the 256 handler threads, so
//!   that threads still ending cannot leave ours without one.
//!
//! A connection whose slot is taken is closed unanswered. Where the kernel cannot say who is at
//! the other end, every connection counts as ours, and the token alone guards the endpoint.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::Scope;
use std::time::{Duration, Instant};

use crate::aws::AwsCredentials;
use crate::secret::Secret;
use crate::timefmt;

mod slots;
use slots::{Admission, Peer, Slots};

/// The path the endpoint serves.
pub const PATH: &str = "/credentials";
/// The longest request head read.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client has, in all, to send its request head (the SDKs send it at once).
const HEAD_DEADLINE: Duration = Duration::from_secs(1);

/// How AWS credentials reach the child of `exec`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    /// A container-credentials endpoint the SDKs renew from while the child runs.
    Endpoint,
    /// `AWS_ACCESS_KEY_ID` and friends, fixed for the child's life.
    Env,
}

impl Delivery {
    /// `endpoint` or `env`, exactly.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "endpoint" => Some(Self::Endpoint),
            "env" => Some(Self::Env),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Endpoint => "endpoint",
            Self::Env => "env",
        }
    }
}

/// What the endpoint answers with: credentials and the role they are for, or why there are none.
pub type Answer = Result<(AwsCredentials, String), String>;

/// A fresh random token of 256 bits, as 64 hex digits.
pub fn new_token() -> io::Result<Secret> {
    let mut bytes = [0u8; 32];
    let mut filled = 0;
    while filled < bytes.len() {
        // SAFETY: the pointer and length describe the unfilled rest of `bytes`.
        let n = unsafe {
            libc::getrandom(bytes[filled..].as_mut_ptr().cast(), bytes.len() - filled, 0)
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() != io::ErrorKind::Interrupted {
                return Err(e);
            }
        } else {
            filled += n as usize;
        }
    }
    Ok(Secret::new(
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
    ))
}

/// A listening endpoint, not yet serving: bound first, so the child's environment can name it.
pub struct Listener {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Listener {
    /// Binds 127.0.0.1 on a port the system picks.
    pub fn bind() -> io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        Ok(Self { listener, addr })
    }

    /// `http://127.0.0.1:<port>/credentials`.
    pub fn url(&self) -> String {
        format!("http://{}{PATH}", self.addr)
    }

    /// Serves in threads of `scope` until [`Serving::stop`], answering each authorised request
    /// with what `source` says.
    pub fn serve<'scope, 'env, F>(
        self,
        scope: &'scope Scope<'scope, 'env>,
        token: Secret,
        source: F,
    ) -> Serving
    where
        F: Fn() -> Answer + Send + Sync + 'scope,
    {
        let stop = Arc::new(AtomicBool::new(false));
        let serving = Serving {
            addr: self.addr,
            stop: stop.clone(),
        };
        let shared = Arc::new(Shared {
            token,
            source,
            slots: Mutex::new(Slots::default()),
        });
        scope.spawn(move || {
            for (id, stream) in self.listener.incoming().enumerate() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let Some(peer) = Peer::of(&stream) else {
                    continue;
                };
                if !shared.take_slot(id, peer, &stream) {
                    continue;
                }
                let handler = shared.clone();
                let started = std::thread::Builder::new().spawn_scoped(scope, move || {
                    handler.handle(id, stream);
                    handler.slots().release(id, peer);
                });
                // No thread to be had (a pids limit): drop the connection, keep serving.
                if started.is_err() {
                    shared.slots().release(id, peer);
                }
            }
        });
        serving
    }
}

/// A serving endpoint; [`Serving::stop`] closes it.
pub struct Serving {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl Serving {
    /// Stops accepting: the port answers no more once the scope's threads end.
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
    }
}

struct Shared<F> {
    token: Secret,
    source: F,
    slots: Mutex<Slots<TcpStream>>,
}

impl<F: Fn() -> Answer> Shared<F> {
    fn slots(&self) -> std::sync::MutexGuard<'_, Slots<TcpStream>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a handler slot for connection `id` of `peer` ([`Slots::admit`]), shutting down
    /// the connection it displaces (whose handler then ends at once). False when there is
    /// none for it: `stream` is then to be closed.
    fn take_slot(&self, id: usize, peer: Peer, stream: &TcpStream) -> bool {
        let Ok(handle) = stream.try_clone() else {
            return false;
        };
        let admission = self.slots().admit(id, peer, handle);
        match admission {
            Admission::Free => true,
            Admission::Displacing(held) => {
                if let Peer::Other(uid) = held.peer {
                    crate::log::debug!(
                        "closed a connection to the credentials endpoint from uid {uid} to make room"
                    );
                }
                let _ = held.handle.shutdown(Shutdown::Both);
                true
            }
            Admission::Refused => false,
        }
    }

    fn handle(&self, id: usize, mut stream: TcpStream) {
        let _ = stream.set_write_timeout(Some(HEAD_DEADLINE));
        let Some(head) = read_head(&stream, Instant::now() + HEAD_DEADLINE) else {
            return;
        };
        self.slots().answering(id);
        let _ = stream.write_all(self.answer(&head).as_bytes());
    }

    fn answer(&self, head: &Head) -> String {
        if head.method != "GET" {
            return refused(405, "MethodNotAllowed", "only GET is answered here");
        }
        if head.path != PATH {
            return refused(404, "NotFound", "credentials are served at /credentials");
        }
        match &head.authorization {
            None => {
                return refused(
                    401,
                    "Unauthorized",
                    "the request has no Authorization header: send the token of AWS_CONTAINER_AUTHORIZATION_TOKEN or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
                );
            }
            Some(given) if !same(given.as_bytes(), self.token.expose_secret().as_bytes()) => {
                return refused(
                    403,
                    "AccessDenied",
                    "the Authorization header is not this endpoint's token: it answers only the command vercel-oidc exec started",
                );
            }
            Some(_) => {}
        }
        match (self.source)() {
            Ok((creds, role_arn)) => response(200, &credentials_json(&creds, &role_arn)),
            Err(message) => refused(500, "CredentialsUnavailable", &message),
        }
    }
}

/// A refusal as the SDKs show one: `{"Code", "Message"}` (an empty body leaves the Go SDK with
/// "failed to decode error message").
fn refused(status: u16, code: &str, message: &str) -> String {
    response(
        status,
        &serde_json::json!({"Code": code, "Message": message}).to_string(),
    )
}

/// The JSON body of a successful answer.
pub fn credentials_json(creds: &AwsCredentials, role_arn: &str) -> String {
    serde_json::json!({
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": creds.secret_access_key.expose_secret(),
        "Token": creds.session_token.expose_secret(),
        "Expiration": timefmt::rfc3339_z(creds.expiration),
        "RoleArn": role_arn,
    })
    .to_string()
}

/// Equal bytes, in time that depends only on the lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The parts of a request this endpoint looks at.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    method: String,
    path: String,
    authorization: Option<String>,
}

/// Reads the request line and headers, at most [`MAX_HEAD`] bytes, all before `deadline`.
fn read_head(stream: &TcpStream, deadline: Instant) -> Option<Head> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        let n = io::Read::read(&mut &*stream, &mut buf).ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    parse_head(&String::from_utf8_lossy(&head))
}

fn parse_head(text: &str) -> Option<Head> {
    let mut lines = text.split("\r\n");
    let mut parts = lines.next()?.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let authorization = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("authorization"))
        .map(|(_, value)| value.trim().to_string());
    Some(Head {
        method,
        path,
        authorization,
    })
}

fn response(status: u16, body: &str) -> String {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Internal Server Error",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use time::OffsetDateTime;

    fn creds() -> AwsCredentials {
        AwsCredentials {
            version: 1,
            access_key_id: "ASIAENDPOINTTEST".into(),
            secret_access_key: Secret::new("secret"),
            session_token: Secret::new("session"),
            expiration: OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap(),
        }
    }

    fn get(addr: &str, request: &str) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn tokens_are_random_and_long() {
        let (a, b) = (new_token().unwrap(), new_token().unwrap());
        assert_eq!(a.expose_secret().len(), 64);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn answers_only_the_token_holder() {
        let listener = Listener::bind().unwrap();
        let url = listener.url();
        let addr = url
            .trim_start_matches("http://")
            .trim_end_matches(PATH)
            .to_string();
        assert!(addr.starts_with("127.0.0.1:"));
        std::thread::scope(|scope| {
            let serving = listener.serve(scope, Secret::new("t0ken"), || {
                Ok((creds(), "arn:aws:iam::123456789012:role/r".into()))
            });
            let status = |r: &str| get(&addr, r).lines().next().unwrap().to_string();
            assert_eq!(
                status("GET /credentials HTTP/1.1\r\nHost: x\r\n\r\n"),
                "HTTP/1.1 401 Unauthorized"
            );
            assert_eq!(
                status("GET /credentials HTTP/1.1\r\nAuthorization: t0kem\r\n\r\n"),
                "HTTP/1.1 403 Forbidden"
            );
            assert_eq!(
                status("GET /credentials HTTP/1.1\r\nAuthorization: t0ken!\r\n\r\n"),
                "HTTP/1.1 403 Forbidden"
            );
            assert_eq!(
                status("POST /credentials HTTP/1.1\r\nAuthorization: t0ken\r\n\r\n"),
                "HTTP/1.1 405 Method Not Allowed"
            );
            assert_eq!(
                status("GET /other HTTP/1.1\r\nAuthorization: t0ken\r\n\r\n"),
                "HTTP/1.1 404 Not Found"
            );
            let ok = get(
                &addr,
                "GET /credentials HTTP/1.1\r\nauthorization:  t0ken \r\n\r\n",
            );
            let body = ok.split("\r\n\r\n").nth(1).unwrap();
            assert_eq!(
                body,
                r#"{"AccessKeyId":"ASIAENDPOINTTEST","SecretAccessKey":"secret","Token":"session","Expiration":"2030-03-17T17:46:40Z","RoleArn":"arn:aws:iam::123456789012:role/r"}"#
            );
            serving.stop();
        });
        assert!(TcpStream::connect(&addr).is_err(), "closed once stopped");
    }

    #[test]
    fn a_slow_client_is_cut_off_and_cannot_hold_the_endpoint_open() {
        let listener = Listener::bind().unwrap();
        let addr = listener.addr;
        let started = Instant::now();
        std::thread::scope(|scope| {
            let serving = listener.serve(scope, Secret::new("t"), || Err("none".into()));
            let mut slow = TcpStream::connect(addr).unwrap();
            slow.write_all(b"GET /credentials HTTP/1.1\r\n").unwrap();
            for _ in 0..3 {
                std::thread::sleep(Duration::from_millis(400));
                let _ = slow.write_all(b"X");
            }
            let mut rest = Vec::new();
            let _ = slow.read_to_end(&mut rest);
            assert!(rest.is_empty(), "closed without an answer");
            serving.stop();
        });
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    /// 200 connections held open, paced so that each is accepted (none waits in the listen
    /// queue), then one request with the token.
    fn request_behind_idle_connections(addr: SocketAddr) -> String {
        let idle: Vec<TcpStream> = (0..200)
            .map(|_| {
                std::thread::sleep(Duration::from_millis(1));
                TcpStream::connect(addr).unwrap()
            })
            .collect();
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET /credentials HTTP/1.1\r\nAuthorization: t\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        drop(idle);
        out
    }

    #[test]
    fn idle_connections_cannot_crowd_out_the_token_holder() {
        let listener = Listener::bind().unwrap();
        let addr = listener.addr;
        let out = std::thread::scope(|scope| {
            let serving = listener.serve(scope, Secret::new("t"), || {
                Ok((creds(), "arn:aws:iam::123456789012:role/r".into()))
            });
            let out = request_behind_idle_connections(addr);
            serving.stop();
            out
        });
        assert_eq!(out.lines().next(), Some("HTTP/1.1 200 OK"), "{out:?}");
    }

    #[test]
    fn says_why_when_there_are_no_credentials() {
        let listener = Listener::bind().unwrap();
        let addr = listener.addr.to_string();
        std::thread::scope(|scope| {
            let serving = listener.serve(scope, Secret::new("t"), || Err("no luck".into()));
            let out = get(
                &addr,
                "GET /credentials HTTP/1.1\r\nAuthorization: t\r\n\r\n",
            );
            assert!(out.starts_with("HTTP/1.1 500 "), "{out}");
            assert!(out.ends_with(r#"{"Code":"CredentialsUnavailable","Message":"no luck"}"#));
            serving.stop();
        });
    }
}
