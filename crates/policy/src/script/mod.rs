//! The tenant's JavaScript rule, run in a QuickJS sandbox on a small pool of worker threads.
//!
//! # Layout
//! - [`banned`]: the words refused at compile time (`try`, `catch`, promises, `import`):
//!   the constructs that let a script hide a limit hit and get a password accepted.
//! - [`budget`]: CPU-time budgets and their wall-clock caps, checked by the interrupt.
//! - [`sandbox`]: one loaded script in its own runtime (caps, interrupt, minimal intrinsics)
//!   and the checks on what `validate` returns.
//! - [`mod@pool`]: the worker threads, their per-worker script cache, and the watchdog.

mod banned;
mod budget;
mod pool;
mod sandbox;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use sandbox::{Answer, ScriptInput};

use crate::spec::{CompileError, CompileLocation, ScriptLimits, ScriptRule};
use crate::violation::ScriptFailure;
use pool::{Program, pool};

/// Longest script source accepted (bytes); a password rule is a few dozen lines.
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;
/// Most generous CPU-time budget per call a script may ask for.
pub const MAX_TIMEOUT_MS: u64 = 1_000;
/// Smallest and largest heap cap (bytes). Below 1 MiB QuickJS cannot even set up a context.
pub const MEMORY_BYTES_RANGE: (usize, usize) = (1024 * 1024, 128 * 1024 * 1024);
/// Smallest and largest stack cap (bytes). QuickJS treats more than 16 MiB as "no check".
pub const STACK_BYTES_RANGE: (usize, usize) = (64 * 1024, 16 * 1024 * 1024);

/// A script rule that loaded successfully; evaluation goes through the worker pool, where
/// each worker keeps its own loaded copy (keyed by a hash of source and limits).
#[derive(Clone)]
pub(crate) struct CompiledScript {
    program: Arc<Program>,
}

impl std::fmt::Debug for CompiledScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledScript")
            .field("hash", &format_args!("{:016x}", self.program.hash))
            .field("bytes", &self.program.source.len())
            .field("limits", &self.program.limits)
            .finish()
    }
}

impl CompiledScript {
    /// Checks the limits, the source size and the banned words (the constructs that could
    /// hide a limit hit), then loads the script once on a worker: syntax errors, a throwing
    /// or endless top level and a missing `validate` are errors.
    pub(crate) fn compile(rule: &ScriptRule) -> Result<Self, Vec<CompileError>> {
        let error = |message: String| CompileError {
            location: CompileLocation::Script,
            message,
        };
        let mut errors = check_limits(rule.limits)
            .into_iter()
            .map(error)
            .collect::<Vec<_>>();
        if rule.source.len() > MAX_SCRIPT_BYTES {
            errors.push(error(format!(
                "the script is {} bytes long; at most {MAX_SCRIPT_BYTES} are allowed",
                rule.source.len()
            )));
        }
        if rule.source.contains('\0') {
            errors.push(error("the script contains a NUL character".to_owned()));
        }
        if let Some(message) = banned::first_banned_word(&rule.source) {
            errors.push(error(message));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let program = Arc::new(Program::new(&rule.source, rule.limits));
        match pool().load(&program) {
            Ok(()) => Ok(Self { program }),
            Err(failure) => {
                let at_line = failure
                    .line
                    .map(|line| format!(" (line {line})"))
                    .unwrap_or_default();
                let message = match failure.kind {
                    ScriptFailure::Timeout => format!(
                        "the script's top level did not finish within {} ms of CPU time",
                        budget::one_off(Duration::from_millis(rule.limits.timeout_ms)).as_millis()
                    ),
                    ScriptFailure::Memory => format!(
                        "the script ran out of memory while loading (cap {} bytes)",
                        rule.limits.memory_bytes
                    ),
                    _ => format!("{}{at_line}", failure.message),
                };
                Err(vec![error(message)])
            }
        }
    }

    /// Queues `validate` on a worker and returns at once; [`PendingScript::finish`] waits.
    /// The caller runs the other rules meanwhile, so the script's latency overlaps theirs.
    pub(crate) fn start(&self, input: ScriptInput, budget: Budget) -> PendingScript {
        let per_call = Duration::from_millis(self.program.limits.timeout_ms);
        let cpu = match budget {
            Budget::PerCall => per_call,
            Budget::Example => budget::one_off(per_call),
        };
        PendingScript {
            pending: pool().run(&self.program, input, cpu),
            hash: self.program.hash,
        }
    }
}

/// Which CPU budget a `validate` call runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Budget {
    /// A user's password: the script's own `timeout_ms`.
    PerCall,
    /// An `examples:` entry at compile time: at least one second, so a loaded machine
    /// cannot fail a config; examples check what the rule answers, not how fast.
    Example,
}

