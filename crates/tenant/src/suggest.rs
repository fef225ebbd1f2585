//! "Did you mean …?" for misspelt keys and values.

/// The candidate closest to `found`, if it is close enough to be the intended one (at most
/// one edit per three characters).
pub(crate) fn closest<'a>(
    found: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let (distance, name) = candidates.map(|c| (edit_distance(found, c), c)).min()?;
    (distance <= (found.chars().count() / 3).max(1)).then_some(name)
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(previous + 1).min(row[j] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn close_names_only() {
        let names = ["min_length", "max_length", "history"];
        assert_eq!(
            super::closest("max_lenght", names.into_iter()),
            Some("max_length")
        );
        assert_eq!(
            super::closest("histroy", names.into_iter()),
            Some("history")
        );
        assert_eq!(super::closest("colour_scheme", names.into_iter()), None);
    }
}
