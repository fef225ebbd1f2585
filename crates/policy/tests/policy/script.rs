//! The JavaScript rule: contract, sandbox and fail-closed behaviour, through the public API.

// Test and bench code: a failed setup must stop loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};

use passgate_policy::{
    CheckContext, CompileLocation, CompiledPolicy, LocalScript, PolicySpec, ScriptExample,
    ScriptFailure, ScriptLimits, ScriptParam, ScriptRule, Violation, check,
};

const PASSWORD: &str = "a long enough passphrase";

/// A policy spec of `tenant` whose only rule is `source`, declaring `params` as
/// `(name, [values])`.
fn spec_for(tenant: &str, source: &str, params: &[(&str, &[&str])]) -> PolicySpec {
    PolicySpec {
        min_length: 8,
        common_blocklist: false,
        ban_personal_info: false,
        script: Some(ScriptRule {
            tenant: tenant.to_owned(),
            source: source.to_owned(),
            params: params
                .iter()
                .map(|(name, values)| ScriptParam {
                    name: (*name).to_owned(),
                    values: values.iter().map(|v| (*v).to_owned()).collect(),
                })
                .collect(),
            examples: Vec::new(),
            limits: ScriptLimits::default(),
        }),
        ..PolicySpec::default()
    }
}

/// A spec for a tenant of its own, so tests running at once do not share a tenant's slice
/// of the script pool.
fn spec_with(source: &str) -> PolicySpec {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let tenant = format!("acme-{}", NEXT.fetch_add(1, Ordering::Relaxed));
    spec_for(&tenant, source, &[])
}

fn compile(spec: &PolicySpec) -> CompiledPolicy {
    match CompiledPolicy::compile(spec) {
        Ok(policy) => policy,
        Err(errors) => panic!("script should compile: {errors:?}"),
    }
}

fn policy(source: &str) -> CompiledPolicy {
    compile(&spec_with(source))
}

fn ctx() -> CheckContext {
    CheckContext::new("Acme", "en").with_email("jane@example.com")
}

fn run(source: &str, password: &str) -> Vec<Violation> {
    check(&policy(source), password, &ctx())
}

fn unavailable(reason: ScriptFailure) -> Vec<Violation> {
    vec![Violation::ScriptUnavailable { reason }]
}

/// The compile error for `source`, which must be refused before it runs.
fn refused(source: &str) -> String {
    match CompiledPolicy::compile(&spec_with(source)) {
        Ok(_) => panic!("must not compile: {source}"),
        Err(errors) => {
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].location, CompileLocation::Script);
            errors[0].message.clone()
        }
    }
}

/// After a failure the pool must still answer a well-behaved script.
fn assert_next_evaluation_works() {
    let ok = run(
        "function validate(p, ctx) { return p.length > 3 ? [] : ['short']; }",
        PASSWORD,
    );
    assert_eq!(ok, vec![]);
}

#[test]
fn keys_and_objects_become_script_violations() {
    let source = r#"
        function validate(password, ctx) {
          var out = [];
          if (!/[0-9]/.test(password)) out.push("needs_digit");
          if (password.indexOf(ctx.tenant.toLowerCase()) >= 0) out.push({key: "no_tenant", params: {tenant: "Acme", n: 2, ok: true}});
          return out;
        }"#;
    let policy = compile(&spec_for(
        "acme",
        source,
        &[("tenant", &["Acme"]), ("n", &["2"]), ("ok", &["true"])],
    ));
    let got = check(&policy, "my acme passphrase", &ctx());
    assert_eq!(
        got,
        vec![
            Violation::Script {
                key: "needs_digit".into(),
                params: vec![]
            },
            Violation::Script {
                key: "no_tenant".into(),
                params: vec![
                    ("tenant".into(), "Acme".into()),
                    ("n".into(), "2".into()),
                    ("ok".into(), "true".into())
                ]
            },
        ]
    );
    assert_eq!(got[0].code(), "script:needs_digit");
    assert_eq!(got[1].message_key(), "no_tenant");
    assert_eq!(check(&policy, "a passphrase with 1 digit", &ctx()), vec![]);
}

#[test]
fn ctx_carries_email_user_tenant_and_locale() {
    let source = r#"function validate(p, ctx) {
        return [ctx.email === "jane@example.com", ctx.user_name === null, ctx.tenant === "Acme",
                 ctx.locale === "en"].every(Boolean) ? [] : ["ctx_wrong"];
    }"#;
    assert_eq!(run(source, PASSWORD), vec![]);
}

