//! A tenant script's QuickJS runtime (memory cap, stack cap, CPU-time interrupt) and the
//! fresh context every load and every call gets, with only the intrinsics a password rule
//! needs.
//!
//! Nothing survives from one call to the next: each call gets a new context in the
//! runtime, hardened (see [`harden`]) and with the script's top level run in it, calls
//! `validate` once and drops the context. A top-level `let`, a closure, a global or a
//! polluted prototype of one call live in that call's context only, which no later call can
//! reach. The context is usually prepared after the previous reply ([`Sandbox::prepare`]),
//! so a caller waits for the call alone. (rquickjs reads bytecode only through an `unsafe`
//! API, which this workspace forbids, so the source is compiled again for each context;
//! `docs/benchmarks.md` has the cost.)
//!
//! A [`Sandbox`] is `!Send` (rquickjs without the `parallel` feature), so it is created,
//! used and dropped on one script worker thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use rquickjs::context::EvalOptions;
use rquickjs::context::intrinsic::{Eval, Json, MapSet, Promise, RegExp, RegExpCompiler};
use rquickjs::object::{Filter, Property};
use rquickjs::{Context, Ctx, Function, Object, Runtime, Value};

use super::budget::Deadline;
use crate::spec::{ScriptLimits, ScriptParam};
use crate::violation::ScriptFailure;

/// The intrinsics on top of QuickJS's base objects (Object, Function, Array, String, Number,
/// Boolean, Symbol, Error, Math, Reflect, iterators). `Eval` only lets the host compile the
/// script; [`harden`] removes every way to reach it from JavaScript. The `Promise`
/// intrinsic is present so that QuickJS's own objects are consistent, but [`harden`] deletes
/// every global that hands out a promise, and the words that create one are refused at
/// compile time (`banned`); no job is ever run anyway. No Date, Performance, TypedArrays,
/// Proxy, WeakRef, FinalizationRegistry: nothing that reads time, shares memory or observes
/// the GC (a finalizer could otherwise run in a later call).
type Intrinsics = (Eval, RegExpCompiler, RegExp, Json, MapSet, Promise);

/// Name the script is compiled under; syntax errors and stacks mention it with a line.
const FILENAME: &str = "validate.js";

/// The function kinds whose prototypes hold a `constructor` that compiles source text
/// (GeneratorFunction, AsyncFunction, AsyncGeneratorFunction); plain `Function.prototype` is
/// reached from the `Function` global. Parsing this one line is the only JavaScript the
/// hardening runs.
const FUNCTION_KINDS: &str = "[function* () {}, async function () {}, async function* () {}]";

/// Globals removed from every fresh context: code from strings (`eval`, `Function`), the
/// microtask queue and the built-ins that hand out a promise (which would turn an exception
/// such as out of memory into an unseen rejection).
const REMOVED_GLOBALS: &[&str] = &[
    "eval",
    "Function",
    "queueMicrotask",
    "Promise",
    "AsyncDisposableStack",
];

/// V8 extensions on `Error` that run script code whenever an error is built (including the
/// engine's own stack overflow error).
const REMOVED_ERROR_HOOKS: &[&str] = &["prepareStackTrace", "captureStackTrace", "stackTraceLimit"];

/// At most this many violations from one `validate` call.
const MAX_KEYS: usize = 32;
/// At most this many parameters per violation.
const MAX_PARAMS: usize = 8;
/// Longest key or parameter name (keys are message keys and part of violation codes).
const MAX_KEY_LEN: usize = 64;

/// What the script sees: the password and `ctx`. Its `Debug` never prints the password.
#[derive(Clone)]
pub(crate) struct ScriptInput {
    /// The candidate password, exactly as typed.
    pub password: String,
    /// `ctx.email` (`null` when unknown).
    pub email: Option<String>,
    /// `ctx.user_name` (`null` when unknown).
    pub user_name: Option<String>,
    /// `ctx.tenant`.
    pub tenant: String,
    /// `ctx.locale`.
    pub locale: String,
}

impl std::fmt::Debug for ScriptInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptInput")
            .field("password", &"[redacted]")
            .field("tenant", &self.tenant)
            .field("locale", &self.locale)
            .finish_non_exhaustive()
    }
}

