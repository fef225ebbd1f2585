//! Issue 13: a script is a pure function of one call. Harvest scripts and their variants,
//! same tenant and cross-tenant, declared params, and one CPU budget per document.

use super::*;

/// The password that asks a harvesting script to show what it remembers.
const TRIGGER: &str = "show-me-please-0000";

/// Issue 13's harvest script, verbatim: it answered the trigger with the emails and
/// passwords of the attempts before it.
const HARVEST: &str = r#"let seen=[]; function validate(p,ctx){ if(p==="show-me-please-0000") return [{key:"acme.note",params:{v:seen.join(" | ")}}]; seen.push(ctx.email+"="+p); return ["acme.reject"]; }"#;

/// Variants of the harvest script, each keeping what it saw somewhere else. Each answers
/// the trigger with `clean` when it remembers nothing (as on a first call) and `leaked`
/// otherwise, and every other password with `[]`.
const HARVESTERS: &[(&str, &str)] = &[
    (
        "top-level let",
        r#"let last = null;
        function validate(p) { if (p === "show-me-please-0000") return [last === null ? "clean" : "leaked"]; last = p; return []; }"#,
    ),
    (
        "const array mutated",
        r#"const seen = [];
        function validate(p) { if (p === "show-me-please-0000") return [seen.length === 0 ? "clean" : "leaked"]; seen.push(p); return []; }"#,
    ),
    (
        "closure counter",
        r#"var validate = (function () {
          var calls = 0;
          return function (p) { if (p === "show-me-please-0000") return [calls === 0 ? "clean" : "leaked"]; calls++; return []; };
        })();"#,
    ),
    (
        "var",
        r#"var last;
        function validate(p) { if (p === "show-me-please-0000") return [last === undefined ? "clean" : "leaked"]; last = p; return []; }"#,
    ),
    (
        "implicit global",
        r#"function validate(p) { if (p === "show-me-please-0000") return [typeof implicit === "undefined" ? "clean" : "leaked"]; implicit = p; return []; }"#,
    ),
    (
        "globalThis property",
        r#"function validate(p) { if (p === "show-me-please-0000") return [globalThis.saw === undefined ? "clean" : "leaked"]; globalThis.saw = p; return []; }"#,
    ),
    (
        "Object.prototype",
        r#"function validate(p) { if (p === "show-me-please-0000") return [({}).x === undefined ? "clean" : "leaked"]; Object.prototype.x = p; return []; }"#,
    ),
    (
        "Array.prototype",
        r#"function validate(p) { if (p === "show-me-please-0000") return [[].saw === undefined ? "clean" : "leaked"]; Array.prototype.saw = p; return []; }"#,
    ),
    (
        "Symbol-keyed property on a built-in",
        r#"var key = Symbol.for("harvest");
        function validate(p) { if (p === "show-me-please-0000") return [Math[key] === undefined ? "clean" : "leaked"]; Math[key] = p; return []; }"#,
    ),
    (
        "property on validate itself",
        r#"function validate(p) { if (p === "show-me-please-0000") return [validate.saw === undefined ? "clean" : "leaked"]; validate.saw = p; return []; }"#,
    ),
    (
        "lastIndex of a top-level regex",
        r#"const re = /./g;
        function validate(p) { if (p === "show-me-please-0000") return [re.lastIndex === 0 ? "clean" : "leaked"]; re.lastIndex = p.length; return []; }"#,
    ),
];

/// Rounds per scenario: with calls spread over the pool's workers (one per core, at least
/// two), each worker sees a victim's password before a trigger many times over.
const ROUNDS: usize = 24;

fn victim(round: usize) -> (String, CheckContext) {
    let email = format!("victim{round}@acme-shop.example");
    (
        format!("victim password {round} !"),
        CheckContext::new("Acme", "en").with_email(email),
    )
}

/// The trigger's answer from a script that has never run before (a fresh compile of a
/// source no worker has seen).
fn first_answer(tenant: &str, source: &str) -> Vec<Violation> {
    let unseen = format!(
        "{source}\n// first call {tenant} {:?}",
        std::time::Instant::now()
    );
    check(&compile(&spec_for(tenant, &unseen, &[])), TRIGGER, &ctx())
}

