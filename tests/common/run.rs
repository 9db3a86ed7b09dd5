//! The one way the tests start a process: [`Run`], made by [`super::Sandbox::command`] (the
//! binary) or [`super::Sandbox::program`] and [`Run::program`] (anything else: a shell that runs
//! a `credential_process` line, a client). Its stdout and stderr are always captured, and
//! whichever way the run ends (waited for, timed out, or dropped by a failing test) they go
//! through [`check_run`] against every secret the test's world has issued. A run that hangs
//! is killed and fails the test instead of blocking the suite.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::secrets::{World, check_run, world};

/// How long a run may take before it counts as hung, unless the test says otherwise.
pub const HANG: Duration = Duration::from_secs(60);

/// How long the output of a process that has ended is still read, for what its own children
/// hold open.
const STREAM_GRACE: Duration = Duration::from_secs(10);

/// The result of a run.
#[derive(Debug)]
pub struct Output {
    /// The exit code; -1 when a signal ended it.
    pub code: i32,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// stdout as text (bytes that are not UTF-8 replaced); the bytes are in `stdout_bytes`.
    pub stdout: String,
    pub stderr: String,
    pub stdout_bytes: Vec<u8>,
}

/// What a run reads on stdin.
pub enum Stdin {
    Null,
    Bytes(Vec<u8>),
    File(PathBuf),
    /// A pipe the test writes to through [`Running::stdin`].
    Piped,
}

/// Picks out secrets a run may print: see [`Run::reveals_where`].
type Rule = Box<dyn Fn(&str) -> bool + Send>;

/// Which secrets a run was asked to print on stdout.
#[derive(Default)]
struct Reveals {
    exact: Vec<String>,
    rules: Vec<Rule>,
}

impl Reveals {
    fn revealed(&self, secret: &str) -> bool {
        self.exact.iter().any(|s| s == secret) || self.rules.iter().any(|rule| rule(secret))
    }
}

/// A process to run, checked for secrets whatever happens to it.
pub struct Run {
    cmd: Command,
    what: String,
    stdin: Stdin,
    reveals: Reveals,
    world: Arc<World>,
    /// A helper that neither is nor runs the binary: a world without secrets is no error.
    helper: bool,
}

impl Run {
    /// `program`, with this process's environment and working directory; see
    /// [`super::Sandbox::program`] for one run in a sandbox.
    pub fn program(program: impl AsRef<OsStr>) -> Self {
        Self::new(Command::new(program), world())
    }

    /// A process that neither is nor runs the binary (a shell reading back text the library
    /// rendered, Python's `shlex`, `chown` setting up a test): its output is still checked for
    /// every registered secret, but a test that issued none may run it.
    pub fn helper(program: impl AsRef<OsStr>) -> Self {
        Self {
            helper: true,
            ..Self::program(program)
        }
    }

