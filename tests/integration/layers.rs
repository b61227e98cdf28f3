//! Imports run downward only. The layers are the ` ```layers ` block of ARCHITECTURE.md
//! (top row first); this reads every file under `src/`, finds what each module uses of
//! the crate (`use crate::…`, `use super::…`, `crate::x::y` in code, a parent's use of its
//! own child modules), and fails on
//! - a module in no row, or in two;
//! - an import of a module in the same or a higher row (other than within one module's
//!   own files);
//! - any circle between files, parents and children included.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The checkout to check: this one, or `CHATPASS_LAYERS_ROOT` (to run the check on
/// another checkout of the code, say an older commit, against this ARCHITECTURE.md).
fn root() -> PathBuf {
    std::env::var_os("CHATPASS_LAYERS_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into())
}

/// The rows of the ` ```layers ` block: one row per line, module names separated by
/// spaces, `#` starts a comment.
fn layers(architecture: &str) -> Vec<Vec<String>> {
    let block = architecture.split("```layers\n").nth(1).expect("ARCHITECTURE.md has a ```layers block");
    let block = &block[..block.find("```").expect("the layers block is closed")];
    block
        .lines()
        .map(|line| line.split('#').next().unwrap_or("").split_whitespace().map(String::from).collect())
        .filter(|row: &Vec<String>| !row.is_empty())
        .collect()
}

/// Every module file under `dir`, as `a::b` (`mod.rs` names its directory; `lib`
/// is the crate root and left out), with its source minus comments and test modules.
fn modules(dir: &Path) -> BTreeMap<String, String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, base, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(base).unwrap().with_extension("");
                let mut parts: Vec<String> =
                    rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
                if parts.last().is_some_and(|p| p == "mod") {
                    parts.pop();
                }
                if parts == ["lib"] {
                    continue;
                }
                out.insert(parts.join("::"), code_of(&std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The source without `//` comments, and without a trailing `#[cfg(test)] mod tests`
/// (its `super` is the file's own module, not the parent).
fn code_of(source: &str) -> String {
    let source = match source.find("#[cfg(test)]\nmod tests") {
        Some(at) => &source[..at],
        None => source,
    };
    source.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// The paths a `use` tree names: `a::{b, c::{d, e}}` gives `a::b`, `a::c::d`, `a::c::e`.
fn expand(prefix: &[String], tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim();
    if let Some(inner) = tree.strip_prefix('{') {
        let inner = &inner[..inner.rfind('}').unwrap_or(inner.len())];
        let (mut depth, mut start, mut out) = (0, 0, Vec::new());
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.extend(expand(prefix, &inner[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
        if !inner[start..].trim().is_empty() {
            out.extend(expand(prefix, &inner[start..]));
        }
        return out;
    }
    if let Some(at) = tree.find("::{") {
        let mut next = prefix.to_vec();
        next.extend(tree[..at].split("::").map(|s| s.trim().to_string()));
        return expand(&next, &tree[at + 2..]);
    }
    let path = tree.split(" as ").next().unwrap_or("");
    let mut full = prefix.to_vec();
    full.extend(path.split("::").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
    vec![full]
}

/// The module file a path from module `from` lands in (the longest known prefix).
fn resolve(known: &BTreeMap<String, String>, from: &str, path: &[String]) -> Option<String> {
    let mut base: Vec<String> = from.split("::").map(String::from).collect();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                base.pop();
                rest = &rest[1..];
            }
        }
        Some("self") => rest = &rest[1..],
        // A path that starts with a child module's name.
        Some(first) if known.contains_key(&format!("{from}::{first}")) => {}
        _ => return None,
    }
    let full: Vec<String> = base.into_iter().chain(rest.iter().cloned()).collect();
    (1..=full.len()).rev().map(|k| full[..k].join("::")).find(|m| known.contains_key(m))
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Who imports whom, between module files.
fn graph(known: &BTreeMap<String, String>) -> Graph {
    let mut graph = Graph::new();
    for (module, code) in known {
        let mut targets = BTreeSet::new();
        let mut add = |path: Vec<String>| {
            if let Some(target) = resolve(known, module, &path) {
                if target != *module {
                    targets.insert(target);
                }
            }
        };
        // `use` items.
        for (at, _) in code.match_indices("use ") {
            if at > 0 && is_ident(code[..at].chars().last().unwrap()) {
                continue;
            }
            let Some(end) = code[at..].find(';') else { continue };
            for path in expand(&[], &code[at + 4..at + end]) {
                add(path);
            }
        }
        // Paths in code: `crate::a::b`, `super::a`, and `child::item` for a child module.
        let children: Vec<&str> = known
            .keys()
            .filter_map(|k| k.strip_prefix(&format!("{module}::")))
            .filter(|k| !k.contains("::"))
            .collect();
        let starts: Vec<String> = ["crate", "super"]
            .iter()
            .map(|s| s.to_string())
            .chain(children.iter().map(|c| c.to_string()))
            .collect();
        for start in &starts {
            for (at, _) in code.match_indices(&format!("{start}::")) {
                let before = code[..at].chars().last();
                if before.is_some_and(|c| is_ident(c) || c == '$' || c == ':') {
                    continue;
                }
                let path: String = code[at..].chars().take_while(|c| is_ident(*c) || *c == ':').collect();
                let segments: Vec<String> =
                    path.split("::").filter(|s| !s.is_empty()).map(String::from).collect();
                // `super::{…}` is a use tree, read above; a path names something in it.
                if segments.len() >= 2 {
                    add(segments);
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

/// Every way `graph` breaks `rows`; empty when imports run downward only.
fn violations(rows: &[Vec<String>], graph: &Graph) -> Vec<String> {
    let mut problems = Vec::new();
    let mut row_of = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        for module in row {
            if row_of.insert(module.as_str(), i).is_some() {
                problems.push(format!("{module} is in two rows"));
            }
        }
    }
    for (from, targets) in graph {
        let Some(&from_row) = row_of.get(top(from)) else {
            problems.push(format!("{from} is in no row of the layers block"));
            continue;
        };
        for to in targets {
            if top(to) == top(from) {
                continue;
            }
            match row_of.get(top(to)) {
                Some(&to_row) if to_row > from_row => {}
                Some(_) => problems.push(format!("{from} imports {to}, which is not in a lower row")),
                None => problems.push(format!("{to} is in no row of the layers block")),
            }
        }
    }
    // Circles, files included (within one module too).
    fn visit(
        node: &str,
        graph: &Graph,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        out: &mut Vec<String>,
    ) {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let at = stack.iter().position(|s| s == next).unwrap_or(0);
                    out.push(format!("circle: {} -> {next}", stack[at..].join(" -> ")));
                }
                Some(_) => {}
                None => visit(next, graph, state, stack, out),
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node) {
            visit(node, graph, &mut state, &mut Vec::new(), &mut problems);
        }
    }
    problems
}

#[test]
fn imports_run_downward_only_and_no_module_imports_one_that_imports_it_back() {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let architecture = std::fs::read_to_string(here.join("ARCHITECTURE.md")).unwrap();
    let rows = layers(&architecture);
    let known = modules(&root().join("src"));
    let graph = graph(&known);
    // Not vacuous: the crate's modules were found, and so were imports between them.
    assert!(known.len() >= 20 && graph.values().map(BTreeSet::len).sum::<usize>() >= 40, "{known:?}");
    let problems = violations(&rows, &graph);
    let map: Vec<String> = graph.iter().map(|(m, t)| format!("{m} -> {t:?}")).collect();
    assert!(problems.is_empty(), "{}\n\nthe import map:\n{}", problems.join("\n"), map.join("\n"));
    // The reader's map in ARCHITECTURE.md names every module that exists.
    for module in known.keys().map(|m| top(m)).collect::<BTreeSet<_>>() {
        assert!(architecture.contains(&format!("`{module}")), "ARCHITECTURE.md does not mention `{module}`");
    }
}

#[test]
fn the_checker_sees_an_upward_import_a_circle_and_a_parent_child_circle() {
    let rows = layers("```layers\napp  # top\ndb\nerror\n```\n");
    let source = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(m, code)| (m.to_string(), code_of(code))).collect()
    };
    let fine = source(&[
        ("app", "use crate::{db::Pool, error::AppError};"),
        ("db", "use crate::error::AppError;\n#[cfg(test)]\nmod tests { use super::*; use crate::app; }"),
        ("error", "// use crate::app; in a comment\n"),
    ]);
    assert_eq!(violations(&rows, &graph(&fine)), Vec::<String>::new());
    let upward = source(&[("app", ""), ("db", "fn f() { crate::app::go() }"), ("error", "")]);
    assert_eq!(violations(&rows, &graph(&upward)), ["db imports app, which is not in a lower row"]);
    let circle = source(&[
        ("app", ""),
        ("db", "mod a;\nmod b;"),
        ("db::a", "use super::b::x;"),
        ("db::b", "use super::{a::{y, z as w}};"),
        ("error", ""),
    ]);
    let found = violations(&rows, &graph(&circle));
    assert!(found.iter().any(|p| p.contains("circle: db::a -> db::b -> db::a")), "{found:?}");
    let parent_child = source(&[
        ("app", ""),
        ("db", "pub fn f() { handlers::g() }"),
        ("db::handlers", "use super::Thing;"),
        ("error", "use crate::nothing;"),
    ]);
    let found = violations(&rows, &graph(&parent_child));
    assert!(found.iter().any(|p| p.contains("circle: db -> db::handlers -> db")), "{found:?}");
    let unknown = source(&[("app", ""), ("db", ""), ("error", ""), ("extra", "")]);
    assert_eq!(violations(&rows, &graph(&unknown)), ["extra is in no row of the layers block"]);
}
