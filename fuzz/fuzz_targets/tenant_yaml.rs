//! cargo-fuzz target `tenant_yaml`: see passgate_fuzz_targets::tenant_yaml for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| passgate_fuzz_targets::tenant_yaml(data));