    pub(crate) fn new(cmd: Command, world: Arc<World>) -> Self {
        let what = format!("`{}`", cmd.get_program().to_string_lossy());
        Self {
            cmd,
            what,
            stdin: Stdin::Null,
            reveals: Reveals::default(),
            world,
            helper: false,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.cmd.args(args);
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(name, value);
        self
    }

    pub fn env_clear(mut self) -> Self {
        self.cmd.env_clear();
        self
    }

    pub fn stdin(mut self, stdin: Stdin) -> Self {
        self.stdin = stdin;
        self
    }

    /// `secret` is what this run was asked to print (`token --print`, `credential-process`, a
    /// child printing its credentials): it may show on stdout, never on stderr.
    pub fn reveals(mut self, secret: impl Into<String>) -> Self {
        self.reveals.exact.push(secret.into());
        self
    }

    /// [`Run::reveals`] for each of `secrets`.
    pub fn reveals_all<S: Into<String>>(mut self, secrets: impl IntoIterator<Item = S>) -> Self {
        self.reveals
            .exact
            .extend(secrets.into_iter().map(Into::into));
        self
    }

    /// [`Run::reveals`] for every secret that `rule` picks out: those a stand-in issues afresh
    /// on each request (an access token of `azure access-token`, say), unknown beforehand.
    pub fn reveals_where(mut self, rule: impl Fn(&str) -> bool + Send + 'static) -> Self {
        self.reveals.rules.push(Box::new(rule));
        self
    }

    /// Anything else about the process (its user, a `pre_exec` limit). Where its output goes
    /// is not for `f` to decide: it is captured whatever `f` sets.
    pub fn with(mut self, f: impl FnOnce(&mut Command)) -> Self {
        f(&mut self.cmd);
        self
    }

    /// Starts it. Its output is read as it comes, so it never blocks on a full pipe.
    pub fn spawn(mut self) -> Running {
        let (stdin, input) = match self.stdin {
            Stdin::Null => (Stdio::null(), None),
            Stdin::Bytes(b) => (Stdio::piped(), Some(b)),
            Stdin::File(p) => (std::fs::File::open(&p).unwrap().into(), None),
            Stdin::Piped => (Stdio::piped(), None),
        };
        let mut child = self
            .cmd
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.what));
        let stdout = Stream::start(child.stdout.take().unwrap());
        let stderr = Stream::start(child.stderr.take().unwrap());
        let mut pipe = child.stdin.take();
        let writer = input.map(|bytes| {
            let mut pipe = pipe.take().unwrap();
            // It may stop reading early (a cap, an error): a broken pipe is fine.
            std::thread::spawn(move || drop(pipe.write_all(&bytes)))
        });
        Running {
            child,
            started: Instant::now(),
            status: None,
            stdin: pipe,
            writer,
            stdout,
            stderr,
            what: self.what,
            reveals: self.reveals,
            world: self.world,
            helper: self.helper,
            checked: false,
        }
    }

    /// Runs it to the end (at most [`HANG`]) and checks its output.
    #[track_caller]
    pub fn output(self) -> Output {
        self.spawn().wait()
    }

    /// [`Run::output`], failing the test when it takes more than `limit`.
    #[track_caller]
    pub fn output_within(self, limit: Duration) -> Output {
        self.spawn().wait_within(limit)
    }
}

/// What a stream has delivered so far, and whether it has ended.
#[derive(Default)]
struct Seen {
    bytes: Vec<u8>,
    ended: bool,
}

/// One of a child's output streams, read on a thread of its own as it comes.
struct Stream {
    seen: Arc<(Mutex<Seen>, Condvar)>,
    reader: Option<JoinHandle<()>>,
}

impl Stream {
    fn start(mut pipe: impl Read + Send + 'static) -> Self {
        let seen = Arc::new((Mutex::new(Seen::default()), Condvar::new()));
        let shared = seen.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                let n = pipe.read(&mut buf).unwrap_or(0);
                let (lock, cond) = &*shared;
                let mut seen = lock.lock().unwrap();
                seen.bytes.extend_from_slice(&buf[..n]);
                seen.ended = n == 0;
                cond.notify_all();
                if n == 0 {
                    return;
                }
            }
        });
        Self {
            seen,
            reader: Some(reader),
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.seen.0.lock().unwrap().bytes).into_owned()
    }

    /// The text once `done` says so of it, or `None` when `limit` passes first or the stream
    /// ends without it.
    fn wait_until(&self, limit: Duration, done: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + limit;
        let (lock, cond) = &*self.seen;
        let mut seen = lock.lock().unwrap();
        loop {
            let text = String::from_utf8_lossy(&seen.bytes).into_owned();
            if done(&text) {
                return Some(text);
            }
            let now = Instant::now();
            if seen.ended || now >= deadline {
                return None;
            }
            seen = cond.wait_timeout(seen, deadline - now).unwrap().0;
        }
    }

    /// Everything, once the stream has ended: at most [`STREAM_GRACE`] after the process did
    /// (a process it started may hold the pipe open; what it writes later is not waited for).
    fn finish(&mut self) -> Vec<u8> {
        self.wait_until(STREAM_GRACE, |_| false);
        let ended = self.seen.0.lock().unwrap().ended;
        if let Some(reader) = self.reader.take().filter(|_| ended) {
            let _ = reader.join();
        }
        std::mem::take(&mut self.seen.0.lock().unwrap().bytes)
    }
}

/// A started [`Run`]. Dropped before it was waited for (a test that failed half-way), it is
/// killed, and its output is still checked.
pub struct Running {
    child: Child,
    started: Instant,
    status: Option<ExitStatus>,
    stdin: Option<ChildStdin>,
    writer: Option<JoinHandle<()>>,
    stdout: Stream,
    stderr: Stream,
    what: String,
    reveals: Reveals,
    world: Arc<World>,
    helper: bool,
    checked: bool,
}