#[test]
fn password_reaches_the_script_byte_for_byte() {
    let source =
        r#"function validate(p) { return p === " e\u0301 \u00e9 😀 " ? [] : ["changed"]; }"#;
    assert_eq!(run(source, " e\u{301} \u{e9} 😀 "), vec![]);
}

#[test]
fn infinite_loop_is_a_timeout() {
    assert_eq!(
        run("function validate(){ while(true){} }", PASSWORD),
        unavailable(ScriptFailure::Timeout)
    );
    assert_next_evaluation_works();
}

#[test]
fn code_run_while_the_interrupt_unwinds_cannot_outlive_it() {
    // `try` is refused, but a for-of loop still runs its iterator's `return()` while an
    // exception leaves the loop. A `return()` that loops forever is interrupted too, and
    // the original interrupt still ends the call.
    let source = r#"function validate(){
        var it = { next: function () { return { done: false, value: 1 }; },
                   return: function () { for(;;){} } };
        it[Symbol.iterator] = function () { return it; };
        for (var x of it) { for(;;){} }
        return [];
    }"#;
    assert_eq!(run(source, PASSWORD), unavailable(ScriptFailure::Timeout));
    assert_next_evaluation_works();
}

#[test]
fn the_spec_loop_that_catches_the_interrupt_is_refused() {
    // security.md item 60's probe; the interrupt is uncatchable anyway, but `try` is
    // refused before anything runs.
    let message = refused("function validate(){ for(;;){ try { for(;;){} } catch(e) {} } }");
    assert!(
        message.starts_with("`try` is not allowed in password rules")
            && message.ends_with("(line 1)"),
        "{message}"
    );
}

#[test]
fn catastrophic_regex_is_a_timeout() {
    let source = "function validate(){ return /(a+)+$/.test('a'.repeat(40)+'!') ? [] : ['x']; }";
    assert_eq!(run(source, PASSWORD), unavailable(ScriptFailure::Timeout));
    assert_next_evaluation_works();
}

/// Like [`run`] with a one-second budget, so that a slow (debug-built) QuickJS reaches the
/// memory cap before the clock.
fn run_patiently(source: &str, password: &str) -> Vec<Violation> {
    let mut spec = spec_with(source);
    if let Some(script) = spec.script.as_mut() {
        script.limits.timeout_ms = 1_000;
    }
    let policy = CompiledPolicy::compile(&spec).unwrap();
    check(&policy, password, &ctx())
}

#[test]
fn array_memory_bomb_is_a_memory_failure() {
    // The literal case from security.md item 61: sparse arrays are small, so it takes ~170k
    // iterations to fill 16 MiB; a debug build on a loaded machine may hit the clock first.
    let source = "function validate(){ let a=[]; for(;;) a.push(new Array(1e6)); }";
    let got = run_patiently(source, PASSWORD);
    assert!(
        got == unavailable(ScriptFailure::Memory) || got == unavailable(ScriptFailure::Timeout),
        "{got:?}"
    );
    let filled = "function validate(){ let a=[]; for(;;) a.push(new Array(1e6).fill(0)); }";
    assert_eq!(
        run_patiently(filled, PASSWORD),
        unavailable(ScriptFailure::Memory)
    );
    assert_next_evaluation_works();
}

#[test]
fn a_script_that_would_swallow_out_of_memory_is_refused() {
    // QuickJS lets `catch` catch out-of-memory (not the interrupt): this script used to
    // get the password accepted. Now it never loads.
    let message = refused(
        "function validate(){\n  try { let a=[]; for(;;) a.push(new Array(1e6).fill(0)); } catch (e) {}\n  return [];\n}",
    );
    assert!(message.starts_with("`try` is not allowed"), "{message}");
    assert!(message.contains("must not hide errors"), "{message}");
    assert!(message.ends_with("(line 2)"), "{message}");
}

#[test]
fn a_script_that_would_swallow_a_stack_overflow_is_refused() {
    let source = "function f(){ return f(); }\nfunction validate(){\n  try { f(); }\n  finally { return []; }\n}";
    let message = refused(source);
    assert!(
        message.starts_with("`try` is not allowed") && message.ends_with("(line 3)"),
        "{message}"
    );
    let message =
        refused("function f(){ return f(); }\nfunction validate(){ f(); return []; }\n// catch me");
    assert!(
        message.starts_with("`catch` is not allowed") && message.ends_with("(line 3)"),
        "{message}"
    );
}

