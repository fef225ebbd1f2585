//! The README's shell examples run against a real demo, so they cannot rot: every ```sh
//! block preceded by `<!-- readme-test -->` runs, in order, with `bash -euo pipefail`, in one
//! scratch directory, with `BASE` (the demo's URL) and `KEY` (its admin key) set — the two
//! values the README tells readers to copy from the demo's output. Needs curl, bash and jq;
//! skips (saying so) without them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::support;

use std::process::Command;

use support::{RunningDemo, workspace_root};

const MARKER: &str = "<!-- readme-test -->";

/// The marked blocks, in order.
fn marked_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = readme;
    while let Some(at) = rest.find(MARKER) {
        rest = &rest[at + MARKER.len()..];
        let start = rest
            .find("```sh\n")
            .expect("a ```sh block after the marker")
            + "```sh\n".len();
        let end = rest[start..].find("\n```").expect("the block ends") + start;
        blocks.push(rest[start..end].to_owned());
        rest = &rest[end..];
    }
    blocks
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_readme_has_exactly_two_setup_commands() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let setup = readme
        .split("\n## ")
        .find(|section| section.starts_with("Set up"))
        .expect("a `## Set up` section");
    let commands: Vec<&str> = setup
        .split("```sh\n")
        .skip(1)
        .flat_map(|block| block.split("\n```").next().unwrap_or_default().lines())
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .collect();
    assert_eq!(commands, ["cargo run", "cargo test --workspace"]);
}

#[test]
fn the_readme_shell_examples_work_against_the_demo() {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let blocks = marked_blocks(&readme);
    assert!(
        blocks.len() >= 3,
        "the README marks its examples with {MARKER}"
    );
    if !have("curl") || !have("bash") || !have("jq") {
        eprintln!(
            "skipped: the README examples need curl, bash and jq, which are not all installed"
        );
        return;
    }
    let demo = RunningDemo::start(&[], &[]);
    let scratch = tempfile::tempdir().unwrap();
    for (index, block) in blocks.iter().enumerate() {
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", block])
            .current_dir(scratch.path())
            .env("BASE", &demo.base)
            .env("KEY", &demo.admin_key)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "README example {} failed ({}):\n{block}\n--- stdout\n{}\n--- stderr\n{}",
            index + 1,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
    demo.stop();
}
