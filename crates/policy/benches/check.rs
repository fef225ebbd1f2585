//! `check` costs: built-in rules, zxcvbn, the JavaScript rule (engine alone and through the
//! worker pool), the whole check, and compiling a script per config version.
//!
//! Run: `cargo bench -p passgate-policy`

// Test and bench code: a failed setup must stop loudly.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use passgate_policy::{
    CheckContext, CompiledPolicy, LocalScript, PolicySpec, ScriptLimits, ScriptParam, ScriptRule,
    check,
};

/// A realistic tenant rule: a few regexes and a loop.
const RULE: &str = r#"
function validate(password, ctx) {
  var out = [];
  if (/(.)\1\1/.test(password)) out.push("no_triples");
  if (/^[0-9]+$/.test(password)) out.push("not_only_digits");
  if (/(19|20)\d\d/.test(password)) out.push({ key: "no_years", params: { example: "1999" } });
  var run = 0;
  for (var i = 1; i < password.length; i++) {
    if (password.charCodeAt(i) === password.charCodeAt(i - 1) + 1) {
      if (++run >= 3) { out.push("no_sequences"); break; }
    } else {
      run = 0;
    }
  }
  if (ctx.email) {
    var local = ctx.email.split("@")[0].toLowerCase();
    if (local.length >= 3 && password.toLowerCase().indexOf(local) >= 0) out.push("no_email");
  }
  return out;
}
"#;

/// 16 characters, passes every rule.
const PASSWORD: &str = "violet-Harbor-92";

fn ctx() -> CheckContext {
    CheckContext::new("Acme Travel", "en")
        .with_email("jane.doe@example.com")
        .with_user_name("Jane Doe")
}

fn script(source: &str) -> ScriptRule {
    ScriptRule {
        tenant: "bench".to_owned(),
        source: source.to_owned(),
        params: vec![ScriptParam {
            name: "example".to_owned(),
            values: vec!["1999".to_owned()],
        }],
        examples: Vec::new(),
        limits: ScriptLimits::default(),
    }
}

fn compile(spec: PolicySpec) -> CompiledPolicy {
    match CompiledPolicy::compile(&spec) {
        Ok(policy) => policy,
        Err(errors) => panic!("bench policy must compile: {errors:?}"),
    }
}