#[test]
fn banned_words_count_only_as_whole_words() {
    let source = r#"function validate(p) {
        var country = "retry", entry = "country";  // tryout, catchy, asynchronous, imports
        return p.indexOf(country) >= 0 || p.indexOf(entry) >= 0 ? ["no_place"] : [];
    }"#;
    assert_eq!(run(source, PASSWORD), vec![]);
    assert_eq!(
        run(source, "retry the country road"),
        vec![Violation::Script {
            key: "no_place".into(),
            params: vec![]
        }]
    );
}

#[test]
fn huge_string_is_a_memory_failure() {
    assert_eq!(
        run(
            "function validate(){ return ['x'.repeat(2**29)]; }",
            PASSWORD
        ),
        unavailable(ScriptFailure::Memory)
    );
    assert_next_evaluation_works();
}

#[test]
fn huge_join_is_stopped() {
    let got = run(
        "function validate(){ return [new Array(1e9)+'']; }",
        PASSWORD,
    );
    assert!(
        got == unavailable(ScriptFailure::Memory) || got == unavailable(ScriptFailure::Timeout),
        "{got:?}"
    );
    assert_next_evaluation_works();
}

#[test]
fn deep_recursion_is_a_stack_failure() {
    assert_eq!(
        run(
            "function f(n){ return f(n+1)+1; } function validate(){ return f(0); }",
            PASSWORD
        ),
        unavailable(ScriptFailure::Stack)
    );
    assert_next_evaluation_works();
}

#[test]
fn deeply_nested_json_is_a_stack_failure() {
    let got = run(
        "function validate(){ return JSON.parse('['.repeat(1e6)); }",
        PASSWORD,
    );
    assert!(
        got == unavailable(ScriptFailure::Stack) || got == unavailable(ScriptFailure::Exception),
        "{got:?}"
    );
    assert_next_evaluation_works();
}

#[test]
fn a_throw_is_an_exception() {
    assert_eq!(
        run("function validate(){ throw new Error('nope'); }", PASSWORD),
        unavailable(ScriptFailure::Exception)
    );
    assert_eq!(
        run("function validate(p){ throw p; }", PASSWORD),
        unavailable(ScriptFailure::Exception)
    );
    assert_next_evaluation_works();
}

#[test]
fn wrong_return_types_are_bad_returns() {
    for returned in [
        "'yes'",
        "1",
        "undefined",
        "null",
        "true",
        "{}",
        "[1]",
        "[{}]",
        "[{key: 5}]",
        "[['a']]",
        "['has space']",
        "[{key:'k', params: 3}]",
        "[{key:'k', params: {a: {}}}]",
        "(function* () { yield 'k'; })()",
        "new Map([['k', 1]])",
    ] {
        let source = format!("function validate(){{ return {returned}; }}");
        assert_eq!(
            run(&source, PASSWORD),
            unavailable(ScriptFailure::BadReturn),
            "{returned}"
        );
    }
    assert_next_evaluation_works();
}

#[test]
fn promises_and_async_functions_are_refused() {
    for (source, word) in [
        ("async function validate(){ return []; }", "async"),
        (
            "function validate(){ return new Promise(function(){}); }",
            "Promise",
        ),
        (
            "function validate(){ (async () => { await 1; })(); return []; }",
            "async",
        ),
    ] {
        let message = refused(source);
        assert!(
            message.starts_with(&format!("`{word}` is not allowed")),
            "{message}"
        );
        assert!(
            message.contains("promises turn errors into rejections"),
            "{message}"
        );
    }
}

#[test]
fn no_built_in_hands_out_a_promise() {
    // An escaped identifier (`Promis\u0065`) passes the word ban, so the globals must be
    // gone too; the other promise makers would turn a thrown error into a rejection.
    let source = r#"function validate() {
        var found = [];
        if (typeof globalThis["Prom" + "ise"] !== "undefined") found.push("global");
        if (typeof Promis\u0065 !== "undefined") found.push("escaped");
        if (typeof AsyncDisposableStack !== "undefined") found.push("async_disposable_stack");
        if (typeof Array.fromAsync !== "undefined") found.push("from_async");
        return found;
    }"#;
    assert_eq!(run(source, PASSWORD), vec![]);
}