/// Asserts that no violation carries any of the `secrets`.
fn assert_carries_none(violations: &[Violation], secrets: &[String], what: &str) {
    for v in violations {
        for (_, value) in v.params() {
            for secret in secrets {
                assert!(!value.contains(secret.as_str()), "{what}: {value:?} leaked");
            }
        }
    }
}

#[test]
fn the_issue_13_harvest_script_sees_nothing_of_earlier_calls() {
    let same = compile(&spec_for("acme-shop", HARVEST, &[]));
    let first = first_answer("acme-shop", HARVEST);
    for round in 0..ROUNDS {
        let (password, victim_ctx) = victim(round);
        assert_eq!(
            check(&same, &password, &victim_ctx),
            vec![Violation::Script {
                key: "acme.reject".into(),
                params: vec![]
            }]
        );
        let shown = check(&same, TRIGGER, &ctx());
        assert_carries_none(
            &shown,
            &[password, "victim".to_owned()],
            &format!("same tenant, round {round}"),
        );
        assert_eq!(shown, first, "same tenant, round {round}");
    }
}

#[test]
fn no_call_sees_state_an_earlier_call_of_the_same_tenant_left() {
    for (name, source) in HARVESTERS {
        let policy = compile(&spec_for("acme-shop", source, &[]));
        let clean = vec![Violation::Script {
            key: "clean".into(),
            params: vec![],
        }];
        assert_eq!(
            first_answer("acme-shop", source),
            clean,
            "{name}: first call"
        );
        for round in 0..ROUNDS {
            let (password, victim_ctx) = victim(round);
            assert_eq!(check(&policy, &password, &victim_ctx), vec![], "{name}");
            assert_eq!(
                check(&policy, TRIGGER, &ctx()),
                clean,
                "{name}: round {round} saw an earlier call"
            );
        }
    }
}

#[test]
fn no_call_sees_state_another_tenant_with_the_same_script_left() {
    for (name, source) in HARVESTERS
        .iter()
        .copied()
        .chain([("issue 13 harvest", HARVEST)])
    {
        let victim_tenant = compile(&spec_for("northbank", source, &[]));
        let attacker = compile(&spec_for("acme-shop", source, &[]));
        let first = first_answer("acme-shop", source);
        for round in 0..ROUNDS {
            let (password, victim_ctx) = victim(round);
            let _ = check(&victim_tenant, &password, &victim_ctx);
            let shown = check(&attacker, TRIGGER, &ctx());
            assert_carries_none(&shown, &[password, "victim".to_owned()], name);
            assert_eq!(shown, first, "{name}: round {round} saw the other tenant");
        }
    }
}

#[test]
fn writes_to_globals_and_top_level_objects_work_within_one_call() {
    // Nothing is frozen any more: a call has its own context to write in, strict or not.
    let source = r#"var count = 0; const list = []; let n = 0;
        function validate(p) { "use strict"; count++; list.push(p.length); n += list.length;
          return count === 1 && n === 1 ? [] : ["stale"]; }"#;
    let policy = policy(source);
    for _ in 0..8 {
        assert_eq!(check(&policy, PASSWORD, &ctx()), vec![]);
    }
}

#[test]
fn params_take_only_the_literals_the_tenant_declared() {
    let declared: &[(&str, &[&str])] = &[("max", &["3", "4"]), ("brand", &["FitLife"])];
    let answer = |returned: &str| {
        let source = format!("function validate(p, ctx) {{ return [{returned}]; }}");
        check(
            &compile(&spec_for("fitlife", &source, declared)),
            PASSWORD,
            &ctx(),
        )
    };
    let with = |params: &[(&str, &str)]| {
        vec![Violation::Script {
            key: "k".into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }]
    };
    assert_eq!(
        answer("{key: 'k', params: {max: 3}}"),
        with(&[("max", "3")])
    );
    assert_eq!(
        answer("{key: 'k', params: {max: '4', brand: 'FitLife'}}"),
        with(&[("max", "4"), ("brand", "FitLife")])
    );
    let refused = unavailable(ScriptFailure::BadReturn);
    for computed in [
        // Computed from the password or the context: never a declared literal.
        "{key: 'k', params: {max: p.slice(0, 4)}}",
        "{key: 'k', params: {brand: ctx.email}}",
        "{key: 'k', params: {max: p.length}}",
        // Declared name, undeclared value; undeclared name.
        "{key: 'k', params: {max: 5}}",
        "{key: 'k', params: {note: 'hello'}}",
    ] {
        assert_eq!(answer(computed), refused, "{computed}");
    }
}