fn benches(c: &mut Criterion) {
    let ctx = ctx();
    let builtin = compile(PolicySpec::default());
    let zxcvbn = compile(PolicySpec {
        min_strength: Some(3),
        ..PolicySpec::default()
    });
    let js_only = compile(PolicySpec {
        common_blocklist: false,
        ban_personal_info: false,
        script: Some(script(RULE)),
        ..PolicySpec::default()
    });
    let whole = compile(PolicySpec {
        min_strength: Some(3),
        script: Some(script(RULE)),
        ..PolicySpec::default()
    });
    for (name, policy) in [
        ("builtin", &builtin),
        ("zxcvbn", &zxcvbn),
        ("js_pool", &js_only),
        ("whole", &whole),
    ] {
        assert!(
            check(policy, PASSWORD, &ctx).is_empty(),
            "{name} must accept the bench password"
        );
    }

    let mut group = c.benchmark_group("check");
    group.bench_function("builtin_rules_16_chars", |b| {
        b.iter(|| check(&builtin, black_box(PASSWORD), &ctx))
    });
    group.bench_function("with_zxcvbn_16_chars", |b| {
        b.iter(|| check(&zxcvbn, black_box(PASSWORD), &ctx))
    });
    let long = "violet-Harbor-92 and a few more words to reach sixty-four chars!";
    group.bench_function("with_zxcvbn_64_chars", |b| {
        b.iter(|| check(&zxcvbn, black_box(long), &ctx))
    });
    group.bench_function("js_rule_via_pool", |b| {
        b.iter(|| check(&js_only, black_box(PASSWORD), &ctx))
    });
    group.bench_function("whole_zxcvbn_and_js_16_chars", |b| {
        b.iter(|| check(&whole, black_box(PASSWORD), &ctx))
    });
    group.finish();

    let mut group = c.benchmark_group("js");
    let limits = ScriptLimits::default();
    let rule = script(RULE);
    match LocalScript::load(&rule) {
        Ok(local) => {
            // Every call builds a fresh context, runs the prelude and the top level again.
            group.bench_function("warm_call_fresh_state_in_engine", |b| {
                b.iter(|| local.call(black_box(PASSWORD), &ctx, limits.timeout_ms))
            });
            // The request path on a worker: the call in the context prepared after the
            // previous reply (preparing is outside the measurement).
            group.bench_function("call_on_prepared_context_in_engine", |b| {
                b.iter_batched(
                    || local.prepare(limits.timeout_ms),
                    |()| local.call(black_box(PASSWORD), &ctx, limits.timeout_ms),
                    BatchSize::PerIteration,
                )
            });
            // Everything a worker spends per call: the call, the collector, the next spare.
            group.bench_function("call_gc_and_prepare_in_engine", |b| {
                b.iter(|| {
                    let keys = local.call(black_box(PASSWORD), &ctx, limits.timeout_ms);
                    local.collect_garbage();
                    local.prepare(limits.timeout_ms);
                    keys
                })
            });
            // As on a worker: the collector frees the dropped context after each call.
            group.bench_function("warm_call_fresh_state_and_gc_in_engine", |b| {
                b.iter(|| {
                    let keys = local.call(black_box(PASSWORD), &ctx, limits.timeout_ms);
                    local.collect_garbage();
                    keys
                })
            });
        }
        Err(reason) => panic!("bench rule must load: {reason}"),
    }
    group.bench_function("load_in_engine", |b| {
        b.iter(|| LocalScript::load(black_box(&rule)).is_ok())
    });
    // A new source each time, so the worker cache cannot answer: a real compile of a new
    // config version (runtime, context, prelude, script, round trip to a worker).
    let counter = AtomicU64::new(0);
    group.bench_function("compile_policy_with_new_script", |b| {
        b.iter(|| {
            let n = counter.fetch_add(1, Ordering::Relaxed);
            let spec = PolicySpec {
                script: Some(script(&format!("{RULE}\n// version {n}"))),
                ..PolicySpec::default()
            };
            CompiledPolicy::compile(&spec).is_ok()
        })
    });
    group.finish();
}

/// Process CPU time (all threads, user + system) from `/proc/self/stat`, in nanoseconds;
/// `None` off Linux. Wall-clock figures on a shared 2-core machine mostly measure the other
/// processes; CPU time per iteration does not.
fn process_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat
        .get(stat.rfind(')')? + 2..)?
        .split_whitespace()
        .collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every mainstream Linux build.
    Some(ticks * 10_000_000)
}

/// Prints CPU time per iteration of `f`, run until it used at least two seconds of CPU.
fn cpu_per_iteration(name: &str, mut f: impl FnMut()) {
    let Some(start) = process_cpu_ns() else {
        return;
    };
    let mut iterations = 0u64;
    let mut used = 0;
    while used < 2_000_000_000 {
        for _ in 0..100 {
            f();
        }
        iterations += 100;
        used = process_cpu_ns().unwrap_or(start) - start;
    }
    println!(
        "cpu-time {name}: {:.1} µs/iteration ({iterations} iterations)",
        used as f64 / iterations as f64 / 1000.0
    );
}

/// CPU time of the calling thread, in nanoseconds (`None` if the clock cannot be read).
fn thread_cpu_ns() -> Option<u64> {
    let now = nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID).ok()?;
    let secs = u64::try_from(now.tv_sec()).ok()?;
    let nanos = u64::try_from(now.tv_nsec()).ok()?;
    Some(secs * 1_000_000_000 + nanos)
}

