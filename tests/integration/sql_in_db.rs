//! Every statement chatpass sends its database lives in `src/db/` (one file per table,
//! ARCHITECTURE.md's rule): this reads every file under `src/` and fails on a file
//! elsewhere that runs SQL through sqlx or the crate's `with_pool!` / `with_tx!`.

use std::path::PathBuf;

use crate::common::source_files::rust_files;

/// What running SQL looks like in the source: sqlx's query builders and macros, and the
/// crate's macros that run one query text on either database.
const SQL_CALLS: &[&str] = &[
    "sqlx::query",
    "sqlx::raw_sql",
    "sqlx::migrate!",
    "query_as",
    "query_scalar",
    "raw_sql(",
    "with_pool!",
    "with_tx!",
    "user_columns!",
];

/// The SQL calls in `source`, as `line: text`, comments left out (a doc comment may name
/// `with_pool!` without running anything).
fn sql_calls(source: &str) -> Vec<String> {
    source
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.split("//").next().unwrap_or("")))
        .filter(|(_, code)| {
            SQL_CALLS.iter().any(|call| code.contains(call))
                // `use sqlx::{query, …}` brings a builder in under its bare name.
                || (code.contains("use sqlx") && (code.contains("query") || code.contains("Executor")))
        })
        .map(|(n, code)| format!("{n}: {}", code.trim()))
        .collect()
}

#[test]
fn sql_lives_only_in_src_db() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let db = src.join("db");
    let files = rust_files(&src);
    let (mut inside, mut outside) = (0, Vec::new());
    for file in &files {
        let calls = sql_calls(&std::fs::read_to_string(file).unwrap());
        if file.starts_with(&db) {
            inside += calls.len();
        } else {
            let name = file.strip_prefix(&src).unwrap().display().to_string();
            outside.extend(calls.into_iter().map(|call| format!("src/{name}:{call}")));
        }
    }
    // Not vacuous: the tables' statements were found where they belong.
    assert!(inside >= 50, "only {inside} SQL calls found in src/db/");
    assert!(
        outside.is_empty(),
        "SQL outside src/db/ (move it to its table's file there):\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_checker_sees_a_query_a_macro_and_a_bare_import_but_not_a_comment() {
    let found = sql_calls(concat!(
        "let n = sqlx::query_scalar::<_, i64>(\"SELECT 1\");\n",
        "with_pool!(pool, p => go(p));\n",
        "use sqlx::{query, Row};\n",
        "/// [`with_pool!`] runs the same text on both.\n",
        "let pool = Pool::Sqlite(p); // not a query\n",
    ));
    assert_eq!(
        found,
        [
            "1: let n = sqlx::query_scalar::<_, i64>(\"SELECT 1\");",
            "2: with_pool!(pool, p => go(p));",
            "3: use sqlx::{query, Row};"
        ]
    );
}
