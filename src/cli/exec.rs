//! `vercel-oidc exec -- COMMAND [ARGS...]`: run a build command with every configured cloud wired
//! through its own native mechanism, so the command and every tool it starts need no set-up.
//!
//! - The command is resolved on `PATH` first: a missing command fetches nothing.
//! - Inside another `exec` (`VERCEL_OIDC_EXEC` is set) it refuses unless `--force`.
//! - A private directory (0700, in the user's runtime or cache directory, removed when the child
//!   exits, however it exits, and by the next run when this one was killed: see
//!   [`crate::rundir`]) holds:
//!   `token` (the Vercel token, 0600, no trailing newline, kept fresh while the child runs) and
//!   whatever files a cloud's wiring writes there.
//! - The child's environment: this one byte for byte (names and values that are not UTF-8
//!   included), less and plus the wiring: `VERCEL_OIDC_TOKEN` and `VERCEL_OIDC_TOKEN_FILE`
//!   (the run's token file, so nested `vercel-oidc` calls and Vercel's own helpers read the
//!   fresh one), `VERCEL_OIDC_EXEC=1`, and what each wired cloud sets and removes, in the
//!   clouds' order ([`super::wiring`]; each cloud's `cli/exec.rs` says what it wires: AWS keys
//!   or its credentials endpoint, served while the child runs; GCP a credential file reading
//!   `token`; Azure the variables naming `token` as the federated token file).
//! - While the child runs, the token file is renewed before it comes within [`KEEP_FRESH`] of
//!   expiry when a fresh token can be had (local development); when none can, stderr says so
//!   before it bites, and likewise before credentials in the environment that cannot be renewed
//!   (a wiring's [`Expiring`]) expire.
//! - `SIGTERM`, `SIGHUP`, `SIGUSR1` and `SIGUSR2` are forwarded to the child, and so are
//!   `SIGINT` and `SIGQUIT` when another process sent them; from a terminal they reach the child
//!   directly, so they are not sent twice. The child's exit code passes through; a child ended by
//!   a signal ends this process with the same signal.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration as StdDuration;

use crate::token::{OidcToken, TokenSource};
use crate::{fsutil, timefmt, vars};
use anyhow::Context as _;
use clap::Args;

use crate::settings::Command;
use time::{Duration, OffsetDateTime};
use tokio::signal::unix::{SignalKind, signal};

use super::Ctx;
use super::clouds::{self, Choice, Clouds, Settings};
use super::flags::{self, CacheFlag};
use super::wiring::{Expiring, Run, Service, Wire, Wiring};

/// How close to its expiry the run's token file is renewed: the Azure SDKs re-read it only every
/// 5 to 10 minutes.
pub const KEEP_FRESH: Duration = Duration::minutes(15);
/// Warn this long before credentials in the child's environment expire.
const EXPIRY_WARNING: Duration = Duration::minutes(10);

// The flags of `exec` itself; `args` puts them among the clouds' flags. (A plain comment: a doc
// comment here would become the command's about line.)
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Run even inside another `vercel-oidc exec`
    #[arg(long, env = vars::VERCEL_OIDC_EXEC_FORCE, value_parser = clap::builder::BoolishValueParser::new())]
    force: bool,

    /// The command to run, and its arguments
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

/// The clouds to wire, each with its checked settings, before anything is fetched or written.
struct Plan {
    wires: Vec<Box<dyn Wire>>,
    /// Their names, for `-v`.
    names: Vec<&'static str>,
}

/// What the child gets: every wired cloud's variables, what expires first, the services.
struct Wired {
    set: Vec<(String, String)>,
    remove: Vec<&'static str>,
    /// The child's `PATH`, when a wiring puts folders first on it.
    path: Option<OsString>,
    expiring: Option<Expiring>,
    services: Vec<Box<dyn Service>>,
}

/// `exec`'s arguments, in the order its help lists them: a flag choosing each cloud, its own,
/// every cloud's setting flags, and `--no-cache`.
pub fn args(cmd: clap::Command, clouds: Clouds) -> clap::Command {
    let cmd = ExecArgs::augment_args(clouds::choice_flags(cmd, clouds));
    let tables = clouds::tables(clouds);
    CacheFlag::augment_args(flags::setting_args(cmd, &tables, Command::EXEC))
}