impl Running {
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the process alone.
    pub fn signal(&self, signal: i32) {
        // SAFETY: a signal to our own child, not yet reaped (`status` is still unknown, or the
        // pid is a zombie that kill ignores).
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, signal);
        }
    }

    /// Waits until it catches `signal` (a handler is installed: its bit in `SigCgt` of
    /// `/proc/<pid>/status`), so that a signal sent now is handled rather than ending it; fails
    /// the test when `limit` passes first.
    #[track_caller]
    pub fn wait_until_catching(&self, signal: i32, limit: Duration) {
        let deadline = Instant::now() + limit;
        let status = format!("/proc/{}/status", self.child.id());
        loop {
            let caught = std::fs::read_to_string(&status)
                .ok()
                .and_then(|text| {
                    let line = text.lines().find(|l| l.starts_with("SigCgt:"))?;
                    u64::from_str_radix(line["SigCgt:".len()..].trim(), 16).ok()
                })
                .is_some_and(|mask| mask & (1 << (signal - 1)) != 0);
            if caught {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} does not catch signal {signal} after {limit:?}",
                self.what
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The pipe to its stdin, for a run started with [`Stdin::Piped`].
    pub fn stdin(&mut self) -> ChildStdin {
        self.stdin.take().expect("started with Stdin::Piped")
    }

    /// Whether it still runs (it is reaped once it has ended).
    pub fn is_running(&mut self) -> bool {
        if self.status.is_none() {
            self.status = self.child.try_wait().unwrap();
        }
        self.status.is_none()
    }

    /// What it has written on stderr so far.
    pub fn stderr_so_far(&self) -> String {
        self.stderr.text()
    }

    /// Waits until its stderr holds `text`, and returns the stderr so far; fails the test when
    /// `limit` passes first or stderr ends without it.
    #[track_caller]
    pub fn wait_for_stderr(&self, text: &str, limit: Duration) -> String {
        self.stderr
            .wait_until(limit, |seen| seen.contains(text))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no {text:?} on stderr within {limit:?}; it has:\n{}",
                    self.what,
                    self.stderr.text()
                )
            })
    }

    /// Waits until its stdout holds `text`, as [`Running::wait_for_stderr`].
    #[track_caller]
    pub fn wait_for_stdout(&self, text: &str, limit: Duration) -> String {
        self.stdout
            .wait_until(limit, |seen| seen.contains(text))
            .unwrap_or_else(|| {
                panic!(
                    "{}: no {text:?} on stdout within {limit:?}; it has:\n{}",
                    self.what,
                    self.stdout.text()
                )
            })
    }

    /// Waits for it to end (at most [`HANG`]) and checks its output.
    #[track_caller]
    pub fn wait(self) -> Output {
        self.wait_within(HANG)
    }

    /// Waits for it to end, failing the test (after killing it) when it takes more than
    /// `limit`; checks its output either way.
    #[track_caller]
    pub fn wait_within(mut self, limit: Duration) -> Output {
        let deadline = Instant::now() + limit;
        while self.is_running() {
            if Instant::now() >= deadline {
                let out = self.finish();
                panic!(
                    "{} still running {:?} after it started: it hangs (killed)\nstderr:\n{}",
                    self.what,
                    self.started.elapsed(),
                    out.stderr
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.finish()
    }

    /// Kills it if it still runs, collects its output and checks it.
    #[track_caller]
    fn finish(&mut self) -> Output {
        if self.is_running() {
            let _ = self.child.kill();
            self.status = Some(self.child.wait().unwrap());
        }
        drop(self.stdin.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        let status = self.status.unwrap();
        let stdout_bytes = self.stdout.finish();
        let stderr = String::from_utf8_lossy(&self.stderr.finish()).into_owned();
        let stdout = String::from_utf8_lossy(&stdout_bytes).into_owned();
        self.checked = true;
        let run = (self.what.as_str(), stdout.as_str(), stderr.as_str());
        check_run(
            &self.world,
            run,
            &|secret| self.reveals.revealed(secret),
            !self.helper,
        );
        Output {
            code: status.code().unwrap_or(-1),
            signal: status.signal(),
            stdout,
            stderr,
            stdout_bytes,
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.checked {
            return;
        }
        if std::thread::panicking() {
            // The test already fails; end the process without a second panic.
            let _ = self.child.kill();
            let _ = self.child.wait();
            return;
        }
        self.finish();
    }
}