/// One violation key returned by `validate`, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptKey {
    /// Message key (validated: ASCII letters, digits, `_`, `.`, `-`).
    pub key: String,
    /// Placeholder values, as strings.
    pub params: Vec<(String, String)>,
}

/// What a `validate` call answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The violation keys (empty: accepted by the script).
    pub keys: Vec<ScriptKey>,
    /// CPU time the call used, counted from the interrupt's first poll: zero for a call too
    /// short to be polled (see `budget`). Compile-time examples compare it with the budget.
    pub cpu: Duration,
}

/// Why a load or a call failed, with the engine's message for product owners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ScriptError {
    /// The failure class (decides whether the runtime is discarded).
    pub kind: ScriptFailure,
    /// Engine message (e.g. `SyntaxError: unexpected token in expression: '}'`). May quote
    /// what the script threw, so it is only shown at compile time, never logged at run time.
    pub message: String,
    /// Line in the script, when QuickJS reports one.
    pub line: Option<u32>,
    /// CPU time the failed load or call used, as far as the interrupt's clock saw it (see
    /// `budget`); zero when unknown (the watchdog gave up on the worker).
    pub cpu: Duration,
}

impl ScriptError {
    pub(crate) fn new(kind: ScriptFailure, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            line: None,
            cpu: Duration::ZERO,
        }
    }
}

/// A tenant script's runtime: the caps, the interrupt, and nothing of any earlier call.
pub(crate) struct Sandbox {
    /// The runtime carrying the caps; one per (tenant, script, limits) on each worker, so a
    /// script's heap is its own and its garbage never shares a heap with another tenant's.
    runtime: Runtime,
    /// Budget of the current evaluation, shared with the interrupt handler.
    deadline: Rc<Deadline>,
    /// The next call's context, hardened and with the script's top level run, prepared
    /// after the previous reply; it has never seen a `validate` call and is dropped after
    /// exactly one.
    spare: RefCell<Option<Spare>>,
}

/// A prepared context and the source whose top level ran in it.
struct Spare {
    context: Context,
    source: String,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Builds a runtime with `limits` and the CPU-time interrupt.
    pub(crate) fn new(limits: ScriptLimits) -> Result<Self, ScriptError> {
        let runtime = Runtime::new()
            .map_err(|e| ScriptError::new(ScriptFailure::Memory, format!("runtime: {e}")))?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(limits.stack_bytes);
        let deadline = Rc::new(Deadline::default());
        let handler_deadline = Rc::clone(&deadline);
        runtime.set_interrupt_handler(Some(Box::new(move || handler_deadline.expired())));
        Ok(Self {
            runtime,
            deadline,
            spare: RefCell::new(None),
        })
    }

    /// Loads `source` once in a fresh context under `budget` (CPU, then wall-clock cap):
    /// syntax errors, a throwing or endless top level and a missing `validate` are errors.
    /// Returns the CPU time the top level used (see `budget` for what is counted).
    pub(crate) fn load(
        &self,
        source: &str,
        budget: Duration,
        wall: Duration,
    ) -> Result<Duration, ScriptError> {
        let context = self.context()?;
        self.deadline.start(budget, wall);
        let loaded = context.with(|ctx| define(&ctx, source, &self.deadline).map(|_| ()));
        let cpu = self.deadline.stop();
        loaded.map(|()| cpu).map_err(|e| ScriptError { cpu, ..e })
    }

    /// Prepares the next call's fresh context off the request path: hardens it and runs
    /// the script's top level under `budget` (the budget per call; the compile-time load
    /// showed the top level fits in it). A failure leaves no spare: the next call then
    /// builds its context itself and reports the failure. Returns the CPU time used.
    pub(crate) fn prepare(&self, source: &str, budget: Duration, wall: Duration) -> Duration {
        if self.spare.borrow().is_some() {
            return Duration::ZERO;
        }
        let Ok(context) = self.context() else {
            return Duration::ZERO;
        };
        self.deadline.start(budget, wall);
        let defined = context.with(|ctx| define(&ctx, source, &self.deadline).is_ok());
        let cpu = self.deadline.stop();
        if defined {
            *self.spare.borrow_mut() = Some(Spare {
                context,
                source: source.to_owned(),
            });
        }
        cpu
    }

