//! Where each key of a YAML document sits, so problems found *after* deserialisation (a
//! regex that does not compile, a TTL out of bounds) still point at `line:column`.
//!
//! serde hands us values without positions, so the document is walked once more with the
//! YAML event parser (`granit-parser`, the parser serde-saphyr itself uses) and every node
//! is recorded under its key path (`password_policy.regex_rules[1].pattern`). Paths are
//! built with [`key`] and [`index`], the same functions validation uses to name a problem,
//! so the two always agree.

use std::collections::HashMap;

use serde_saphyr::granit_parser::{ErrorKind, Event, Marker, Parser};

/// A 1-based line and column, as editors count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    /// Line, starting at 1.
    pub line: usize,
    /// Column (in characters), starting at 1.
    pub column: usize,
}

impl Position {
    /// The start of the document: where a problem with no better place is reported.
    pub const START: Self = Self { line: 1, column: 1 };

    fn from_marker(marker: Marker) -> Self {
        Self {
            line: marker.line(),
            column: marker.col() + 1,
        }
    }
}

/// Appends a mapping key to a path: `a` + `b` → `a.b`. Keys outside `[A-Za-z0-9_-]` are
/// quoted (`messages.fr["policy.min_length"]`) so a dot in a key cannot fake nesting.
pub fn key(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match (parent.is_empty(), plain) {
        (true, true) => key.to_owned(),
        (false, true) => format!("{parent}.{key}"),
        (_, false) => format!("{parent}[{key:?}]"),
    }
}

