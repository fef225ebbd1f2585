//! The tenant's JavaScript rule, run in a QuickJS sandbox on a small pool of worker threads.
//! A script is a pure function of one call's input: every call runs in a fresh context.
//!
//! # Layout
//! - [`banned`]: the words refused at compile time (`try`, `catch`, promises, `import`):
//!   the constructs that let a script hide a limit hit and get a password accepted.
//! - [`budget`]: CPU-time budgets and their wall-clock caps, checked by the interrupt, and
//!   the one budget a document's load and examples share.
//! - [`sandbox`]: a tenant script's runtime (caps, interrupt), the fresh context each load
//!   and call gets (minimal intrinsics, hardened, prepared after the previous reply), and the checks on what `validate` returns
//!   (declared params only).
//! - [`fair`]: each tenant's bounded share of the workers, per lane (checks, compile work).
//! - [`mod@pool`]: the worker threads, their runtimes keyed by tenant + script + limits, and
//!   the watchdog.

mod banned;
mod budget;
mod fair;
mod pool;
mod sandbox;

use std::sync::Arc;
use std::time::Duration;

pub(crate) use budget::DocumentBudget;
pub use budget::{DOCUMENT_CPU, DOCUMENT_WALL};
pub(crate) use sandbox::{Answer, ScriptError, ScriptInput};

use crate::spec::{CompileError, CompileLocation, ScriptLimits, ScriptParam, ScriptRule};
use crate::violation::ScriptFailure;
use budget::wall_cap;
use pool::{CallBudget, Lane, Program, pool};

/// Longest script source accepted (bytes); a password rule is a few dozen lines.
pub const MAX_SCRIPT_BYTES: usize = 64 * 1024;
/// Most generous CPU-time budget per call a script may ask for.
pub const MAX_TIMEOUT_MS: u64 = 1_000;
/// Smallest and largest heap cap (bytes). Below 1 MiB QuickJS cannot even set up a context.
pub const MEMORY_BYTES_RANGE: (usize, usize) = (1024 * 1024, 128 * 1024 * 1024);
/// Smallest and largest stack cap (bytes). QuickJS treats more than 16 MiB as "no check".
pub const STACK_BYTES_RANGE: (usize, usize) = (64 * 1024, 16 * 1024 * 1024);
/// Most params a script may declare (also the most one violation may carry).
pub const MAX_DECLARED_PARAMS: usize = 8;
/// Most values one declared param may take.
pub const MAX_PARAM_VALUES: usize = 32;
/// Longest declared param value, in characters.
pub const MAX_PARAM_VALUE_CHARS: usize = 200;

/// A script rule that loaded successfully; evaluation goes through the worker pool, where
/// each worker keeps a runtime per (tenant, source, limits) and gives every call a fresh
/// context in it.
#[derive(Clone)]
pub(crate) struct CompiledScript {
    program: Arc<Program>,
}

impl std::fmt::Debug for CompiledScript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledScript")
            .field("tenant", &self.program.tenant)
            .field("hash", &format_args!("{:016x}", self.program.hash))
            .field("bytes", &self.program.source.len())
            .field("limits", &self.program.limits)
            .finish()
    }
}

impl CompiledScript {
    /// Checks the limits, the declared params, the source size and the banned words (the
    /// constructs that could hide a limit hit), then loads the script once on a worker under
    /// what is left of `document`: syntax errors, a throwing or endless top level, a top
    /// level slower than the budget per call (it runs on every call) and a missing
    /// `validate` are errors. Blocks the calling thread: call it off the async executor.
    pub(crate) fn compile(
        rule: &ScriptRule,
        document: &DocumentBudget,
    ) -> Result<Self, Vec<CompileError>> {
        let error = |message: String| CompileError {
            location: CompileLocation::Script,
            message,
        };
        let mut errors = check_limits(rule.limits)
            .into_iter()
            .chain(check_params(&rule.params))
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
        let program = Arc::new(Program::new(rule));
        let per_call = Duration::from_millis(rule.limits.timeout_ms);
        let (cpu, wall) = document.left();
        match pool().load(&program, CallBudget { cpu, wall }) {
            Ok(used) => {
                document.spend(used);
                if used > per_call {
                    return Err(vec![error(format!(
                        "the script's top level used {} ms of CPU time; it runs again on every \
                         call, within the budget per call of {} ms (`timeout_ms`): move the \
                         work into `validate` only where needed, or make it cheaper",
                        used.as_millis(),
                        rule.limits.timeout_ms
                    ))]);
                }
                Ok(Self { program })
            }
            Err(failure) => {
                document.spend(failure.cpu);
                let at_line = failure
                    .line
                    .map(|line| format!(" (line {line})"))
                    .unwrap_or_default();
                let message = match failure.kind {
                    ScriptFailure::Timeout => format!(
                        "the script's top level did not finish within the {} ms of CPU time a \
                         document's script gets at validation (load and examples together)",
                        DOCUMENT_CPU.as_millis()
                    ),
                    ScriptFailure::Memory => format!(
                        "the script ran out of memory while loading (cap {} bytes)",
                        rule.limits.memory_bytes
                    ),
                    ScriptFailure::Overloaded => {
                        "the script could not be loaded: this tenant's share of the script \
                         workers is busy; try again"
                            .to_owned()
                    }
                    _ => format!("{}{at_line}", failure.message),
                };
                Err(vec![error(message)])
            }
        }
    }