pub fn run(
    ctx: &Ctx,
    args: &ExecArgs,
    no_cache: bool,
    clouds: Clouds,
    choice: &Choice,
) -> anyhow::Result<ExitCode> {
    let program = resolve_program(ctx, &args.command[0])?;
    if ctx.env().get(vars::VERCEL_OIDC_EXEC).is_some() && !args.force {
        anyhow::bail!(
            "already inside `vercel-oidc exec` (VERCEL_OIDC_EXEC is set): the outer one has wired the credentials\n  run the command directly, or pass --force to wire them again"
        );
    }
    let token = ctx.fresh(ctx.load_token()?)?;
    let plan = plan(ctx, clouds, choice, &token)?;
    let run_dir = crate::rundir::RunDir::create(ctx.env())?;
    let token_path = run_dir.path().join("token");
    fsutil::write_private(&token_path, token.expose_secret().as_bytes())
        .with_context(|| format!("cannot write `{}`", token_path.display()))?;
    let run = Run {
        token: &token,
        token_path: &token_path,
        dir: run_dir.path(),
        no_cache,
    };
    let names = plan.names.join(", ");
    let wired = wire(ctx, plan, &run)?;
    // A wiring's folder on PATH may stand in front of the command itself (`exec -- az …`).
    let program = match &wired.path {
        Some(path) => resolve_in(ctx, &args.command[0], path)?,
        None => program,
    };
    crate::log::debug!("running `{}` with {names} wired", program.display());
    let command = child_command(
        ctx,
        &program,
        &args.command[1..],
        &wired,
        &token,
        &token_path,
    );
    let reading = reading_token_file(clouds);
    let status = run_child(
        ctx,
        command,
        &program,
        token.clone(),
        &token_path,
        wired,
        &reading,
    )?;
    drop(run_dir);
    Ok(exit_like(status))
}

/// Resolves every cloud's settings and checks those of the clouds to wire (those chosen with
/// their flags, or every configured one), before anything is fetched.
fn plan(ctx: &Ctx, clouds: Clouds, choice: &Choice, token: &OidcToken) -> anyhow::Result<Plan> {
    let project = ctx.project()?;
    let environment = token.claims().environment.as_deref();
    let settings = Settings::resolve(ctx, clouds, &choice.given, &project, environment);
    let want = settings.wanted(&choice.chosen);
    if want.is_empty() {
        anyhow::bail!(
            "no cloud is configured, so there is nothing to wire\n  {}",
            clouds::how_to_configure(clouds)
        );
    }
    let mut plan = Plan {
        wires: Vec::new(),
        names: Vec::new(),
    };
    for (cloud, settings) in want {
        plan.wires.push(cloud.plan(ctx, settings)?);
        plan.names.push(cloud.table().title);
    }
    Ok(plan)
}

/// Each planned cloud's files and variables, in the clouds' order.
fn wire(ctx: &Ctx, plan: Plan, run: &Run) -> anyhow::Result<Wired> {
    let mut wired = Wired {
        set: Vec::new(),
        remove: Vec::new(),
        path: None,
        expiring: None,
        services: Vec::new(),
    };
    let mut path_first = Vec::new();
    for wire in plan.wires {
        let wiring: Wiring = wire.wire(ctx, run)?;
        wired.set.extend(wiring.set);
        wired.remove.extend(wiring.remove);
        path_first.extend(wiring.path_first);
        wired.services.extend(wiring.service);
        wired.expiring = match (wired.expiring, wiring.expiring) {
            (Some(a), Some(b)) => Some(if b.at < a.at { b } else { a }),
            (a, b) => a.or(b),
        };
    }
    if !path_first.is_empty() {
        let path = ctx.env().get_os(vars::PATH).unwrap_or_default();
        let joined =
            std::env::join_paths(path_first.into_iter().chain(std::env::split_paths(path)))
                .context("cannot put the run's folder first on PATH")?;
        wired.path = Some(joined);
    }
    Ok(wired)
}

