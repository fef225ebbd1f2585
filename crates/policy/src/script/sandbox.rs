//! One loaded tenant script: its own QuickJS runtime (memory cap, stack cap, CPU-time
//! interrupt) and a context with only the intrinsics a password rule needs.
//!
//! A [`Sandbox`] is `!Send` (rquickjs without the `parallel` feature), so it is created,
//! used and dropped on one script worker thread.

use std::rc::Rc;
use std::time::Duration;

use rquickjs::context::EvalOptions;
use rquickjs::context::intrinsic::{Eval, Json, MapSet, Promise, RegExp, RegExpCompiler};
use rquickjs::object::Filter;
use rquickjs::{Context, Ctx, Function, Object, Persistent, Runtime, Value};

use super::budget::Deadline;
use crate::spec::ScriptLimits;
use crate::violation::ScriptFailure;

/// The intrinsics on top of QuickJS's base objects (Object, Function, Array, String, Number,
/// Boolean, Symbol, Error, Math, Reflect, iterators). `Eval` only lets the host compile the
/// script; the prelude removes every way to reach it from JavaScript. The `Promise`
/// intrinsic is present so that QuickJS's own objects are consistent, but the prelude deletes
/// every global that hands out a promise, and the words that create one are refused at
/// compile time (`banned`); no job is ever run anyway. No Date, Performance, TypedArrays,
/// Proxy, WeakRef: nothing that reads time, shares memory or observes the GC.
type Intrinsics = (Eval, RegExpCompiler, RegExp, Json, MapSet, Promise);

/// Name the script is compiled under; syntax errors and stacks mention it with a line.
const FILENAME: &str = "validate.js";

/// Runs before the tenant script: removes code-from-string entry points, the microtask queue
/// and every way to swallow an error or hook into error creation, and returns the names of
/// the remaining (built-in) globals for [`SEAL`].
///
/// - The `constructor` slots are replaced by non-writable, non-configurable `undefined`, so
///   `(function(){}).constructor('...')` cannot reach the Function constructor (nor its
///   generator and async variants).
/// - `Promise`, `AsyncDisposableStack` and `Array.fromAsync` go: each returns a promise,
///   which turns an exception (out of memory, stack overflow) into an unseen rejection.
/// - `Error.prepareStackTrace`, `captureStackTrace` and `stackTraceLimit` go: V8 extensions
///   that run script code whenever an error is built (including the engine's own stack
///   overflow error) and keep state in the context, beyond the reach of the seal.
const PRELUDE: &str = r#"(function () {
  "use strict";
  var g = globalThis;
  var kinds = [function () {}, function* () {}, async function () {}, async function* () {}];
  for (var i = 0; i < kinds.length; i++) {
    Object.defineProperty(Object.getPrototypeOf(kinds[i]), "constructor", {
      value: undefined, writable: false, enumerable: false, configurable: false
    });
  }
  delete g.eval;
  delete g.Function;
  delete g.queueMicrotask;
  delete g.Promise;
  delete g.AsyncDisposableStack;
  delete g.Array.fromAsync;
  delete g.Error.prepareStackTrace;
  delete g.Error.captureStackTrace;
  delete g.Error.stackTraceLimit;
  return Reflect.ownKeys(g);
})();"#;

