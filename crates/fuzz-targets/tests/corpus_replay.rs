//! Replays every committed fuzz input (the minimized corpora in `fuzz/corpus/<target>/` and
//! the fixed crash reproducers in `fuzz/regressions/<target>/`) through the same target
//! bodies the fuzzer runs, on the stable toolchain, so CI keeps every past finding fixed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};

use passgate_fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

/// The files directly inside `dir` (none when it does not exist), sorted for a stable order.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `name`'s target on its whole corpus and its regressions; the corpus must exist.
fn replay(name: &str) {
    let (_, target) = TARGETS.iter().find(|(n, _)| *n == name).unwrap();
    let corpus = inputs(&fuzz_dir().join("corpus").join(name));
    assert!(
        !corpus.is_empty(),
        "fuzz/corpus/{name}/ is missing or empty: the fuzz target lost its corpus"
    );
    let regressions = inputs(&fuzz_dir().join("regressions").join(name));
    for file in corpus.iter().chain(&regressions) {
        // Shown with the failure, so the offending input is named.
        eprintln!("replaying {}", file.display());
        target(&fs::read(file).unwrap());
    }
}

#[test]
fn every_target_has_a_replay_test() {
    let names: Vec<&str> = TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "tenant_yaml",
            "form_decoder",
            "json_decoder",
            "policy_check"
        ]
    );
}

#[test]
fn tenant_yaml_corpus() {
    replay("tenant_yaml");
}

#[test]
fn form_decoder_corpus() {
    replay("form_decoder");
}

#[test]
fn json_decoder_corpus() {
    replay("json_decoder");
}

#[test]
fn policy_check_corpus() {
    replay("policy_check");
}