#[test]
fn a_parameter_may_not_echo_the_password() {
    let source = "function validate(p){ return [{key: 'k', params: {was: 'you typed ' + p}}]; }";
    assert_eq!(run(source, PASSWORD), unavailable(ScriptFailure::BadReturn));
}

#[test]
fn no_io_or_code_loading_globals() {
    let source = r#"function validate() {
        var names = ["require", "fetch", "setTimeout", "setInterval", "std", "os", "process",
                     "console", "eval", "Function", "XMLHttpRequest", "Deno", "queueMicrotask",
                     "Date", "performance", "WebAssembly"];
        var present = names.filter(function (n) { return typeof globalThis[n] !== "undefined"; });
        if (typeof (function () {}).constructor !== "undefined") present.push("function_ctor");
        if (typeof (function* () {}).constructor !== "undefined") present.push("generator_ctor");
        return present;
    }"#;
    assert_eq!(run(source, PASSWORD), vec![]);
}

#[test]
fn dynamic_import_is_refused() {
    // security.md item 59's `import('qjs:std')`: there is no module loader either, but the
    // script never gets that far.
    let message = refused("function validate(){\n  import('qjs:std');\n  return [];\n}");
    assert!(
        message.starts_with("`import` is not allowed") && message.ends_with("(line 2)"),
        "{message}"
    );
}

#[test]
fn the_constructor_cannot_be_restored() {
    // `Reflect` reports failure as `false` where `Object.defineProperty` would throw; the
    // sloppy-mode assignment is silently ignored.
    let source = r#"function validate() {
        var proto = Object.getPrototypeOf(function () {});
        var redefined = Reflect.defineProperty(proto, "constructor", {value: 1});
        (function(){}).constructor = 2;
        return !redefined && typeof (function () {}).constructor === "undefined" ? [] : ["restored"];
    }"#;
    assert_eq!(run(source, PASSWORD), vec![]);
    let throwing = r#"function validate() {
        Object.defineProperty(Object.getPrototypeOf(function () {}), "constructor", {value: 1});
        return [];
    }"#;
    assert_eq!(
        run(throwing, PASSWORD),
        unavailable(ScriptFailure::Exception)
    );
}

#[test]
fn syntax_error_is_a_compile_error_with_a_line() {
    let Err(errors) = CompiledPolicy::compile(&spec_with("function validate(p) {\n  return [;\n}"))
    else {
        panic!("syntax error must not compile");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].location, CompileLocation::Script);
    assert!(
        errors[0].message.contains("SyntaxError"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[0].message.contains("line 2"),
        "{}",
        errors[0].message
    );
}

#[test]
fn missing_validate_is_a_compile_error() {
    let Err(errors) = CompiledPolicy::compile(&spec_with("function check(p) { return []; }"))
    else {
        panic!("must not compile");
    };
    assert_eq!(errors[0].location, CompileLocation::Script);
    assert!(
        errors[0].message.contains("validate"),
        "{}",
        errors[0].message
    );
}

#[test]
fn endless_top_level_is_a_clear_compile_error() {
    let Err(errors) =
        CompiledPolicy::compile(&spec_with("for(;;){}\nfunction validate(){ return []; }"))
    else {
        panic!("must not compile");
    };
    assert_eq!(errors[0].location, CompileLocation::Script);
    assert!(
        errors[0].message.contains("did not finish"),
        "{}",
        errors[0].message
    );
}

#[test]
fn examples_run_through_the_full_check() {
    let mut spec = spec_with("function validate(p){ return p.indexOf('x') >= 0 ? ['no_x'] : []; }");
    if let Some(script) = spec.script.as_mut() {
        script.examples = vec![
            ScriptExample {
                password: "plain passphrase".into(),
                expect: vec![],
            },
            ScriptExample {
                password: "xx".into(),
                expect: vec!["min_length".into(), "script:no_x".into()],
            },
            ScriptExample {
                password: "plain wrong guess".into(),
                expect: vec!["script:no_x".into()],
            },
        ];
    }
    let Err(errors) = CompiledPolicy::compile(&spec) else {
        panic!("example 2 is wrong")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].location, CompileLocation::ScriptExample(2));
    assert_eq!(errors[0].message, "expected [script:no_x], got []");
}