    /// Calls `validate(password, ctx)` in a fresh context under `budget` of CPU time (and
    /// `wall` of wall-clock time) and checks what it returned against the declared `params`.
    /// The context is the prepared spare when there is one for `source` (only the call runs
    /// under the budget), else a new one (hardening, top level and call under it); either
    /// way it is dropped after this one call. Reading the returned objects can run script
    /// code (getters), so it stays under the budget.
    pub(crate) fn call(
        &self,
        source: &str,
        params: &[ScriptParam],
        input: &ScriptInput,
        budget: Duration,
        wall: Duration,
    ) -> Result<Answer, ScriptError> {
        let spare = self.spare.borrow_mut().take();
        let (context, prepared) = match spare {
            Some(spare) if spare.source == source => (spare.context, true),
            _ => (self.context()?, false),
        };
        self.deadline.start(budget, wall);
        let result = context.with(|ctx| -> Result<_, ScriptError> {
            let fail = |e| classify(&ctx, e, &self.deadline);
            let validate = if prepared {
                validate_of(&ctx).map_err(fail)??
            } else {
                define(&ctx, source, &self.deadline)?
            };
            let script_ctx = Object::new(ctx.clone()).map_err(fail)?;
            let or_null = |v: &Option<String>| match v {
                Some(s) => rquickjs::String::from_str(ctx.clone(), s).map(|s| s.into_value()),
                None => Ok(Value::new_null(ctx.clone())),
            };
            script_ctx
                .set("email", or_null(&input.email).map_err(fail)?)
                .map_err(fail)?;
            script_ctx
                .set("user_name", or_null(&input.user_name).map_err(fail)?)
                .map_err(fail)?;
            script_ctx
                .set("tenant", input.tenant.as_str())
                .map_err(fail)?;
            script_ctx
                .set("locale", input.locale.as_str())
                .map_err(fail)?;
            let returned: Value = validate
                .call((input.password.as_str(), script_ctx))
                .map_err(fail)?;
            read_keys(returned, params, &input.password).map_err(|e| match e {
                ReadError::Js(e) => classify(&ctx, e, &self.deadline),
                ReadError::Shape(message) => ScriptError::new(ScriptFailure::BadReturn, message),
            })
        });
        let cpu = self.deadline.stop();
        drop(context);
        result
            .map(|keys| Answer { keys, cpu })
            .map_err(|e| ScriptError { cpu, ..e })
    }

    /// A new context in this runtime: fresh globals, prototypes and intrinsics.
    fn context(&self) -> Result<Context, ScriptError> {
        Context::custom::<Intrinsics>(&self.runtime)
            .map_err(|e| ScriptError::new(ScriptFailure::Memory, format!("context: {e}")))
    }

    /// Bytes the runtime currently holds (for the memory-growth check between calls).
    pub(crate) fn memory_used(&self) -> i64 {
        self.runtime.memory_usage().malloc_size
    }

    /// Frees what dropped contexts left behind (their cycles wait for QuickJS's collector).
    pub(crate) fn collect_garbage(&self) {
        self.runtime.run_gc();
    }
}

/// Hardens `ctx` and runs the script's top level in it; returns its `validate`.
fn define<'js>(
    ctx: &Ctx<'js>,
    source: &str,
    deadline: &Deadline,
) -> Result<Function<'js>, ScriptError> {
    harden(ctx).map_err(|e| classify(ctx, e, deadline))?;
    let mut options = EvalOptions::default();
    options.global = true;
    options.strict = false;
    options.backtrace_barrier = true;
    options.filename = Some(FILENAME.to_owned());
    ctx.eval_with_options::<(), _>(source, options)
        .map_err(|e| classify(ctx, e, deadline))?;
    validate_of(ctx).map_err(|e| classify(ctx, e, deadline))?
}

/// The global `validate`, or the error saying the script defines none.
fn validate_of<'js>(ctx: &Ctx<'js>) -> Result<Result<Function<'js>, ScriptError>, rquickjs::Error> {
    let value: Value = ctx.globals().get("validate")?;
    Ok(value.into_function().ok_or_else(|| {
        ScriptError::new(
            ScriptFailure::Exception,
            "the script does not define `function validate(password, ctx)`",
        )
    }))
}