#[test]
fn an_undeclared_param_in_an_example_is_reported_clearly() {
    let mut spec = spec_for(
        "fitlife",
        "function validate(p){ return [{key: 'fitlife.note', params: {v: p.slice(0, 3)}}]; }",
        &[],
    );
    if let Some(script) = spec.script.as_mut() {
        script.examples = vec![ScriptExample {
            password: "plain passphrase".into(),
            expect: vec!["script:fitlife.note".into()],
        }];
    }
    let Err(errors) = CompiledPolicy::compile(&spec) else {
        panic!("an undeclared param must not compile")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].location, CompileLocation::ScriptExample(0));
    assert_eq!(
        errors[0].message,
        "expected [script:fitlife.note], got [script_unavailable (bad_return)]: parameter `v` \
         is not declared under script.params"
    );
}

#[test]
fn a_documents_examples_share_one_cpu_budget() {
    // Five looping examples used to get a second of CPU each; now the first one runs out of
    // the document's budget and the rest are not run.
    let mut spec =
        spec_with("function validate(p){ if (p.indexOf('loop') === 0) for(;;){} return []; }");
    if let Some(script) = spec.script.as_mut() {
        script.examples = (0..5)
            .map(|i| ScriptExample {
                password: format!("loop forever {i}"),
                expect: vec![],
            })
            .collect();
    }
    let Err(errors) = CompiledPolicy::compile(&spec) else {
        panic!("must not compile")
    };
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors[0].location, CompileLocation::ScriptExample(0));
    assert!(
        errors[0].message.starts_with(
            "expected [], got [script_unavailable (timeout)]: the script ran out of the 2000 ms"
        ),
        "{}",
        errors[0].message
    );
    assert_eq!(errors[1].location, CompileLocation::ScriptExample(1));
    assert!(
        errors[1].message.starts_with("not run:"),
        "{}",
        errors[1].message
    );
}

#[test]
fn a_top_level_slower_than_the_budget_per_call_is_an_error() {
    // The top level runs again on every call, so it must fit the budget per call.
    let mut spec = spec_with(
        "var n = 0; for (var i = 0; i < 3e5; i++) n += i % 7;\nfunction validate(){ return []; }",
    );
    if let Some(script) = spec.script.as_mut() {
        script.limits.timeout_ms = 1;
    }
    let Err(errors) = CompiledPolicy::compile(&spec) else {
        panic!("the top level is over budget")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].location, CompileLocation::Script);
    assert!(
        errors[0].message.contains("top level used") && errors[0].message.contains("1 ms"),
        "{}",
        errors[0].message
    );
}

/// Counts, in its own context, how often the top level and `validate` ran: a context that
/// is hardened and prepared ahead of the call (after the previous reply) must have run the
/// top level exactly once and never `validate` before the one call it serves.
const COUNTS_RUNS: &str = r#"
var top = (globalThis.top_runs || 0) + 1;
globalThis.top_runs = top;
var calls = 0;
function validate(password, ctx) {
  calls++;
  return top === 1 && calls === 1 ? [] : ["top" + top + "_calls" + calls];
}
"#;

#[test]
fn each_prepared_context_serves_exactly_one_call() {
    let policy = compile(&spec_for("acme-shop", COUNTS_RUNS, &[]));
    for round in 0..ROUNDS * 4 {
        assert_eq!(
            check(&policy, PASSWORD, &ctx()),
            vec![],
            "round {round}: the call's context had run something before"
        );
    }
    let local = LocalScript::load(&spec_for("acme-shop", COUNTS_RUNS, &[]).script.unwrap())
        .unwrap_or_else(|e| panic!("must load: {e:?}"));
    for round in 0..ROUNDS {
        // Twice: a second prepare must not replace or reuse the spare.
        local.prepare(50);
        local.prepare(50);
        assert_eq!(local.call(PASSWORD, &ctx(), 50), Ok(0), "round {round}");
        // And without a spare the call builds its own context.
        assert_eq!(local.call(PASSWORD, &ctx(), 50), Ok(0), "round {round}");
    }
}