/// Prints the thread CPU time of `measured` alone, after `setup` each time (not counted),
/// over `iterations` runs.
fn cpu_per_call_after(
    name: &str,
    iterations: u32,
    mut setup: impl FnMut(),
    mut measured: impl FnMut(),
) {
    let mut used = 0;
    for _ in 0..iterations {
        setup();
        let Some(start) = thread_cpu_ns() else {
            return;
        };
        measured();
        used += thread_cpu_ns().unwrap_or(start) - start;
    }
    println!(
        "cpu-time {name}: {:.1} µs/iteration ({iterations} iterations, setup not counted)",
        used as f64 / f64::from(iterations) / 1000.0
    );
}

/// The same scenarios as the criterion groups, measured in CPU time.
fn cpu_report(_: &mut Criterion) {
    let ctx = ctx();
    let builtin = compile(PolicySpec::default());
    let zxcvbn = compile(PolicySpec {
        min_strength: Some(3),
        ..PolicySpec::default()
    });
    let js_only = compile(PolicySpec {
        common_blocklist: false,
        ban_personal_info: false,
        script: Some(script(RULE)),
        ..PolicySpec::default()
    });
    let whole = compile(PolicySpec {
        min_strength: Some(3),
        script: Some(script(RULE)),
        ..PolicySpec::default()
    });
    let limits = ScriptLimits::default();
    let rule = script(RULE);
    let Ok(local) = LocalScript::load(&rule) else {
        panic!("bench rule must load")
    };
    println!(
        "memory of one script runtime (QuickJS malloc_size): {} bytes",
        local.memory_used()
    );
    cpu_per_iteration("check/builtin_rules_16_chars", || {
        black_box(check(&builtin, black_box(PASSWORD), &ctx));
    });
    cpu_per_iteration("check/with_zxcvbn_16_chars", || {
        black_box(check(&zxcvbn, black_box(PASSWORD), &ctx));
    });
    let long = "violet-Harbor-92 and a few more words to reach sixty-four chars!";
    cpu_per_iteration("check/with_zxcvbn_64_chars", || {
        black_box(check(&zxcvbn, black_box(long), &ctx));
    });
    cpu_per_iteration("check/js_rule_via_pool (caller + worker)", || {
        black_box(check(&js_only, black_box(PASSWORD), &ctx));
    });
    cpu_per_iteration("check/whole_zxcvbn_and_js_16_chars", || {
        black_box(check(&whole, black_box(PASSWORD), &ctx));
    });
    cpu_per_iteration("js/warm_call_fresh_state_in_engine", || {
        black_box(
            local
                .call(black_box(PASSWORD), &ctx, limits.timeout_ms)
                .is_ok(),
        );
    });
    cpu_per_iteration("js/warm_call_fresh_state_and_gc_in_engine", || {
        black_box(
            local
                .call(black_box(PASSWORD), &ctx, limits.timeout_ms)
                .is_ok(),
        );
        local.collect_garbage();
    });
    cpu_per_call_after(
        "js/call_on_prepared_context_in_engine (request path)",
        20_000,
        || local.prepare(limits.timeout_ms),
        || {
            black_box(
                local
                    .call(black_box(PASSWORD), &ctx, limits.timeout_ms)
                    .is_ok(),
            );
        },
    );
    cpu_per_iteration(
        "js/call_gc_and_prepare_in_engine (all a worker spends)",
        || {
            black_box(
                local
                    .call(black_box(PASSWORD), &ctx, limits.timeout_ms)
                    .is_ok(),
            );
            local.collect_garbage();
            local.prepare(limits.timeout_ms);
        },
    );
    cpu_per_iteration("js/load_in_engine", || {
        black_box(LocalScript::load(black_box(&rule)).is_ok());
    });
}

criterion_group! {
    name = cpu;
    config = Criterion::default();
    targets = cpu_report
}

criterion_group! {
    name = policy;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50);
    targets = benches
}
criterion_main!(policy, cpu);