/// Appends a sequence index to a path: `a` + 1 → `a[1]`.
pub fn index(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Where one node is: its key (for mapping values) and the extent of its value.
#[derive(Debug, Clone, Copy)]
struct Node {
    key: Option<Position>,
    start: Position,
    end: Position,
    collection: bool,
}

/// Key path → position of every node in the first document, plus the document's shape
/// measured without expanding aliases (so measuring a billion-laughs bomb is cheap).
#[derive(Debug, Default)]
pub struct PositionIndex {
    nodes: HashMap<String, Node>,
    /// Every key's position → its path, repeated keys included (for duplicate-key errors).
    keys: HashMap<Position, String>,
    /// Every key written, in document order, with the segments of its path.
    pub key_uses: Vec<(Position, Vec<Segment>)>,
    /// Alias (`*name`) uses.
    pub aliases: usize,
    /// Nodes the document would have with every alias expanded (saturating).
    pub expanded_nodes: u64,
    /// Where nesting first went deeper than [`crate::limits::MAX_DEPTH`].
    pub too_deep: Option<Position>,
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

enum Frame {
    Map {
        path: String,
        segments: Vec<Segment>,
        /// `Some(key, position)` after a key, until its value has started.
        pending: Option<(String, Position)>,
    },
    Seq {
        path: String,
        segments: Vec<Segment>,
        next: usize,
    },
    /// A complex (collection) mapping key: its insides are not addressable.
    Skip { depth: usize },
}

impl PositionIndex {
    /// Indexes `text`. A syntax error stops the walk; what came before it stays indexed,
    /// which is all an error at that point needs.
    pub fn build(text: &str) -> Self {
        let mut options = serde_saphyr::granit_parser::Options::default();
        // The scanner enforces the depth cap (it runs ahead of the events); its error is
        // reported as `too_deep`, and `measure` checks the same cap on the events.
        options.flow_nesting_limit = crate::limits::MAX_DEPTH;
        options.block_nesting_limit = crate::limits::MAX_DEPTH;
        options.emit_comments = false;
        let parser = Parser::new_from_str_with_options(text, options);

        let mut index = Self::default();
        // Expanded size of each anchor, and of each open collection (with its anchor id).
        let mut anchor_sizes: HashMap<usize, u64> = HashMap::new();
        let mut open_sizes: Vec<(usize, u64)> = Vec::new();
        // (frame, path of the collection, its start, its key) for each open collection.
        let mut stack: Vec<(Frame, Option<(String, Node)>)> = Vec::new();
        for item in parser {
            let (event, span) = match item {
                Ok(item) => item,
                Err(e) => {
                    if matches!(e.kind(), ErrorKind::RecursionLimitExceeded) {
                        index.too_deep = Some(Position::from_marker(*e.marker()));
                    }
                    break;
                }
            };
            let start = Position::from_marker(span.start);
            let end = Position::from_marker(span.end);
            let is_start = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
            if !index.measure(&event, start, &mut anchor_sizes, &mut open_sizes) {
                break;
            }
            match event {
                Event::DocumentEnd => break,
                Event::Scalar(..)
                | Event::Alias(..)
                | Event::MappingStart(..)
                | Event::SequenceStart(..) => {
                    if let Some((Frame::Skip { depth }, _)) = stack.last_mut() {
                        if is_start {
                            *depth += 1;
                        }
                        continue;
                    }
                    let scalar_text = match &event {
                        Event::Scalar(text, ..) => Some(text.to_string()),
                        _ => None,
                    };
                    let place = match stack.last_mut() {
                        None => Some((String::new(), None, Vec::new())),
                        Some((
                            Frame::Map {
                                pending: pending @ None,
                                ..
                            },
                            _,
                        )) => {
                            // This node is a key.
                            let name = scalar_text.unwrap_or_else(|| "?".to_owned());
                            *pending = Some((name, start));
                            if is_start {
                                stack.push((Frame::Skip { depth: 1 }, None));
                            }
                            None
                        }
                        Some((
                            Frame::Map {
                                path,
                                segments,
                                pending,
                            },
                            _,
                        )) => {
                            let (name, key_pos) = pending.take().unwrap_or(("?".to_owned(), start));
                            let mut segments = segments.clone();
                            let path = key(path, &name);
                            segments.push(Segment::Key(name));
                            Some((path, Some(key_pos), segments))
                        }
                        Some((
                            Frame::Seq {
                                path,
                                segments,
                                next,
                            },
                            _,
                        )) => {
                            *next += 1;
                            let mut segments = segments.clone();
                            segments.push(Segment::Index(*next - 1));
                            Some((self::index(path, *next - 1), None, segments))
                        }
                        Some((Frame::Skip { .. }, _)) => None,
                    };
                    let Some((path, key_pos, segments)) = place else {
                        continue;
                    };
                    if let Some(at) = key_pos {
                        index.keys.entry(at).or_insert_with(|| path.clone());
                        index.key_uses.push((at, segments.clone()));
                    }
                    let node = Node {
                        key: key_pos,
                        start,
                        end,
                        collection: is_start,
                    };
                    match event {
                        Event::MappingStart(..) => stack.push((
                            Frame::Map {
                                path: path.clone(),
                                segments,
                                pending: None,
                            },
                            Some((path, node)),
                        )),
                        Event::SequenceStart(..) => stack.push((
                            Frame::Seq {
                                path: path.clone(),
                                segments,
                                next: 0,
                            },
                            Some((path, node)),
                        )),
                        _ => {
                            index.nodes.entry(path).or_insert(node);
                        }
                    }
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    if let Some((Frame::Skip { depth }, _)) = stack.last_mut() {
                        *depth -= 1;
                        if *depth == 0 {
                            stack.pop();
                        }
                        continue;
                    }
                    if let Some((_, Some((path, mut node)))) = stack.pop() {
                        node.end = end;
                        index.nodes.entry(path).or_insert(node);
                    }
                }
                _ => {}
            }
        }
        // Collections left open by a syntax error still count, up to where parsing stopped.
        while let Some((_, open)) = stack.pop() {
            if let Some((path, mut node)) = open {
                node.end = Position {
                    line: usize::MAX,
                    column: usize::MAX,
                };
                index.nodes.entry(path).or_insert(node);
            }
        }
        index
    }

    /// Updates the shape measurements for one event; `false` stops the walk (too deep).
    fn measure(
        &mut self,
        event: &Event<'_>,
        at: Position,
        anchor_sizes: &mut HashMap<usize, u64>,
        open: &mut Vec<(usize, u64)>,
    ) -> bool {
        let add = |open: &mut Vec<(usize, u64)>, total: &mut u64, n: u64| match open.last_mut() {
            Some((_, size)) => *size = size.saturating_add(n),
            None => *total = total.saturating_add(n),
        };
        match event {
            Event::Scalar(_, _, anchor, _) => {
                if *anchor != 0 {
                    anchor_sizes.insert(*anchor, 1);
                }
                add(open, &mut self.expanded_nodes, 1);
            }
            Event::Alias(id) => {
                self.aliases += 1;
                let n = anchor_sizes.get(id).copied().unwrap_or(1);
                add(open, &mut self.expanded_nodes, n);
            }
            Event::MappingStart(_, anchor, _) | Event::SequenceStart(_, anchor, _) => {
                if open.len() >= crate::limits::MAX_DEPTH {
                    self.too_deep = Some(at);
                    return false;
                }
                open.push((*anchor, 1));
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some((anchor, size)) = open.pop() {
                    if anchor != 0 {
                        anchor_sizes.insert(anchor, size);
                    }
                    add(open, &mut self.expanded_nodes, size);
                }
            }
            _ => {}
        }
        true
    }

    /// Where to report a problem about `path`: the value for scalars, the key for mappings
    /// and sequences (their value starts on another line), and for a path that is not in
    /// the document (a missing key) its nearest present ancestor.
    pub fn position_of(&self, path: &str) -> Position {
        let mut current = path;
        loop {
            if let Some(node) = self.nodes.get(current) {
                return match (node.collection, node.key) {
                    (true, Some(key)) => key,
                    _ => node.start,
                };
            }
            match parent_of(current) {
                Some(parent) => current = parent,
                None => return Position::START,
            }
        }
    }

    /// Where the text of a block scalar (`key: |` followed by indented lines) starts, so a
    /// line number inside the text can be turned into a line of the document. `None` for
    /// other scalars, whose lines do not map one-to-one.
    pub fn block_text_start(&self, path: &str) -> Option<Position> {
        let node = self.nodes.get(path)?;
        let key = node.key?;
        (!node.collection && node.start.line > key.line).then_some(node.start)
    }

    /// The innermost mapping or sequence that contains `at` (the root when none does): where
    /// a "missing field" error belongs.
    pub fn collection_at(&self, at: Position) -> String {
        self.nodes
            .iter()
            .filter(|(_, node)| node.collection && node.start <= at && at < node.end)
            .map(|(path, _)| path)
            .max_by_key(|path| (path.len(), path.as_str()))
            .cloned()
            .unwrap_or_default()
    }

    /// The key path of the node an error at `at` is about: a key that starts there (an
    /// unknown or duplicate key), else a value that starts there (a wrong type), else the
    /// innermost node that contains it.
    pub fn path_at(&self, at: Position) -> String {
        let deepest = |candidates: Vec<&String>| {
            candidates
                .into_iter()
                .max_by_key(|path| (path.len(), path.as_str()))
                .cloned()
        };
        if let Some(path) = self.keys.get(&at) {
            return path.clone();
        }
        let starting = self
            .nodes
            .iter()
            .filter(|(_, node)| node.start == at)
            .map(|(path, _)| path)
            .collect();
        if let Some(path) = deepest(starting) {
            return path;
        }
        let containing = self
            .nodes
            .iter()
            .filter(|(_, node)| node.start <= at && at < node.end)
            .map(|(path, _)| path)
            .collect();
        deepest(containing).unwrap_or_default()
    }
}

/// `a.b[2]` → `a.b`, `a.b` → `a`, `a` → `` (the root), `` → none.
fn parent_of(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    // The last segment starts at the last `.` or `[` that is not inside a quoted key.
    let mut cut = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in path.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            '.' | '[' if !in_quotes => cut = i,
            _ => {}
        }
    }
    Some(&path[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "\
id: acme
password_policy:
  min_length: 7
  regex_rules:
    - name: a
      pattern: x
    - name: b
      pattern: \"(\"
messages:
  fr: { \"policy.min_length\": \"Au moins\" }
";

    #[test]
    fn scalars_point_at_their_value_and_collections_at_their_key() {
        let index = PositionIndex::build(DOC);
        assert_eq!(index.position_of("id"), Position { line: 1, column: 5 });
        assert_eq!(
            index.position_of("password_policy.min_length"),
            Position {
                line: 3,
                column: 15
            }
        );
        assert_eq!(
            index.position_of("password_policy.regex_rules[1].pattern"),
            Position {
                line: 8,
                column: 16
            }
        );
        assert_eq!(
            index.position_of("password_policy"),
            Position { line: 2, column: 1 }
        );
        assert_eq!(
            index.position_of("messages.fr[\"policy.min_length\"]"),
            Position {
                line: 10,
                column: 30
            }
        );
    }

    #[test]
    fn missing_keys_fall_back_to_their_parent() {
        let index = PositionIndex::build(DOC);
        assert_eq!(
            index.position_of("password_policy.history"),
            Position { line: 2, column: 1 }
        );
        assert_eq!(index.position_of("email.from"), Position::START);
    }

    #[test]
    fn an_error_position_maps_back_to_its_key_path() {
        let index = PositionIndex::build(DOC);
        assert_eq!(
            index.path_at(Position { line: 3, column: 3 }),
            "password_policy.min_length"
        );
        assert_eq!(
            index.path_at(Position {
                line: 8,
                column: 16
            }),
            "password_policy.regex_rules[1].pattern"
        );
        assert_eq!(
            index.path_at(Position { line: 5, column: 7 }),
            "password_policy.regex_rules[0].name"
        );
    }

    #[test]
    fn aliases_are_measured_without_being_expanded() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
        let index = PositionIndex::build(bomb);
        assert_eq!(index.aliases, 20);
        assert!(index.expanded_nodes > 1000, "{}", index.expanded_nodes);
    }

    #[test]
    fn depth_is_capped_with_a_position() {
        let deep = format!("a: {}{}", "[".repeat(10_000), "]".repeat(10_000));
        let index = PositionIndex::build(&deep);
        assert_eq!(index.too_deep.map(|p| p.line), Some(1));
    }

    #[test]
    fn parents_respect_quoted_keys() {
        assert_eq!(parent_of("messages.fr[\"a.b\"]"), Some("messages.fr"));
        assert_eq!(parent_of("a.b[2]"), Some("a.b"));
        assert_eq!(parent_of("a"), Some(""));
        assert_eq!(parent_of(""), None);
    }
}
