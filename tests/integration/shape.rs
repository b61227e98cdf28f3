//! The repository's shape, as a reader meets it: every relative link between the Markdown
//! pages resolves (to a file, and to a heading when it names one), the README stays a short
//! way in, and no source file outgrows a sitting.

use std::path::PathBuf;

use crate::common::source_files::rust_files;

const README_LINES: usize = 300;
const SOURCE_LINES: usize = 500;

fn root() -> PathBuf {
    env!("CARGO_MANIFEST_DIR").into()
}

/// Our Markdown pages: the root's, `docs/` and `bench/` (never installed packages).
fn pages() -> Vec<PathBuf> {
    let mut pages = Vec::new();
    for dir in [root(), root().join("docs"), root().join("bench")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// GitHub's anchor for a heading: lowercased, punctuation dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(page: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in page.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// Every `](target)` outside code blocks and code spans.
fn links(page: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in page.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        for (i, _) in prose.match_indices("](") {
            let rest = &prose[i + 2..];
            if let Some(end) = rest.find(')') {
                found.push(rest[..end].to_string());
            }
        }
    }
    found
}

#[test]
fn every_relative_link_between_pages_resolves() {
    let mut broken = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for link in links(&text) {
            if link.starts_with("http://") || link.starts_with("https://") || link.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((&link, ""));
            let target = if file.is_empty() { page.clone() } else { page.parent().unwrap().join(file) };
            let shown = format!("{} -> {link}", page.strip_prefix(root()).unwrap().display());
            if !target.exists() {
                broken.push(format!("{shown}: no such file"));
            } else if !fragment.is_empty() {
                let text = std::fs::read_to_string(&target).unwrap_or_default();
                if !anchors(&text).iter().any(|a| a == fragment) {
                    broken.push(format!("{shown}: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_link_check_sees_a_broken_link() {
    assert_eq!(links("see [a](docs/a.md#b) and `[c](d)`"), ["docs/a.md#b"]);
    assert_eq!(
        anchors("## The outbox, and the sender\n```\n# not a heading\n```"),
        ["the-outbox-and-the-sender"]
    );
}

#[test]
fn the_readme_is_a_short_way_in() {
    let lines = std::fs::read_to_string(root().join("README.md")).unwrap().lines().count();
    assert!(
        lines <= README_LINES,
        "README.md has {lines} lines; move a topic to docs/ (at most {README_LINES})"
    );
}

#[test]
fn no_source_file_is_over_500_lines() {
    let long: Vec<String> = rust_files(&root().join("src"))
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > SOURCE_LINES)
                .then(|| format!("{}: {lines} lines", f.strip_prefix(root()).unwrap().display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by what they do (at most {SOURCE_LINES} lines):\n{}",
        long.join("\n")
    );
}
