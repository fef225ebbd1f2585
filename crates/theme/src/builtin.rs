//! The themes shipped with Passgate, compiled into the binary so `passgate serve` and
//! `passgate demo` need no `themes/` folder beside them. A test compares this list with
//! the repository's `themes/` folder, so a file added there and not here fails CI.

/// Every built-in theme file as (`<theme>/<folder>/<file>`, bytes).
pub(crate) const FILES: &[(&str, &[u8])] = &[
    (
        "bank/messages/de.yaml",
        include_bytes!("../../../themes/bank/messages/de.yaml"),
    ),
    (
        "bank/messages/en.yaml",
        include_bytes!("../../../themes/bank/messages/en.yaml"),
    ),
    (
        "bank/messages/es.yaml",
        include_bytes!("../../../themes/bank/messages/es.yaml"),
    ),
    (
        "bank/messages/fr.yaml",
        include_bytes!("../../../themes/bank/messages/fr.yaml"),
    ),
    (
        "bank/static/theme.css",
        include_bytes!("../../../themes/bank/static/theme.css"),
    ),
    (
        "bank/templates/base.html",
        include_bytes!("../../../themes/bank/templates/base.html"),
    ),
    (
        "bank/templates/email/base.html",
        include_bytes!("../../../themes/bank/templates/email/base.html"),
    ),
    (
        "default/messages/de.yaml",
        include_bytes!("../../../themes/default/messages/de.yaml"),
    ),
    (
        "default/messages/en.yaml",
        include_bytes!("../../../themes/default/messages/en.yaml"),
    ),
    (
        "default/messages/es.yaml",
        include_bytes!("../../../themes/default/messages/es.yaml"),
    ),
    (
        "default/messages/fr.yaml",
        include_bytes!("../../../themes/default/messages/fr.yaml"),
    ),
    (
        "default/static/base.css",
        include_bytes!("../../../themes/default/static/base.css"),
    ),
    (
        "default/static/logos/acme-shop.svg",
        include_bytes!("../../../themes/default/static/logos/acme-shop.svg"),
    ),
    (
        "default/static/logos/fitlife.svg",
        include_bytes!("../../../themes/default/static/logos/fitlife.svg"),
    ),
    (
        "default/static/logos/northbank.svg",
        include_bytes!("../../../themes/default/static/logos/northbank.svg"),
    ),
    (
        "default/static/logos/riverline.svg",
        include_bytes!("../../../themes/default/static/logos/riverline.svg"),
    ),
    (
        "default/static/policy-live.js",
        include_bytes!("../../../themes/default/static/policy-live.js"),
    ),
    (
        "default/static/rule-worker.js",
        include_bytes!("../../../themes/default/static/rule-worker.js"),
    ),
    (
        "default/static/theme.css",
        include_bytes!("../../../themes/default/static/theme.css"),
    ),
    (
        "default/templates/base.html",
        include_bytes!("../../../themes/default/templates/base.html"),
    ),
    (
        "default/templates/code.html",
        include_bytes!("../../../themes/default/templates/code.html"),
    ),
    (
        "default/templates/email/base.html",
        include_bytes!("../../../themes/default/templates/email/base.html"),
    ),
    (
        "default/templates/email/password_changed.html",
        include_bytes!("../../../themes/default/templates/email/password_changed.html"),
    ),
    (
        "default/templates/email/password_changed.txt",
        include_bytes!("../../../themes/default/templates/email/password_changed.txt"),
    ),
    (
        "default/templates/email/reset_code.html",
        include_bytes!("../../../themes/default/templates/email/reset_code.html"),
    ),
    (
        "default/templates/email/reset_code.txt",
        include_bytes!("../../../themes/default/templates/email/reset_code.txt"),
    ),
    (
        "default/templates/email/reset_link.html",
        include_bytes!("../../../themes/default/templates/email/reset_link.html"),
    ),
    (
        "default/templates/email/reset_link.txt",
        include_bytes!("../../../themes/default/templates/email/reset_link.txt"),
    ),
    (
        "default/templates/email/reset_ticket.html",
        include_bytes!("../../../themes/default/templates/email/reset_ticket.html"),
    ),
    (
        "default/templates/email/reset_ticket.txt",
        include_bytes!("../../../themes/default/templates/email/reset_ticket.txt"),
    ),
    (
        "default/templates/error.html",
        include_bytes!("../../../themes/default/templates/error.html"),
    ),
    (
        "default/templates/invalid_link.html",
        include_bytes!("../../../themes/default/templates/invalid_link.html"),
    ),
    (
        "default/templates/bad_redirect.html",
        include_bytes!("../../../themes/default/templates/bad_redirect.html"),
    ),
    (
        "default/templates/rate_limited.html",
        include_bytes!("../../../themes/default/templates/rate_limited.html"),
    ),
    (
        "default/templates/stale_form.html",
        include_bytes!("../../../themes/default/templates/stale_form.html"),
    ),
    (
        "default/templates/new_password.html",
        include_bytes!("../../../themes/default/templates/new_password.html"),
    ),
    (
        "default/templates/not_found.html",
        include_bytes!("../../../themes/default/templates/not_found.html"),
    ),
    (
        "default/templates/partials/errors.html",
        include_bytes!("../../../themes/default/templates/partials/errors.html"),
    ),
    (
        "default/templates/partials/hidden.html",
        include_bytes!("../../../themes/default/templates/partials/hidden.html"),
    ),
    (
        "default/templates/request.html",
        include_bytes!("../../../themes/default/templates/request.html"),
    ),
    (
        "default/templates/sent.html",
        include_bytes!("../../../themes/default/templates/sent.html"),
    ),
    (
        "default/templates/success.html",
        include_bytes!("../../../themes/default/templates/success.html"),
    ),
    (
        "fitness/messages/de.yaml",
        include_bytes!("../../../themes/fitness/messages/de.yaml"),
    ),
    (
        "fitness/messages/en.yaml",
        include_bytes!("../../../themes/fitness/messages/en.yaml"),
    ),
    (
        "fitness/messages/es.yaml",
        include_bytes!("../../../themes/fitness/messages/es.yaml"),
    ),
    (
        "fitness/messages/fr.yaml",
        include_bytes!("../../../themes/fitness/messages/fr.yaml"),
    ),
    (
        "fitness/static/theme.css",
        include_bytes!("../../../themes/fitness/static/theme.css"),
    ),
    (
        "fitness/templates/base.html",
        include_bytes!("../../../themes/fitness/templates/base.html"),
    ),
    (
        "fitness/templates/email/base.html",
        include_bytes!("../../../themes/fitness/templates/email/base.html"),
    ),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    /// Every file under the repository's `themes/` (dot files skipped), by relative path.
    fn on_disk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                on_disk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_str().unwrap();
                out.insert(rel.replace('\\', "/"), std::fs::read(&path).unwrap());
            }
        }
    }

    #[test]
    fn the_compiled_in_list_is_exactly_the_themes_folder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../themes");
        let mut disk = BTreeMap::new();
        on_disk(&root, &root, &mut disk);
        let built: BTreeMap<String, Vec<u8>> = super::FILES
            .iter()
            .map(|(p, b)| ((*p).to_owned(), b.to_vec()))
            .collect();
        let missing: Vec<&String> = disk.keys().filter(|k| !built.contains_key(*k)).collect();
        let extra: Vec<&String> = built.keys().filter(|k| !disk.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "add to / remove from crates/theme/src/builtin.rs: missing {missing:?}, extra {extra:?}"
        );
        assert_eq!(disk, built);
    }
}
