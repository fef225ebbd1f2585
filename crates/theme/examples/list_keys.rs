//! Prints, per theme, the message keys each template uses (Markdown), for docs/themes.md:
//! `cargo run -p passgate-theme --example list_keys`.

use std::path::PathBuf;

use passgate_theme::Themes;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../themes");
    let themes = Themes::load(&root)?;
    for theme in themes.names() {
        println!("### `{theme}`\n\n| template | message keys |\n|---|---|");
        for (template, keys) in themes.message_keys(theme)? {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            println!("| `{template}` | {} |", keys.join(" "));
        }
        println!();
    }
    Ok(())
}
