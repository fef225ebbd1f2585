//! The script pool's per-tenant share, in a test binary of its own: a flood of runaway
//! calls must not slow the other script tests, and they must not disturb its measurement.

// Test code: a failed setup must stop loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use passgate_policy::{
    CheckContext, CompiledPolicy, PolicySpec, ScriptLimits, ScriptRule, Violation, check,
};

const PASSWORD: &str = "a long enough passphrase";

fn policy(tenant: &str, source: &str, timeout_ms: u64) -> CompiledPolicy {
    let spec = PolicySpec {
        min_length: 8,
        common_blocklist: false,
        ban_personal_info: false,
        script: Some(ScriptRule {
            tenant: tenant.to_owned(),
            source: source.to_owned(),
            params: Vec::new(),
            examples: Vec::new(),
            limits: ScriptLimits {
                timeout_ms,
                ..ScriptLimits::default()
            },
        }),
        ..PolicySpec::default()
    };
    match CompiledPolicy::compile(&spec) {
        Ok(policy) => policy,
        Err(errors) => panic!("script should compile: {errors:?}"),
    }
}

fn ctx() -> CheckContext {
    CheckContext::new("Acme", "en")
}

#[test]
fn one_tenants_runaway_rule_does_not_make_anothers_checks_fail() {
    // Tenant A's every call runs to its CPU budget (100 ms), from many threads at once;
    // tenant B's checks meanwhile must all get their answer, none "overloaded".
    let runaway = policy("flood-a", "function validate(){ for(;;){} }", 100);
    let calm = policy(
        "calm-b",
        "function validate(p){ return p.length > 3 ? [] : ['short']; }",
        50,
    );
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..32 {
            scope.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let got = check(&runaway, PASSWORD, &ctx());
                    assert!(
                        matches!(got[..], [Violation::ScriptUnavailable { .. }]),
                        "{got:?}"
                    );
                    std::thread::sleep(Duration::from_millis(5));
                }
            });
        }
        std::thread::sleep(Duration::from_millis(300));
        let results: Vec<Vec<Violation>> =
            (0..30).map(|_| check(&calm, PASSWORD, &ctx())).collect();
        stop.store(true, Ordering::Relaxed);
        for (i, got) in results.iter().enumerate() {
            assert_eq!(got, &Vec::<Violation>::new(), "tenant B's call {i}");
        }
    });
}