/// Runs after the tenant script's top level, given the global names that existed before it
/// (the built-ins). Built-ins are frozen shallowly: each global, its `prototype`, and the
/// hidden prototypes of functions and iterators, so prototype pollution cannot persist.
/// What the script created (its globals and everything reachable from them) is frozen
/// deeply; the walk stops at built-ins, which keeps it cheap. State a call writes into a
/// global, a top-level object or a prototype therefore cannot survive into the next call
/// (another user's evaluation). Sloppy-mode writes to frozen objects are silently ignored;
/// strict-mode writes throw, which fails closed and shows up when the examples run.
const SEAL: &str = r#"(function (builtinNames) {
  "use strict";
  var seen = new Set();
  var isObject = function (o) {
    return o !== null && (typeof o === "object" || typeof o === "function");
  };
  var shallow = function (o) {
    if (isObject(o) && !seen.has(o)) { seen.add(o); Object.freeze(o); }
  };
  var dataValue = function (o, k) {
    var d = Object.getOwnPropertyDescriptor(o, k);
    return d !== undefined && "value" in d ? d.value : undefined;
  };
  var builtin = new Set(builtinNames);
  var todo = [];
  var names = Reflect.ownKeys(globalThis);
  for (var i = 0; i < names.length; i++) {
    var value = dataValue(globalThis, names[i]);
    if (builtin.has(names[i])) {
      shallow(value);
      if (isObject(value)) shallow(dataValue(value, "prototype"));
    } else {
      todo.push(value);
    }
  }
  var hidden = [function () {}, function* () {}, async function () {}, async function* () {}]
    .map(Object.getPrototypeOf);
  hidden.push(Object.getPrototypeOf(function* () {}).prototype);
  hidden.push(Object.getPrototypeOf(async function* () {}).prototype);
  [[][Symbol.iterator](), ""[Symbol.iterator](), new Map()[Symbol.iterator](),
   new Set()[Symbol.iterator](), /a/[Symbol.matchAll]("")].forEach(function (it) {
    hidden.push(Object.getPrototypeOf(it));
    hidden.push(Object.getPrototypeOf(Object.getPrototypeOf(it)));
  });
  hidden.forEach(shallow);
  while (todo.length > 0) {
    var o = todo.pop();
    if (!isObject(o) || seen.has(o)) continue;
    seen.add(o);
    Object.freeze(o);
    var keys = Reflect.ownKeys(o);
    for (var j = 0; j < keys.length; j++) {
      var d = Object.getOwnPropertyDescriptor(o, keys[j]);
      if (d === undefined) continue;
      if ("value" in d) { todo.push(d.value); } else { todo.push(d.get); todo.push(d.set); }
    }
    todo.push(Object.getPrototypeOf(o));
  }
  Object.freeze(globalThis);
})"#;

/// CPU time allowed for [`SEAL`], on top of the top level's budget: it is platform code whose
/// cost grows with what the script's top level created (bounded by the memory cap). The
/// watchdog adds its wall-clock cap when a job loads.
pub(crate) const SEAL_BUDGET: Duration = Duration::from_millis(500);

/// At most this many violations from one `validate` call.
const MAX_KEYS: usize = 32;
/// At most this many parameters per violation.
const MAX_PARAMS: usize = 8;
/// Longest key or parameter name (keys are message keys and part of violation codes).
const MAX_KEY_LEN: usize = 64;
/// Longest parameter value.
const MAX_VALUE_LEN: usize = 200;

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
}

impl ScriptError {
    fn new(kind: ScriptFailure, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            line: None,
        }
    }
}

/// A loaded script, ready to be called many times.
pub(crate) struct Sandbox {
    // Field order is drop order: the function handle and the context must go before the
    // runtime that owns their memory.
    /// The script's `validate` function, as defined when the script was loaded.
    validate: Persistent<Function<'static>>,
    /// The script's global scope.
    context: Context,
    /// The runtime carrying the caps; one per loaded script so a script's limits and heap
    /// are its own.
    runtime: Runtime,
    /// Budget of the current evaluation, shared with the interrupt handler.
    deadline: Rc<Deadline>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Builds a runtime with `limits`, runs the prelude and the script's top level (under
    /// `budget` of CPU time), finds `validate` and seals the globals (under [`SEAL_BUDGET`]).
    pub(crate) fn load(
        source: &str,
        limits: ScriptLimits,
        budget: Duration,
    ) -> Result<Self, ScriptError> {
        let runtime = Runtime::new()
            .map_err(|e| ScriptError::new(ScriptFailure::Memory, format!("runtime: {e}")))?;
        runtime.set_memory_limit(limits.memory_bytes);
        runtime.set_max_stack_size(limits.stack_bytes);
        let deadline = Rc::new(Deadline::default());
        let handler_deadline = Rc::clone(&deadline);
        runtime.set_interrupt_handler(Some(Box::new(move || handler_deadline.expired())));
        let context = Context::custom::<Intrinsics>(&runtime)
            .map_err(|e| ScriptError::new(ScriptFailure::Memory, format!("context: {e}")))?;

        deadline.start(budget);
        let loaded = context.with(|ctx| -> Result<_, ScriptError> {
            let builtin_names: Value = ctx
                .eval(PRELUDE)
                .map_err(|e| classify(&ctx, e, &deadline))?;
            let mut options = EvalOptions::default();
            options.global = true;
            options.strict = false;
            options.backtrace_barrier = true;
            options.filename = Some(FILENAME.to_owned());
            ctx.eval_with_options::<(), _>(source, options)
                .map_err(|e| classify(&ctx, e, &deadline))?;
            let value: Value = ctx
                .globals()
                .get("validate")
                .map_err(|e| classify(&ctx, e, &deadline))?;
            let function = value.into_function().ok_or_else(|| {
                ScriptError::new(
                    ScriptFailure::Exception,
                    "the script does not define `function validate(password, ctx)`",
                )
            })?;
            deadline.start(SEAL_BUDGET);
            let seal: Function = ctx.eval(SEAL).map_err(|e| classify(&ctx, e, &deadline))?;
            seal.call::<_, ()>((builtin_names,))
                .map_err(|e| classify(&ctx, e, &deadline))?;
            Ok(Persistent::save(&ctx, function))
        });
        deadline.stop();
        let validate = loaded?;
        Ok(Self {
            validate,
            context,
            runtime,
            deadline,
        })
    }

