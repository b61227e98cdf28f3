//! `DATABASE_URL`: which database, SQLite or PostgreSQL, and its password kept out of
//! errors and `Debug`.

use std::{path::PathBuf, str::FromStr};

use sqlx::{postgres::PgConnectOptions, sqlite::SqliteConnectOptions};

use super::parse::ConfigError;

/// The SQLite file used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/chatpass.db";

/// The database chatpass keeps its users and sessions in.
#[derive(Clone)]
pub enum Database {
    /// A SQLite file (or `sqlite::memory:`), created on first run.
    Sqlite {
        options: SqliteConnectOptions,
        /// The file, when there is one, so its directory can be created at start.
        file: Option<PathBuf>,
    },
    /// A PostgreSQL server shared by every instance; the database itself must exist.
    Postgres(PgConnectOptions),
}

/// Leaves the PostgreSQL password out (sqlx's own `Debug` prints it).
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite { file, .. } => f.debug_struct("Sqlite").field("file", file).finish(),
            Database::Postgres(o) => f
                .debug_struct("Postgres")
                .field("host", &o.get_host())
                .field("port", &o.get_port())
                .field("user", &o.get_username())
                .field("database", &o.get_database())
                .finish_non_exhaustive(),
        }
    }
}

/// `text` with the password of the URL `raw` (as written, and percent-decoded) replaced by `***`.
fn without_password(mut text: String, raw: &str) -> String {
    let Some(written) = url::Url::parse(raw).ok().and_then(|u| u.password().map(String::from)) else {
        return text;
    };
    let decoded = percent_encoding::percent_decode_str(&written).decode_utf8().ok().map(String::from);
    for password in [Some(written), decoded].into_iter().flatten().filter(|p| !p.is_empty()) {
        text = text.replace(&password, "***");
    }
    text
}

/// Accepts `sqlite:` and `postgres:` (or `postgresql:`) URLs; names the scheme it does
/// not know otherwise. A password in the URL never appears in the error.
pub fn parse_database_url(raw: &str) -> Result<Database, ConfigError> {
    const VAR: &str = "DATABASE_URL";
    let raw = raw.trim();
    let scheme = raw.split_once(':').map(|(s, _)| s).unwrap_or("");
    match scheme {
        "sqlite" => {
            let options = SqliteConnectOptions::from_str(raw)
                .map_err(|e| ConfigError::new(VAR, format!("not a valid sqlite URL: {e}")))?;
            let file =
                if raw.starts_with("sqlite::memory:") || options.get_filename().as_os_str() == ":memory:" {
                    None
                } else {
                    Some(options.get_filename().to_path_buf())
                };
            Ok(Database::Sqlite { options, file })
        }
        "postgres" | "postgresql" => PgConnectOptions::from_str(raw).map(Database::Postgres).map_err(|e| {
            ConfigError::new(VAR, without_password(format!("not a valid postgres URL: {e}"), raw))
        }),
        "" => Err(ConfigError::new(
            VAR,
            "has no scheme; expected a URL like sqlite://data/chatpass.db or postgres://user@host/db",
        )),
        other => {
            Err(ConfigError::new(VAR, format!("unsupported scheme {other:?}; expected sqlite: or postgres:")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_scrubbed_from_error_text_as_written_and_decoded() {
        let url = "postgres://app:p%40ss%2Bword@db/chat";
        let text = "bad: p%40ss%2Bword, that is p@ss+word".to_string();
        assert_eq!(without_password(text, url), "bad: ***, that is ***");
        let text = "nothing secret here".to_string();
        assert_eq!(without_password(text.clone(), url), text);
        assert_eq!(without_password(text.clone(), "postgres://app@db/chat"), text);
        assert_eq!(without_password(text.clone(), "not a url"), text);
    }
}