    /// Queues `validate` on a worker and returns at once; [`PendingScript::finish`] waits.
    /// The caller runs the other rules meanwhile, so the script's latency overlaps theirs.
    pub(crate) fn start(&self, input: ScriptInput, budget: Budget<'_>) -> PendingScript {
        let (budget, lane) = match budget {
            Budget::PerCall => {
                let cpu = Duration::from_millis(self.program.limits.timeout_ms);
                let wall = wall_cap(cpu);
                (CallBudget { cpu, wall }, Lane::Check)
            }
            Budget::Document(document) => {
                let (cpu, wall) = document.left();
                let wall = wall.min(wall_cap(cpu));
                (CallBudget { cpu, wall }, Lane::Compile)
            }
        };
        PendingScript {
            pending: pool().run(&self.program, input, budget, lane),
            hash: self.program.hash,
        }
    }
}

/// Which CPU budget a `validate` call runs under.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Budget<'a> {
    /// A user's password: the script's own `timeout_ms`.
    PerCall,
    /// An `examples:` entry at compile time: what is left of the document's budget.
    Document(&'a DocumentBudget),
}

/// A script evaluation in flight.
#[derive(Debug)]
pub(crate) struct PendingScript {
    pending: pool::Pending,
    hash: u64,
}

impl PendingScript {
    /// The script's answer, or the reason it could not answer (the password is then
    /// rejected), with the CPU time it used either way.
    pub(crate) fn finish(self) -> Result<Answer, ScriptError> {
        let hash = self.hash;
        self.pending.wait().inspect_err(|failure| {
            // Only the class is logged: the engine message may quote what the script threw,
            // and a script can throw the password.
            tracing::warn!(
                target: "passgate::policy::script",
                reason = failure.kind.as_str(),
                script = format_args!("{hash:016x}"),
                "password rule script failed; password rejected"
            );
        })
    }
}

/// Platform bounds on declared params (the tenant crate reports them with positions first).
fn check_params(params: &[ScriptParam]) -> Vec<String> {
    let mut problems = Vec::new();
    if params.len() > MAX_DECLARED_PARAMS {
        problems.push(format!(
            "at most {MAX_DECLARED_PARAMS} script params may be declared"
        ));
    }
    for (i, param) in params.iter().enumerate() {
        if !sandbox::is_valid_key(&param.name) || params[..i].iter().any(|p| p.name == param.name) {
            problems.push(format!(
                "script param names are unique, 1-64 ASCII letters, digits, '_', '.' or '-': {:?}",
                param.name
            ));
        }
        if param.values.is_empty()
            || param.values.len() > MAX_PARAM_VALUES
            || param
                .values
                .iter()
                .any(|v| v.is_empty() || v.chars().count() > MAX_PARAM_VALUE_CHARS)
        {
            problems.push(format!(
                "script param {:?} needs 1 to {MAX_PARAM_VALUES} values of 1 to \
                 {MAX_PARAM_VALUE_CHARS} characters",
                param.name
            ));
        }
    }
    problems
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

/// Runs a script on the current thread, without the pool or the watchdog, each call in a
/// fresh context as on a worker. Only for benchmarks that separate the engine's own cost
/// from the thread hand-off; not a stable API, and never to be used to check a password (a
/// stuck script would hang the caller).
#[doc(hidden)]
#[derive(Debug)]
pub struct LocalScript {
    sandbox: sandbox::Sandbox,
    source: String,
    params: Vec<ScriptParam>,
}

impl LocalScript {
    /// Loads `rule` once (the top level gets a document's budget, as at compile time).
    pub fn load(rule: &ScriptRule) -> Result<Self, ScriptFailure> {
        let sandbox = sandbox::Sandbox::new(rule.limits).map_err(|e| e.kind)?;
        sandbox
            .load(&rule.source, DOCUMENT_CPU, DOCUMENT_WALL)
            .map_err(|e| e.kind)?;
        Ok(Self {
            sandbox,
            source: rule.source.clone(),
            params: rule.params.clone(),
        })
    }

    /// Bytes the script's runtime holds (QuickJS's own accounting).
    pub fn memory_used(&self) -> i64 {
        self.sandbox.memory_used()
    }

    /// Frees what earlier calls' contexts left behind, as a worker does between calls.
    pub fn collect_garbage(&self) {
        self.sandbox.collect_garbage();
    }

    /// Prepares the next call's fresh context (hardened, top level run) under `timeout_ms`
    /// of CPU time, as a worker does after each reply.
    pub fn prepare(&self, timeout_ms: u64) {
        let cpu = Duration::from_millis(timeout_ms);
        self.sandbox.prepare(&self.source, cpu, wall_cap(cpu));
    }

    /// Calls `validate` in a fresh context under `timeout_ms` of CPU time and returns how
    /// many keys it gave: the prepared one if [`LocalScript::prepare`] ran since the last
    /// call, else a new one.
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
        let cpu = Duration::from_millis(timeout_ms);
        self.sandbox
            .call(&self.source, &self.params, &input, cpu, wall_cap(cpu))
            .map(|answer| answer.keys.len())
            .map_err(|e| e.kind)
    }
}
