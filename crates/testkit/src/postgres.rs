//! The PostgreSQL gate: tests that need a server read `PASSGATE_TEST_POSTGRES_URL` and skip
//! without it, unless `PASSGATE_REQUIRE_POSTGRES` is set (CI), where a missing URL fails.

/// The variable naming the test server.
pub const URL_VAR: &str = "PASSGATE_TEST_POSTGRES_URL";
/// The variable that turns a skip into a failure.
pub const REQUIRE_VAR: &str = "PASSGATE_REQUIRE_POSTGRES";

/// The server URL, or `None` after printing that the test skipped.
///
/// # Panics
/// When [`REQUIRE_VAR`] is set but [`URL_VAR`] is not.
#[allow(clippy::panic)] // a misconfigured CI run must fail, not skip
pub fn test_url() -> Option<String> {
    if let Ok(url) = std::env::var(URL_VAR) {
        return Some(url);
    }
    if std::env::var_os(REQUIRE_VAR).is_some() {
        panic!("{REQUIRE_VAR} is set but {URL_VAR} is not");
    }
    println!("skipped: {URL_VAR} not set");
    None
}