/// Removes from a fresh context, through the object API rather than a JavaScript prelude
/// (parsing one cost as much as the call): every code-from-string entry point, the
/// microtask queue, the promise makers and the error hooks.
///
/// The four function prototypes get a non-writable, non-configurable `undefined`
/// `constructor`, so `(function(){}).constructor('...')` cannot reach the Function
/// constructor (nor its generator and async variants); `Array.fromAsync` goes because it
/// returns a promise.
fn harden(ctx: &Ctx<'_>) -> Result<(), rquickjs::Error> {
    let globals = ctx.globals();
    let function: Object = globals.get("Function")?;
    let mut prototypes: Vec<Object> = vec![function.get("prototype")?];
    let kinds: rquickjs::Array = ctx.eval(FUNCTION_KINDS)?;
    for kind in kinds.iter::<Object>() {
        if let Some(prototype) = kind?.get_prototype() {
            prototypes.push(prototype);
        }
    }
    for prototype in prototypes {
        // Defining over the existing slot would keep its `writable` and `configurable`;
        // a new one defined without flags is neither (nor enumerable).
        prototype.remove("constructor")?;
        prototype.prop(
            "constructor",
            Property::from(Value::new_undefined(ctx.clone())),
        )?;
    }
    for name in REMOVED_GLOBALS {
        globals.remove(*name)?;
    }
    let array: Object = globals.get("Array")?;
    array.remove("fromAsync")?;
    let error: Object = globals.get("Error")?;
    for name in REMOVED_ERROR_HOOKS {
        error.remove(*name)?;
    }
    Ok(())
}

/// Reading the returned value failed: a JavaScript error (getter threw, interrupt) or a
/// shape the contract does not allow.
enum ReadError {
    Js(rquickjs::Error),
    Shape(String),
}

impl From<rquickjs::Error> for ReadError {
    fn from(e: rquickjs::Error) -> Self {
        Self::Js(e)
    }
}

/// Converts `validate`'s return value: an array of key strings or `{key, params}` objects
/// whose params are among the `declared` ones.
fn read_keys(
    returned: Value<'_>,
    declared: &[ScriptParam],
    password: &str,
) -> Result<Vec<ScriptKey>, ReadError> {
    let shape = |m: &str| ReadError::Shape(m.to_owned());
    let Some(array) = returned.as_array() else {
        return Err(shape(&format!(
            "validate must return an array, it returned a value of type {}",
            returned.type_name()
        )));
    };
    if array.len() > MAX_KEYS {
        return Err(shape("validate returned more than 32 violations"));
    }
    let mut keys: Vec<ScriptKey> = Vec::with_capacity(array.len());
    for index in 0..array.len() {
        let item: Value = array.get(index)?;
        let found = if let Some(key) = item.as_string() {
            ScriptKey {
                key: key.to_string()?,
                params: Vec::new(),
            }
        } else if let Some(object) = item.as_object().filter(|_| !item.is_array()) {
            let key: Value = object.get("key")?;
            let Some(key) = key.as_string() else {
                return Err(shape("a violation object needs a string `key`"));
            };
            let params: Value = object.get("params")?;
            ScriptKey {
                key: key.to_string()?,
                params: read_params(params, declared, password)?,
            }
        } else {
            return Err(shape(
                "each violation must be a key string or a {key, params} object",
            ));
        };
        if !is_valid_key(&found.key) {
            return Err(shape(
                "a violation key must be 1-64 ASCII letters, digits, '_', '.' or '-'",
            ));
        }
        if !keys.iter().any(|k| k.key == found.key) {
            keys.push(found);
        }
    }
    Ok(keys)
}

/// Converts a `params` object. Each name must be declared in the tenant's YAML
/// (`script.params`) and each value, as text, must be one of the literals declared for it:
/// whatever a script computes from a password or `ctx` cannot reach a message.
fn read_params(
    params: Value<'_>,
    declared: &[ScriptParam],
    password: &str,
) -> Result<Vec<(String, String)>, ReadError> {
    let shape = |m: String| ReadError::Shape(m);
    if params.is_undefined() || params.is_null() {
        return Ok(Vec::new());
    }
    let Some(object) = params.as_object().filter(|_| !params.is_array()) else {
        return Err(shape("`params` must be an object".to_owned()));
    };
    let mut out = Vec::new();
    for prop in object.own_props::<String, Value>(Filter::default()) {
        let (name, value) = prop?;
        if out.len() == MAX_PARAMS {
            return Err(shape(format!("at most {MAX_PARAMS} parameters")));
        }
        let Some(rule) = declared.iter().find(|p| p.name == name) else {
            return Err(shape(format!(
                "parameter `{name}` is not declared under script.params"
            )));
        };
        let text = if let Some(s) = value.as_string() {
            s.to_string()?
        } else if let Some(b) = value.as_bool() {
            b.to_string()
        } else if let Some(n) = value.as_number().filter(|n| n.is_finite()) {
            n.to_string()
        } else {
            return Err(shape(
                "parameter values must be strings, numbers or booleans".to_owned(),
            ));
        };
        // Messages must never reflect the password (security.md item 29); a declared
        // literal that happens to equal it is refused too.
        if !rule.values.contains(&text) || (!password.is_empty() && text.contains(password)) {
            return Err(shape(format!(
                "parameter `{name}` has a value that script.params does not declare for it"
            )));
        }
        out.push((name, text));
    }
    Ok(out)
}