/// The names of the clouds whose clients read the run's token file: `GCP and Azure`.
fn reading_token_file(clouds: Clouds) -> String {
    let names: Vec<&str> = clouds
        .iter()
        .filter(|c| c.reads_token_file())
        .map(|c| c.table().title)
        .collect();
    clouds::listed(&names, "and")
}

/// The child: `program` with `args`, this environment less what the wiring removes, plus what it
/// sets and the run's token.
fn child_command(
    ctx: &Ctx,
    program: &Path,
    args: &[OsString],
    wired: &Wired,
    token: &OidcToken,
    token_path: &Path,
) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(program);
    command.args(args).env_clear().envs(ctx.env().vars());
    for name in &wired.remove {
        command.env_remove(name);
    }
    if let Some(path) = &wired.path {
        command.env(vars::PATH, path);
    }
    command
        .envs(wired.set.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env(vars::VERCEL_OIDC_TOKEN, token.expose_secret())
        .env(vars::VERCEL_OIDC_TOKEN_FILE, token_path)
        .env(vars::VERCEL_OIDC_EXEC, "1");
    command
}

/// Runs the child to its end under [`supervise`], running the clouds' services meanwhile.
fn run_child(
    ctx: &Ctx,
    command: tokio::process::Command,
    program: &Path,
    token: OidcToken,
    token_path: &Path,
    wired: Wired,
    reading: &str,
) -> anyhow::Result<std::process::ExitStatus> {
    let runtime = ctx.runtime()?;
    let upkeep = Upkeep {
        ctx,
        token,
        token_path,
        expiring: wired.expiring,
        name: display_name(program),
        reading,
        warned_token: false,
        warned_expiring: false,
    };
    std::thread::scope(|scope| {
        let stops: Vec<_> = wired
            .services
            .into_iter()
            .map(|s| s.start(scope, ctx, token_path, program))
            .collect();
        let status = runtime.block_on(supervise(ctx, command, program, upkeep));
        stops.into_iter().for_each(|stop| stop());
        status
    })
}

fn resolve_program(ctx: &Ctx, name: &OsString) -> anyhow::Result<PathBuf> {
    resolve_in(ctx, name, ctx.env().get_os(vars::PATH).unwrap_or_default())
}

/// `name` looked up on `path`, as the shell would.
fn resolve_in(ctx: &Ctx, name: &OsString, path: &std::ffi::OsStr) -> anyhow::Result<PathBuf> {
    which::which_in(name, Some(path), ctx.env().cwd()).map_err(|_| {
        anyhow::anyhow!(
            "command `{}` not found on PATH\n  check its name or install it; no credentials were fetched",
            name.to_string_lossy()
        )
    })
}

/// The token in the run's token file, which [`supervise`] keeps fresh.
pub(crate) fn current_token(path: &Path) -> anyhow::Result<OidcToken> {
    let raw = fsutil::read_capped(path, fsutil::limits::TOKEN)?;
    Ok(OidcToken::parse(
        &String::from_utf8_lossy(&raw),
        TokenSource::EnvFile(path.to_path_buf()),
    )?)
}

