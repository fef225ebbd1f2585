use super::{BANK, DEFAULT, FITNESS, Key, Side, TEXT, floor2, ratio, rgb};

fn r(a: &str, b: &str) -> f64 {
    ratio(rgb(a).unwrap(), rgb(b).unwrap())
}

#[test]
fn known_ratios() {
    assert!((r("#000000", "#ffffff") - 21.0).abs() < 1e-9);
    assert!((r("#ffffff", "#ffffff") - 1.0).abs() < 1e-9);
    // The classic "just below AA" grey.
    assert_eq!(floor2(r("#777777", "#ffffff")), 4.47);
    assert!(r("#777777", "#ffffff") < TEXT);
    // Symmetric.
    assert_eq!(r("#0a7cff", "#ffffff"), r("#ffffff", "#0a7cff"));
    // The examples' old colours, as measured with axe: Acme's button, FitLife's mail.
    assert_eq!(floor2(r("#ffffff", "#0a7cff")), 3.93);
    assert_eq!(floor2(r("#f5f7fa", "#ffffff")), 1.07);
}

/// Each theme's own colours (what an unset key stands for) pass its own table.
#[test]
fn every_theme_passes_with_its_own_colours() {
    for (pairs, primary, background, text) in [
        (DEFAULT, "#2f5bea", "#f3f4f6", "#1f2933"),
        (BANK, "#0b2545", "#ffffff", "#111111"),
        (FITNESS, "#c6ff3d", "#0b0d12", "#f5f7fa"),
    ] {
        for pair in pairs {
            let ours = match pair.key {
                Key::Primary => primary,
                Key::Background => background,
                Key::Text => text,
            };
            let fixed = match pair.side {
                Side::On(f) | Side::Under(f) => f,
            };
            assert!(
                r(ours, fixed) >= pair.min,
                "{}: {ours} vs {fixed} is {:.2}",
                pair.what,
                r(ours, fixed)
            );
        }
    }
}