/// Message keys: 1–64 of `[A-Za-z0-9_.-]`.
pub(crate) fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Turns an rquickjs error into a failure class and a message. The interrupt flag wins: a
/// script cannot catch the interrupt, and whatever surfaced after it is a timeout.
fn classify(ctx: &Ctx<'_>, error: rquickjs::Error, deadline: &Deadline) -> ScriptError {
    let mut described = match error {
        rquickjs::Error::Exception => describe_exception(ctx.catch()),
        rquickjs::Error::Allocation => ScriptError::new(ScriptFailure::Memory, "out of memory"),
        other => ScriptError::new(ScriptFailure::Exception, other.to_string()),
    };
    if deadline.fired() {
        described.kind = ScriptFailure::Timeout;
        described.message = "the script ran past its time budget".to_owned();
    }
    described
}

/// Classifies a thrown value by the engine's own messages for limit hits.
fn describe_exception(thrown: Value<'_>) -> ScriptError {
    if let Some(exception) = thrown.as_exception() {
        let message = exception.message().unwrap_or_default();
        let name: String = exception
            .get::<_, Option<String>>("name")
            .ok()
            .flatten()
            .unwrap_or_else(|| "Error".to_owned());
        let kind = if message == "out of memory" || message.contains("too long") {
            ScriptFailure::Memory
        } else if message.contains("stack size exceeded") || message.contains("stack overflow") {
            ScriptFailure::Stack
        } else if message == "interrupted" {
            ScriptFailure::Timeout
        } else {
            ScriptFailure::Exception
        };
        let line = exception.stack().as_deref().and_then(line_in_stack);
        return ScriptError {
            line,
            ..ScriptError::new(kind, format!("{name}: {message}"))
        };
    }
    if let Some(s) = thrown.as_string().and_then(|s| s.to_string().ok()) {
        let kind = if s == "out of memory" {
            ScriptFailure::Memory
        } else {
            ScriptFailure::Exception
        };
        return ScriptError::new(kind, format!("uncaught: {s}"));
    }
    if thrown.is_null() {
        // When QuickJS runs out of memory while building the "out of memory" error itself,
        // the exception is `null`. A script that throws `null` on purpose lands here too;
        // it fails closed either way, only the label is shared.
        return ScriptError::new(
            ScriptFailure::Memory,
            "out of memory (no memory left even for the error)",
        );
    }
    ScriptError::new(
        ScriptFailure::Exception,
        format!("uncaught value of type {}", thrown.type_name()),
    )
}

/// Finds `validate.js:<line>` in a QuickJS stack trace.
fn line_in_stack(stack: &str) -> Option<u32> {
    let at = stack.find(FILENAME)? + FILENAME.len();
    let rest = stack[at..].strip_prefix(':')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::{is_valid_key, line_in_stack};

    #[test]
    fn lines_are_read_from_quickjs_stacks() {
        assert_eq!(line_in_stack("    at validate.js:3:12\n"), Some(3));
        assert_eq!(
            line_in_stack("    at f (validate.js:41:1)\n    at validate (validate.js:2:3)"),
            Some(41)
        );
        assert_eq!(line_in_stack("    at <eval>:1:1"), None);
    }

    #[test]
    fn keys_are_short_plain_identifiers() {
        assert!(is_valid_key("acme.no_year-2"));
        assert!(!is_valid_key(""));
        assert!(!is_valid_key("has space"));
        assert!(!is_valid_key("{placeholder}"));
        assert!(!is_valid_key(&"k".repeat(65)));
    }
}
