use std::time::Duration;

use super::*;

#[test]
fn colours_are_normalised_and_nothing_else_passes() {
    assert_eq!(HexColor::parse("#0A7CFF").unwrap().as_str(), "#0a7cff");
    assert_eq!(HexColor::parse("#fff").unwrap().as_str(), "#ffffff");
    for bad in ["0a7cff", "#0a7cf", "#0a7cfg", "red", "#fff;}body{", ""] {
        assert!(HexColor::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn locale_tags_must_be_canonical() {
    for good in [
        "en",
        "fr",
        "pt-BR",
        "zh-Hant",
        "zh-Hant-TW",
        "es-419",
        "fil",
    ] {
        assert_eq!(LocaleTag::parse(good).unwrap().as_str(), good);
    }
    let err = LocaleTag::parse("pt-br").unwrap_err();
    assert!(err.0.contains("\"pt-BR\""), "{err}");
    for bad in ["", "e", "english", "en_US", "en-", "en-US-US", "12"] {
        assert!(LocaleTag::parse(bad).is_err(), "{bad}");
    }
    assert_eq!(LocaleTag::parse("pt-BR").unwrap().language(), "pt");
}

#[test]
fn redirect_uris_allow_https_deep_links_and_local_http_only() {
    for good in [
        "https://shop.example/done",
        "acmeshop://reset-done",
        "com.example.app:/oauth2redirect",
        "http://localhost:8080/done",
        "http://127.0.0.1/done",
    ] {
        let uri = RedirectUri::parse(good).unwrap();
        assert!(uri.matches(good));
        assert!(!uri.matches(&format!("{good}/x")));
    }
    let cases = [
        ("https://*.shop.example/done", "wildcard"),
        ("*", "wildcard"),
        ("http://shop.example/done", "localhost"),
        ("https://shop.example/done#x", "fragment"),
        ("https://user:pw@shop.example/done", "user info"),
        ("javascript:alert(1)", "not allowed"),
        ("data:text/html,hi", "not allowed"),
        ("/relative/path", "absolute"),
        ("https://Shop.Example/done", "normal form"),
        ("https://shop.example", "normal form"),
        ("myapp:done", "not a URL"),
        ("https://shop.example/ done", "spaces"),
    ];
    for (bad, why) in cases {
        let err = RedirectUri::parse(bad).unwrap_err();
        assert!(err.0.contains(why), "{bad}: {err}");
    }
}

#[test]
fn logo_urls_are_https_only() {
    assert!(LogoUrl::parse("https://cdn.example/logo.svg").is_ok());
    assert!(LogoUrl::parse("http://cdn.example/logo.svg").is_err());
    assert!(LogoUrl::parse("javascript:alert(1)").is_err());
    assert!(LogoUrl::parse("https://u@cdn.example/logo.svg").is_err());
}

#[test]
fn durations_read_like_people_write_them() {
    assert_eq!(
        TokenTtl::parse("30m").unwrap().duration(),
        Duration::from_secs(1800)
    );
    assert_eq!(
        TokenTtl::parse("2h").unwrap().duration(),
        Duration::from_secs(7200)
    );
    assert_eq!(
        TokenTtl::parse("900s").unwrap().duration(),
        Duration::from_secs(900)
    );
    assert_eq!(TokenTtl::parse("900s").unwrap().to_string(), "15m");
    for bad in [
        "", "30", "m", "30 m", "1d", "-5m", "1.5h", "999999h", "3０m",
    ] {
        assert!(TokenTtl::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn mailboxes_refuse_header_injection() {
    let m = Mailbox::parse("Acme Shop <no-reply@acme.example>").unwrap();
    assert_eq!(m.name(), Some("Acme Shop"));
    assert_eq!(m.address(), "no-reply@acme.example");
    assert_eq!(m.to_string(), "Acme Shop <no-reply@acme.example>");
    assert!(Mailbox::parse("no-reply@acme.example").is_ok());
    for bad in [
        "Acme\r\nBcc: x@evil.example <no-reply@acme.example>",
        "no-reply@acme.example\nBcc: x@evil.example",
        "\"Acme\" <no-reply@acme.example>",
        "no-reply",
        "no-reply@localhost",
        "a@b@acme.example",
        "Acme <no reply@acme.example>",
    ] {
        assert!(Mailbox::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn theme_names_are_slugs() {
    assert!(ThemeName::parse("fitness").is_ok());
    assert!(ThemeName::parse("../etc").is_err());
    assert!(ThemeName::parse("Bank").is_err());
    assert_eq!(ThemeName::default().as_str(), "default");
}
