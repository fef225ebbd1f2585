//! `tenant_yaml`: bytes → text → parse and validate a tenant document.

use passgate_tenant::parse_tenant_yaml;

/// Parses `data` (lossily decoded as UTF-8, as a file or an admin upload may be) as a tenant
/// document. Whatever the verdict, every problem has a 1-based position, a rejection names
/// at least one error, and the report keeps one problem per line.
pub fn tenant_yaml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match parse_tenant_yaml("fuzz.yaml", &text) {
        Ok(tenant) => {
            assert!(
                tenant.warnings.iter().all(|w| w.line >= 1 && w.column >= 1),
                "a warning without a position: {:?}",
                tenant.warnings
            );
        }
        Err(errors) => {
            assert!(
                errors.errors().next().is_some(),
                "rejected without an error"
            );
            assert!(
                errors.problems.iter().all(|p| p.line >= 1 && p.column >= 1),
                "a problem without a position: {:?}",
                errors.problems
            );
            assert_eq!(
                errors.to_string().lines().count(),
                errors.problems.len(),
                "the report does not keep one problem per line"
            );
        }
    }
}
