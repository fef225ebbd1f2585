//! cargo-fuzz target `form_decoder`: see passgate_fuzz_targets::form_decoder for what it checks.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| passgate_fuzz_targets::form_decoder(data));
