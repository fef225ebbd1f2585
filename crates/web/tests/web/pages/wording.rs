//! Issue 16's rule texts as users read them: strength in words, no line for a length limit
//! nobody types up to, and the live check naming what it found.

use super::*;

/// Acme's new-password page in `locale`, with the browser holding the reset cookie.
async fn acme_page(locale: &str) -> (Harness, Browser<poem::endpoint::BoxEndpoint<'static>>, Got) {
    let (h, mut b) = setup().await;
    let query = format!("client_id=acme-shop-ios&locale={locale}");
    let link = request_link(&h, &mut b, &query, "ada@example.com").await;
    let moved = b.get(&link.replacen(BASE, "", 1)).await;
    assert_eq!(moved.status, 303);
    let page = b.get("/reset/confirm").await;
    assert_eq!(page.status, 200, "{}", page.body);
    (h, b, page)
}

#[tokio::test]
async fn the_rule_list_says_strength_in_words_and_skips_the_unreachable_maximum() {
    for (locale, word) in [("en", "at least “strong”"), ("fr", "au moins « fort »")] {
        let (_h, _b, page) = acme_page(locale).await;
        assert!(page.body.contains(word), "{locale}: {}", page.body);
        assert!(!page.body.contains(" of 4") && !page.body.contains(" sur 4"));
        // Acme allows 128 characters: nobody types that many, so no line says so.
        assert!(
            !page.body.contains("data-rule=\"policy.max_length\""),
            "{locale}: {}",
            page.body
        );
        assert!(page.body.contains("data-rule=\"policy.min_length\""));
    }
}

#[tokio::test]
async fn the_live_check_says_how_strong_the_password_is_in_words() {
    let (_h, mut b, _page) = acme_page("en").await;
    let (status, answer) = live_check(&mut b, "sunflower1").await;
    assert_eq!(status, 200, "{answer}");
    let strength = answer["violations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["code"] == "strength")
        .unwrap_or_else(|| panic!("no strength violation: {answer}"));
    let message = strength["message"].as_str().unwrap();
    assert!(message.contains("it needs to be “strong”"), "{message}");
    assert!(!message.chars().any(|c| c.is_ascii_digit()), "{message}");
}