#[test]
fn looping_examples_give_a_timeout_error_not_a_hang() {
    let mut spec =
        spec_with("function validate(p){ if (p === 'loop forever') for(;;){} return []; }");
    if let Some(script) = spec.script.as_mut() {
        script.examples = vec![ScriptExample {
            password: "loop forever".into(),
            expect: vec![],
        }];
    }
    let Err(errors) = CompiledPolicy::compile(&spec) else {
        panic!("must not compile")
    };
    assert_eq!(errors[0].location, CompileLocation::ScriptExample(0));
    assert!(
        errors[0]
            .message
            .starts_with("expected [], got [script_unavailable (timeout)]"),
        "{}",
        errors[0].message
    );
}

#[test]
fn limits_outside_platform_bounds_are_refused() {
    let mut spec = spec_with("function validate(){ return []; }");
    if let Some(script) = spec.script.as_mut() {
        script.limits = ScriptLimits {
            timeout_ms: 0,
            memory_bytes: 1 << 40,
            stack_bytes: 100_000 * 1024,
        };
    }
    let Err(errors) = CompiledPolicy::compile(&spec) else {
        panic!("must not compile")
    };
    assert_eq!(errors.len(), 3);
    assert!(errors.iter().all(|e| e.location == CompileLocation::Script));
}

#[test]
fn state_is_per_script() {
    // Two tenants' scripts never see each other's globals.
    let a = policy("var seen = 'a'; function validate(){ return []; }");
    let b = policy("function validate(){ return typeof seen === 'undefined' ? [] : ['leak']; }");
    assert_eq!(check(&a, PASSWORD, &ctx()), vec![]);
    assert_eq!(check(&b, PASSWORD, &ctx()), vec![]);
}

#[test]
fn the_watchdog_stops_a_long_native_builtin() {
    // A naive substring search over megabytes runs inside one C function that never polls
    // the interrupt handler: only the external watchdog can give the caller its answer.
    let source = r#"function validate(){
        var hay = 'a'.repeat(1e6), needle = 'a'.repeat(5e5) + 'b';
        return hay.indexOf(needle) < 0 ? [] : ['found'];
    }"#;
    let before = passgate_policy::script_worker_restarts();
    assert_eq!(run(source, PASSWORD), unavailable(ScriptFailure::Timeout));
    assert!(
        passgate_policy::script_worker_restarts() > before,
        "the stuck worker is replaced"
    );
    assert_next_evaluation_works();
}

#[test]
fn the_recursive_promise_loop_is_refused() {
    // security.md item 60's recursive promise loop cannot even be written.
    let source = "function validate() {\n  function again() { return Promise.resolve().then(again); }\n  again();\n  return [];\n}";
    let message = refused(source);
    assert!(
        message.starts_with("`Promise` is not allowed") && message.ends_with("(line 2)"),
        "{message}"
    );
}

#[test]
fn built_in_prototypes_cannot_be_polluted_across_calls() {
    let source = r#"
        function validate(p) {
          var seen = [Object.prototype.seen, Array.prototype.seen, [][Symbol.iterator]().seen,
                      (function* () {})().seen, Math.seen];
          // Sloppy mode: each write to a frozen object is silently ignored.
          Object.prototype.seen = p;
          Array.prototype.seen = p;
          Object.getPrototypeOf([][Symbol.iterator]()).seen = p;
          Object.getPrototypeOf(function* () {}).prototype.seen = p;
          Math.seen = p;
          return seen.some(function (v) { return v !== undefined; }) ? ["polluted"] : [];
        }"#;
    let policy = policy(source);
    assert_eq!(check(&policy, "first user's password", &ctx()), vec![]);
    assert_eq!(check(&policy, "second user's password", &ctx()), vec![]);
}

#[test]
fn no_hook_can_swallow_a_stack_overflow() {
    // Without `try`, code that runs while an error propagates (an iterator's `return()`),
    // or that the engine or the host calls (a comparator, `toString`, a getter on the
    // returned value), can only add to the failure, never cancel it.
    let deep = "function f(){ return f() + 1; }\n";
    for body in [
        // The iterator's `return()` runs as the overflow leaves the loop, and returns normally.
        "var it = { next: function () { return { done: false }; }, return: function () { return {}; } };\n\
         it[Symbol.iterator] = function () { return it; };\n\
         for (var x of it) { f(); }\n\
         return [];",
        "[3, 1, 2].sort(function () { return f(); }); return [];",
        "var o = {}; o[Symbol.toPrimitive] = function () { return f(); }; return ['k' + o];",
        "return [{ get key() { return f(); } }];",
        "var a = ['k']; Object.defineProperty(a, 0, { get: function () { return f(); } }); return a;",
        "JSON.stringify({ toJSON: function () { return f(); } }); return [];",
        "'abc'.replace(/b/, function () { return f(); }); return [];",
        // `using` runs its disposer as the error leaves the block, like a `finally`.
        "{ using r = { [Symbol.dispose]: function () { return 1; } }; f(); }\nreturn [];",
        "var s = new DisposableStack(); s.defer(function () { f(); }); s.dispose(); return [];",
    ] {
        let source = format!("{deep}function validate() {{\n{body}\n}}");
        assert_eq!(
            run(&source, PASSWORD),
            unavailable(ScriptFailure::Stack),
            "{body}"
        );
    }
    assert_next_evaluation_works();
}

