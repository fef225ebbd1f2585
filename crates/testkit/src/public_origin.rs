//! The public origin tests configure the gateway with; requests carry its host in `Host`
//! (the gateway answers 400 to any other host).

/// The public origin.
pub const PUBLIC_URL: &str = "https://reset.example.test";
/// The host part of [`PUBLIC_URL`].
pub const PUBLIC_HOST: &str = "reset.example.test";
