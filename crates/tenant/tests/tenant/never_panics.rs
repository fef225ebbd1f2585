//! Property tests: whatever text arrives (through the admin API, a file, a fuzzer), parsing
//! and validation return a verdict, never a panic, and every problem has a real position.

#![allow(clippy::unwrap_used, clippy::panic)] // test helpers fail loudly by design

use passgate_tenant::parse_tenant_yaml;
use proptest::prelude::*;

const SEED: &str = include_str!("../../../../tenants/acme-shop.yaml");

fn check(text: &str) {
    match parse_tenant_yaml("fuzz.yaml", text) {
        Ok(t) => assert!(t.warnings.iter().all(|w| w.line >= 1 && w.column >= 1)),
        Err(e) => {
            assert!(e.errors().next().is_some(), "rejected without an error");
            assert!(e.problems.iter().all(|p| p.line >= 1 && p.column >= 1));
            // Display never fails and keeps one problem per line.
            assert_eq!(e.to_string().lines().count(), e.problems.len());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text(text in "\\PC{0,400}") {
        check(&text);
    }

    #[test]
    fn yaml_ish_text(text in "([a-z_]{1,12}: ?|- |[\\[\\]{},&*!|>'\"#:\\n ]|[a-z0-9]{1,6}|\\n  ){0,80}") {
        check(&text);
    }

    #[test]
    fn mutated_example(cut in 0usize..2000, len in 0usize..40, insert in "[\\PC\\n]{0,8}") {
        let mut text = SEED.to_owned();
        let start = text.char_indices().map(|(i, _)| i).nth(cut % text.chars().count()).unwrap_or(0);
        let end = text[start..].char_indices().map(|(i, _)| start + i).nth(len).unwrap_or(text.len());
        text.replace_range(start..end, &insert);
        check(&text);
    }
}