#[test]
fn no_hook_runs_when_an_error_is_built() {
    // quickjs-ng's V8-style `Error.prepareStackTrace` would run script code inside the
    // engine's own stack-overflow error, and keeps its state outside the seal: removed.
    let source = r#"function validate() {
        var hooks = ["prepareStackTrace", "captureStackTrace", "stackTraceLimit"]
            .filter(function (n) { return n in Error; });
        Error.prepareStackTrace = function () { return "hooked"; };
        return hooks.concat(new Error("x").stack === "hooked" ? ["hooked"] : []);
    }"#;
    assert_eq!(run(source, PASSWORD), vec![]);
}

#[test]
fn a_script_that_accumulates_state_never_runs_out_of_memory() {
    // Each call keeps ~640 KB alive in a lexical binding; every call starts from a fresh
    // context, and the dropped contexts' garbage is collected, so no call reaches the cap.
    let source = r#"
        let keep = [];
        function validate() { keep.push(new Array(4e4).fill(0)); return []; }"#;
    let policy = policy(source);
    for call in 0..100 {
        assert_eq!(check(&policy, PASSWORD, &ctx()), vec![], "call {call}");
    }
}

#[test]
fn concurrent_callers_each_get_their_own_answer() {
    // A declared set of literals: the length is one of them for every password used here.
    let lengths: Vec<String> = (8..20).map(|n| n.to_string()).collect();
    let lengths: Vec<&str> = lengths.iter().map(String::as_str).collect();
    let echo = compile(&spec_for(
        "concurrent",
        "function validate(p){ return [{key: 'len', params: {n: Array.from(p).length}}]; }",
        &[("n", &lengths)],
    ));
    let thrower = compile(&spec_for(
        "concurrent",
        "function validate(){ throw new Error('no'); }",
        &[],
    ));
    std::thread::scope(|scope| {
        for t in 0..6 {
            let (echo, thrower) = (&echo, &thrower);
            scope.spawn(move || {
                for i in 0..100 {
                    let password = format!("{}{}", "p".repeat(8 + t), "x".repeat(i % 7));
                    let expected = vec![Violation::Script {
                        key: "len".into(),
                        params: vec![("n".into(), password.chars().count().to_string())],
                    }];
                    assert_eq!(check(echo, &password, &ctx()), expected);
                    if i % 10 == 0 {
                        assert_eq!(
                            check(thrower, &password, &ctx()),
                            unavailable(ScriptFailure::Exception)
                        );
                    }
                }
            });
        }
    });
}

#[test]
fn an_example_slower_than_the_budget_per_call_is_an_error() {
    // Examples get at least a second of CPU so a loaded machine cannot fail them, but a
    // rule too slow for its own budget must not be published: every such password would
    // be rejected as unavailable.
    let mut spec = spec_with(
        "function validate(p){ var n = 0; for (var i = 0; i < 1e6; i++) n += i % 7; return []; }",
    );
    if let Some(script) = spec.script.as_mut() {
        script.limits.timeout_ms = 1;
        script.examples = vec![ScriptExample {
            password: "plain passphrase".into(),
            expect: vec![],
        }];
    }
    let Err(errors) = CompiledPolicy::compile(&spec) else {
        panic!("the example is over budget")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].location, CompileLocation::ScriptExample(0));
    assert!(
        errors[0]
            .message
            .contains("ms of CPU time on this example, over its budget of 1 ms per call"),
        "{}",
        errors[0].message
    );
}

/// Issue 13: no state survives from one call to the next (harvest scripts, params, budgets).
#[path = "script/purity.rs"]
mod purity;