/// The program's file name, for messages.
pub(crate) fn display_name(program: &Path) -> String {
    program.file_name().map_or_else(
        || program.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Runs the child to its end: forwards signals, keeps the token file fresh, warns before
/// expiries that cannot be helped.
async fn supervise(
    ctx: &Ctx,
    mut command: tokio::process::Command,
    program: &Path,
    mut upkeep: Upkeep<'_>,
) -> anyhow::Result<std::process::ExitStatus> {
    // Caught before the child starts, so that a signal sent meanwhile is forwarded rather than
    // ending this process and leaving the child running.
    let mut forwarded = forwarded_signals()?;
    catch_interrupts()?;
    if let Some(status) = interrupted_before_the_child() {
        return Ok(status);
    }
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run `{}`", program.display()))?;
    let pid = child.id().context("the child exited at once")? as libc::pid_t;
    let mut interrupts = tokio::time::interval(StdDuration::from_millis(50));
    let mut ticks = tokio::time::interval(check_interval(ctx));
    loop {
        let [(s0, r0), (s1, r1), (s2, r2), (s3, r3)] = &mut forwarded;
        tokio::select! {
            status = child.wait() => return Ok(status?),
            _ = r0.recv() => forward(pid, *s0),
            _ = r1.recv() => forward(pid, *s1),
            _ = r2.recv() => forward(pid, *s2),
            _ = r3.recv() => forward(pid, *s3),
            _ = interrupts.tick() => forward_interrupt(pid),
            _ = ticks.tick() => upkeep.check(ctx.now()).await,
        }
    }
}

/// The signals passed on to the child as they arrive, each with its number: `SIGTERM`,
/// `SIGHUP`, `SIGUSR1`, `SIGUSR2`. (`SIGINT` and `SIGQUIT` are [`catch_interrupts`]'.)
fn forwarded_signals() -> std::io::Result<[(i32, tokio::signal::unix::Signal); 4]> {
    let listen = |kind: SignalKind| signal(kind).map(|s| (kind.as_raw_value(), s));
    Ok([
        listen(SignalKind::terminate())?,
        listen(SignalKind::hangup())?,
        listen(SignalKind::user_defined1())?,
        listen(SignalKind::user_defined2())?,
    ])
}

/// How often the token and the expiries are looked at: `VERCEL_OIDC_EXEC_CHECK_SECONDS`, else
/// every 30 s.
fn check_interval(ctx: &Ctx) -> StdDuration {
    let every = ctx
        .env()
        .get(vars::VERCEL_OIDC_EXEC_CHECK_SECONDS)
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or(30)
        .max(1);
    StdDuration::from_secs(every)
}

/// Passes on the `SIGINT` or `SIGQUIT` another process sent, if one is waiting.
fn forward_interrupt(pid: libc::pid_t) {
    let sig = SENT_BY_A_PROCESS.swap(0, Ordering::SeqCst);
    if sig != 0 {
        forward(pid, sig);
    }
}

/// What [`supervise`] looks after besides the child: the run's token file, and a warning, once
/// each, before an expiry that cannot be helped.
struct Upkeep<'a> {
    ctx: &'a Ctx,
    /// The token in the file.
    token: OidcToken,
    token_path: &'a Path,
    /// What the child holds that expires first and cannot be renewed.
    expiring: Option<Expiring>,
    /// The child's name, for warnings.
    name: String,
    /// The clouds whose clients read the token file: `GCP and Azure`.
    reading: &'a str,
    warned_token: bool,
    warned_expiring: bool,
}

impl Upkeep<'_> {
    async fn check(&mut self, now: OffsetDateTime) {
        if self.token.claims().expires_at() - KEEP_FRESH <= now {
            self.renew_token(now).await;
        }
        if let Some(expiring) = &self.expiring
            && !self.warned_expiring
            && expiring.at - EXPIRY_WARNING <= now
        {
            self.warned_expiring = true;
            eprintln!(
                "vercel-oidc: warning: the {} given to `{}` expire {} (at {}); a running process cannot be handed new ones\n  {}",
                expiring.what,
                self.name,
                timefmt::relative(expiring.at, now),
                timefmt::rfc3339_z(expiring.at),
                expiring.fix
            );
        }
    }

    /// Writes a fresh token to the file, or says (once) that none can be had. The refresh
    /// blocks (it may run the Vercel CLI or call the Vercel API), so it runs off this thread,
    /// which drives the child's supervision.
    async fn renew_token(&mut self, now: OffsetDateTime) {
        let session = self.ctx.session.clone();
        let fresh = tokio::task::spawn_blocking(move || renew(&session, now))
            .await
            .ok()
            .flatten();
        match fresh {
            Some(fresh) if fresh.expose_secret() != self.token.expose_secret() => {
                match fsutil::write_private(self.token_path, fresh.expose_secret().as_bytes()) {
                    Ok(()) => {
                        crate::log::debug!("renewed the run's token file from {}", fresh.source());
                        self.token = fresh;
                    }
                    Err(e) => eprintln!(
                        "vercel-oidc: warning: cannot renew `{}`: {e}",
                        self.token_path.display()
                    ),
                }
            }
            _ if !self.warned_token => {
                self.warned_token = true;
                self.warn_token_expiry(now);
            }
            _ => {}
        }
    }

    fn warn_token_expiry(&self, now: OffsetDateTime) {
        let exp = self.token.claims().expires_at();
        let build = if self.ctx.env().flag(vars::VERCEL) {
            " (build tokens last about an hour)"
        } else {
            ""
        };
        let others = self
            .expiring
            .as_ref()
            .map(|e| format!(", {} last until {}", e.what, timefmt::rfc3339_z(e.at)))
            .unwrap_or_default();
        eprintln!(
            "vercel-oidc: warning: the Vercel OIDC token expires {} (at {}) and no fresh one can be had here{build}; {} clients in `{}` will fail after that{others}",
            timefmt::relative(exp, now),
            timefmt::rfc3339_z(exp),
            self.reading,
            self.name,
        );
    }
}