    /// Calls `validate(password, ctx)` under `budget` of CPU time and checks what it
    /// returned. Reading the returned objects can run script code (getters), so it stays
    /// under the budget.
    pub(crate) fn call(
        &self,
        input: &ScriptInput,
        budget: Duration,
    ) -> Result<Answer, ScriptError> {
        self.deadline.start(budget);
        let result = self.context.with(|ctx| -> Result<_, ScriptError> {
            let fail = |e| classify(&ctx, e, &self.deadline);
            let validate = self.validate.clone().restore(&ctx).map_err(fail)?;
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
            read_keys(returned, &input.password).map_err(|e| match e {
                ReadError::Js(e) => classify(&ctx, e, &self.deadline),
                ReadError::Shape(message) => ScriptError::new(ScriptFailure::BadReturn, message),
            })
        });
        let cpu = self.deadline.stop();
        result.map(|keys| Answer { keys, cpu })
    }

    /// Bytes the runtime currently holds (for the memory-growth check between calls).
    pub(crate) fn memory_used(&self) -> i64 {
        self.runtime.memory_usage().malloc_size
    }
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

/// Converts `validate`'s return value: an array of key strings or `{key, params}` objects.
fn read_keys(returned: Value<'_>, password: &str) -> Result<Vec<ScriptKey>, ReadError> {
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
                params: read_params(params, password)?,
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

/// Converts a `params` object: string, number or boolean values only.
fn read_params(params: Value<'_>, password: &str) -> Result<Vec<(String, String)>, ReadError> {
    let shape = |m: &str| ReadError::Shape(m.to_owned());
    if params.is_undefined() || params.is_null() {
        return Ok(Vec::new());
    }
    let Some(object) = params.as_object().filter(|_| !params.is_array()) else {
        return Err(shape("`params` must be an object"));
    };
    let mut out = Vec::new();
    for prop in object.own_props::<String, Value>(Filter::default()) {
        let (name, value) = prop?;
        let text = if let Some(s) = value.as_string() {
            s.to_string()?
        } else if let Some(b) = value.as_bool() {
            b.to_string()
        } else if let Some(n) = value.as_number().filter(|n| n.is_finite()) {
            n.to_string()
        } else {
            return Err(shape(
                "parameter values must be strings, numbers or booleans",
            ));
        };
        if out.len() == MAX_PARAMS || !is_valid_key(&name) || text.chars().count() > MAX_VALUE_LEN {
            return Err(shape(
                "at most 8 parameters, named like keys, with values of at most 200 characters",
            ));
        }
        // Messages must never reflect the password (security.md item 29).
        if !password.is_empty() && text.contains(password) {
            return Err(shape("a parameter value contains the password"));
        }
        out.push((name, text));
    }
    Ok(out)
}

/// Message keys: 1–64 of `[A-Za-z0-9_.-]`.
fn is_valid_key(key: &str) -> bool {
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
            kind,
            message: format!("{name}: {message}"),
            line,
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
