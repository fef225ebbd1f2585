//! cargo-fuzz target `policy_check`: see passgate_fuzz_targets::policy_check for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| passgate_fuzz_targets::policy_check(data));
