//! Platform bounds: the values a tenant may choose from, and the caps on the YAML itself.
//! Every number here is documented in `docs/config-reference.md`; change both together.

use std::time::Duration;

/// Largest tenant document accepted, checked before parsing (security spec item 65).
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// Deepest nesting of mappings and sequences. The real schema needs 5.
pub const MAX_DEPTH: usize = 16;
/// Most alias (`*name`) uses in one document: enough for sharing a list, too few to bomb.
pub const MAX_ALIASES: usize = 64;
/// Most events alias replay may inject in total (billion-laughs cap).
pub const MAX_ALIAS_REPLAYED_EVENTS: usize = 10_000;
/// Most YAML nodes in one document.
pub const MAX_NODES: usize = 20_000;

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME_CHARS: usize = 80;
/// Most client ids per tenant.
pub const MAX_CLIENT_IDS: usize = 50;
/// Longest theme name.
pub const MAX_THEME_NAME_CHARS: usize = 32;
/// Largest `branding.custom_css`, in bytes.
pub const MAX_CUSTOM_CSS_BYTES: usize = 8 * 1024;
/// Longest `branding.font_family`.
pub const MAX_FONT_FAMILY_CHARS: usize = 200;
/// Longest URL (logo, redirect URI).
pub const MAX_URL_CHARS: usize = 2048;
/// Most supported locales.
pub const MAX_LOCALES: usize = 30;
/// Most message overrides per locale.
pub const MAX_MESSAGES_PER_LOCALE: usize = 500;
/// Longest message key.
pub const MAX_MESSAGE_KEY_CHARS: usize = 100;
/// Longest message text.
pub const MAX_MESSAGE_CHARS: usize = 1000;

/// Largest `max_length` a tenant may set (bounds the work per check).
pub const MAX_LENGTH_CEILING: usize = 1024;
/// Most regex rules.
pub const MAX_REGEX_RULES: usize = 20;
/// Longest regex pattern.
pub const MAX_REGEX_CHARS: usize = 1000;
/// Most extra blocklist words.
pub const MAX_BLOCKLIST_WORDS: usize = 1000;
/// Longest extra blocklist word.
pub const MAX_BLOCKLIST_WORD_CHARS: usize = 128;
/// Deepest password history a tenant may ask for.
pub const MAX_HISTORY: u8 = 24;
/// Largest script source, in bytes.
pub const MAX_SCRIPT_BYTES: usize = 16 * 1024;
/// Most script examples.
pub const MAX_SCRIPT_EXAMPLES: usize = 50;
/// Script CPU-time budget bounds, in milliseconds.
pub const SCRIPT_TIMEOUT_MS: (u64, u64) = (1, 100);
/// Script heap bounds, in KiB.
pub const SCRIPT_MEMORY_KB: (usize, usize) = (1024, 32 * 1024);
/// Script stack bounds, in KiB.
pub const SCRIPT_STACK_KB: (usize, usize) = (64, 1024);

/// Shortest reset-token lifetime (a user needs time to open the mail).
pub const MIN_TOKEN_TTL: Duration = Duration::from_secs(5 * 60);
/// Longest lifetime of a reset link (security spec item 5: "rarely more than an hour").
pub const MAX_LINK_TTL: Duration = Duration::from_secs(60 * 60);
/// Longest lifetime of a short reset code (ASVS 4.0 2.7.2: 10 minutes for out-of-band codes).
pub const MAX_CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// Default lifetime of a reset link.
pub const DEFAULT_LINK_TTL: Duration = Duration::from_secs(30 * 60);
/// Default lifetime of a reset code.
pub const DEFAULT_CODE_TTL: Duration = Duration::from_secs(10 * 60);
/// Most redirect URIs per tenant.
pub const MAX_REDIRECT_URIS: usize = 20;

/// Longest email subject.
pub const MAX_SUBJECT_CHARS: usize = 150;

/// Rate-limit ceilings: a tenant may be stricter, never laxer.
pub const MAX_REQUESTS_PER_IP_PER_HOUR: u32 = 100;
/// See [`MAX_REQUESTS_PER_IP_PER_HOUR`].
pub const MAX_REQUESTS_PER_ACCOUNT_PER_HOUR: u32 = 10;
/// See [`MAX_REQUESTS_PER_IP_PER_HOUR`].
pub const MAX_REQUESTS_PER_TENANT_PER_MINUTE: u32 = 6000;
/// Default per-IP limit.
pub const DEFAULT_REQUESTS_PER_IP_PER_HOUR: u32 = 20;
/// Default per-account limit.
pub const DEFAULT_REQUESTS_PER_ACCOUNT_PER_HOUR: u32 = 5;
/// Default per-tenant limit.
pub const DEFAULT_REQUESTS_PER_TENANT_PER_MINUTE: u32 = 600;