/// A script evaluation in flight.
#[derive(Debug)]
pub(crate) struct PendingScript {
    pending: pool::Pending,
    hash: u64,
}

impl PendingScript {
    /// The script's answer, or the reason it could not answer (the password is then
    /// rejected).
    pub(crate) fn finish(self) -> Result<Answer, ScriptFailure> {
        let hash = self.hash;
        self.pending.wait().map_err(|failure| {
            // Only the class is logged: the engine message may quote what the script threw,
            // and a script can throw the password.
            tracing::warn!(
                target: "passgate::policy::script",
                reason = failure.kind.as_str(),
                script = format_args!("{hash:016x}"),
                "password rule script failed; password rejected"
            );
            failure.kind
        })
    }
}

/// Platform bounds on script limits (the tenant crate enforces its own ceilings first).
fn check_limits(limits: ScriptLimits) -> Vec<String> {
    let mut problems = Vec::new();
    if limits.timeout_ms == 0 || limits.timeout_ms > MAX_TIMEOUT_MS {
        problems.push(format!(
            "script timeout must be between 1 and {MAX_TIMEOUT_MS} ms, not {}",
            limits.timeout_ms
        ));
    }
    let (min, max) = MEMORY_BYTES_RANGE;
    if !(min..=max).contains(&limits.memory_bytes) {
        problems.push(format!(
            "script memory must be between {min} and {max} bytes, not {}",
            limits.memory_bytes
        ));
    }
    let (min, max) = STACK_BYTES_RANGE;
    if !(min..=max).contains(&limits.stack_bytes) {
        problems.push(format!(
            "script stack must be between {min} and {max} bytes (QuickJS disables the check \
             above 16 MiB), not {}",
            limits.stack_bytes
        ));
    }
    problems
}

/// How many script workers the watchdog has retired (stuck in a native builtin) and
/// replaced since the process started. Export it as a metric; it should stay at zero.
pub fn script_worker_restarts() -> u64 {
    pool().restarts()
}

/// Runs a script on the current thread, without the pool or the watchdog. Only for
/// benchmarks that separate the engine's own cost from the thread hand-off; not a stable
/// API, and never to be used to check a password (a stuck script would hang the caller).
#[doc(hidden)]
#[derive(Debug)]
pub struct LocalScript(sandbox::Sandbox);

impl LocalScript {
    /// Loads `source` with `limits` (the top level gets the one-off budget, as on a worker).
    pub fn load(source: &str, limits: ScriptLimits) -> Result<Self, ScriptFailure> {
        let budget = budget::one_off(Duration::from_millis(limits.timeout_ms));
        sandbox::Sandbox::load(source, limits, budget)
            .map(Self)
            .map_err(|e| e.kind)
    }

    /// Bytes the script's runtime holds (QuickJS's own accounting).
    pub fn memory_used(&self) -> i64 {
        self.0.memory_used()
    }

    /// Calls `validate` under `timeout_ms` of CPU time and returns how many keys it gave.
    pub fn call(
        &self,
        password: &str,
        ctx: &crate::CheckContext,
        timeout_ms: u64,
    ) -> Result<usize, ScriptFailure> {
        let input = ScriptInput {
            password: password.to_owned(),
            email: ctx.email.clone(),
            user_name: ctx.user_name.clone(),
            tenant: ctx.tenant_name.clone(),
            locale: ctx.locale.clone(),
        };
        self.0
            .call(&input, Duration::from_millis(timeout_ms))
            .map(|answer| answer.keys.len())
            .map_err(|e| e.kind)
    }
}