/// A token good for more than [`KEEP_FRESH`], when local development allows one.
fn renew(session: &crate::session::Session, now: OffsetDateTime) -> Option<OidcToken> {
    match session.refresher()? {
        Ok(refresher) => match refresher.fresh_token_within(|| session.now(), KEEP_FRESH) {
            Ok(token) => Some(token),
            Err(e) => {
                crate::log::debug!(
                    "could not renew the token at {}: {e}",
                    timefmt::rfc3339_z(now)
                );
                None
            }
        },
        Err(e) => {
            crate::log::debug!("{e}");
            None
        }
    }
}

/// The last `SIGINT` or `SIGQUIT` sent to this process by another process (not by the terminal),
/// waiting to be forwarded.
static SENT_BY_A_PROCESS: AtomicI32 = AtomicI32::new(0);

/// The last `SIGINT` or `SIGQUIT`, from anyone: one that came before the child started (when no
/// terminal could have delivered it to the child too) ends the run instead.
static INTERRUPTED: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_interrupt(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // SAFETY: with SA_SIGINFO the kernel passes a valid siginfo_t.
    let code = unsafe { (*info).si_code };
    // A terminal's Ctrl-C (SI_KERNEL) reaches the whole foreground process group, the child
    // included: forwarding it would deliver it twice. A kill(2) from another process reaches
    // only this one.
    if code == libc::SI_USER || code == libc::SI_QUEUE || code == libc::SI_TKILL {
        SENT_BY_A_PROCESS.store(sig, Ordering::SeqCst);
    }
    INTERRUPTED.store(sig, Ordering::SeqCst);
}

/// The status of a run ended by a `SIGINT` or `SIGQUIT` that came before the child started, as
/// if it had ended this process: no child is started then.
fn interrupted_before_the_child() -> Option<std::process::ExitStatus> {
    use std::os::unix::process::ExitStatusExt;
    match INTERRUPTED.swap(0, Ordering::SeqCst) {
        0 => None,
        sig => Some(std::process::ExitStatus::from_raw(sig)),
    }
}

/// Catches `SIGINT` and `SIGQUIT` so they do not end this process before the child, noting
/// those that another process sent.
fn catch_interrupts() -> std::io::Result<()> {
    for sig in [libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: a zeroed sigaction is valid; the handler only stores to an atomic, which is
        // async-signal-safe.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note_interrupt as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            if libc::sigaction(sig, &action, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
    }
    Ok(())
}

fn forward(pid: libc::pid_t, sig: i32) {
    crate::log::debug!("forwarding signal {sig} to the child");
    // SAFETY: kill(2) with a pid this process spawned and still waits for.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// The exit code to leave with: the child's, or for a child ended by a signal, that signal
/// raised again on this process (after the run's files are gone).
fn exit_like(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    let sig = status.signal().unwrap_or(libc::SIGTERM);
    // SAFETY: restoring the default action and raising a signal on this process.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
    ExitCode::from((128 + sig).clamp(0, 255) as u8)
}
