//! The engine's modules import each other as a DAG: a step module never reaches back into
//! the engine handle or into the steps that call it. The graph is read from the source — every
//! `crate::<module>` path outside comments and `#[cfg(test)]` code, per top-level module
//! (a directory is one node) — and printed with
//! `cargo test -p passgate-engine --test engine module_graph -- --nocapture`.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level modules: `src/x.rs` and `src/x/` are both `x`; `lib.rs` is the root, and
/// modules `lib.rs` declares under `#[cfg(test)]` (the fakes) are not compiled outside tests.
fn modules(src: &Path) -> BTreeSet<String> {
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let test_only: BTreeSet<String> = lib
        .split("#[cfg(test)]")
        .skip(1)
        .filter_map(|after| {
            let name = after.trim_start().strip_prefix("mod ")?;
            Some(name.split(';').next()?.trim().to_owned())
        })
        .collect();
    fs::read_dir(src)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let stem = path.file_stem()?.to_str()?.to_owned();
            (stem != "lib" && !test_only.contains(&stem)).then_some(stem)
        })
        .collect()
}

/// Every `.rs` file of module `name` but its `tests.rs` (declared under `#[cfg(test)]`).
fn files_of(src: &Path, name: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let file = src.join(format!("{name}.rs"));
    if file.is_file() {
        files.push(file);
    }
    let mut dirs = vec![src.join(name)];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.map(|e| e.unwrap().path()) {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs")
                && path.file_name().is_some_and(|n| n != "tests.rs")
            {
                files.push(path);
            }
        }
    }
    files
}

/// The code of a file that is compiled outside tests, without comments.
fn production_code(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first path segment of each item of a `{…}` use group (nested groups kept whole).
fn group_heads(group: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item = String::new();
    for c in group.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                heads.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        item.push(c);
    }
    heads.push(item);
    heads
        .iter()
        .filter_map(|item| {
            let head: String = item
                .trim()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            (!head.is_empty()).then_some(head)
        })
        .collect()
}

/// The modules `code` names through `crate::`.
fn imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let preceded_by_ident = rest[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        rest = &rest[at + "crate::".len()..];
        if preceded_by_ident {
            continue; // `passgate_crate::`, not ours
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let end = group
                .char_indices()
                .find(|(_, c)| {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(group.len(), |(i, _)| i);
            found.extend(group_heads(&group[..end]));
        } else {
            let head: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(head);
        }
    }
    found
}

fn graph() -> Graph {
    let src = src();
    let modules = modules(&src);
    modules
        .iter()
        .map(|name| {
            let mut edges = BTreeSet::new();
            for file in files_of(&src, name) {
                let code = production_code(&fs::read_to_string(&file).unwrap());
                edges.extend(
                    imports(&code)
                        .into_iter()
                        .filter(|m| m != name && modules.contains(m)),
                );
            }
            (name.clone(), edges)
        })
        .collect()
}

/// A cycle of `graph`, as a path that ends where it starts, if it has one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_engine_module_graph_has_no_cycle() {
    let graph = graph();
    for (module, edges) in &graph {
        println!(
            "{module} -> {}",
            edges.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    // The reader sees the graph at all (a broken reader would find no cycle in nothing).
    assert!(graph["redeem"].contains("flow"), "{graph:?}");
    assert!(graph["engine"].contains("jobs"), "{graph:?}");
    assert!(graph["flow"].contains("tokens"), "{graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the engine's modules import in a cycle: {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle_and_the_reader_reads_groups() {
    let code = "use crate::{\n    audit::{Audit, action},\n    tokens::Tokens,\n};\nlet x = crate::flow::Step::Done;\nlet y = passgate_crate::nothing;";
    assert_eq!(
        imports(&production_code(code)),
        ["audit", "flow", "tokens"].map(str::to_owned).into()
    );
    let mut graph = Graph::new();
    graph.insert("a".into(), ["b".to_owned()].into());
    graph.insert("b".into(), ["c".to_owned()].into());
    graph.insert("c".into(), BTreeSet::new());
    assert_eq!(find_cycle(&graph), None);
    graph.get_mut("c").unwrap().insert("a".into());
    assert_eq!(
        find_cycle(&graph).unwrap(),
        ["a", "b", "c", "a"].map(str::to_owned)
    );
}
