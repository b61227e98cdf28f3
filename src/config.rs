//! Every setting, read once at start from the environment (and an optional `.env`),
//! parsed into typed values. A bad value is one [`ConfigError`] naming the variable.
//!
//! Parsing takes a lookup function instead of reading the process environment, so it
//! is pure and tests can feed it a table.

use std::{net::SocketAddr, path::PathBuf, str::FromStr};

use sqlx::sqlite::SqliteConnectOptions;

/// The SQLite file used when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/chatpass.db";
/// The address served when `LEPTOS_SITE_ADDR` is not set.
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
/// Where cargo-leptos puts the built site.
pub const DEFAULT_SITE_ROOT: &str = "target/site";

/// One bad setting: which variable, and why. Its `Display` is one line and never
/// contains the value of a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}: {reason}")]
pub struct ConfigError {
    pub var: &'static str,
    pub reason: String,
}

impl ConfigError {
    pub fn new(var: &'static str, reason: impl Into<String>) -> Self {
        Self {
            var,
            reason: reason.into(),
        }
    }
}

/// The database chatpass keeps its users and sessions in.
#[derive(Debug, Clone)]
pub enum Database {
    /// A SQLite file (or `sqlite::memory:`), created on first run.
    Sqlite {
        options: SqliteConnectOptions,
        /// The file, when there is one, so its directory can be created at start.
        file: Option<PathBuf>,
    },
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database: Database,
    pub site_addr: SocketAddr,
    pub site_root: String,
}

impl Config {
    /// Reads the process environment (after loading `.env`, which the caller does).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses settings from any lookup; an empty value counts as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| get(name).filter(|v| !v.is_empty());
        let database = parse_database_url(
            &get("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string()),
        )?;
        let site_addr = parse_site_addr(
            &get("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_SITE_ADDR.to_string()),
        )?;
        let site_root = get("LEPTOS_SITE_ROOT").unwrap_or_else(|| DEFAULT_SITE_ROOT.to_string());
        Ok(Self {
            database,
            site_addr,
            site_root,
        })
    }
}

fn parse_site_addr(raw: &str) -> Result<SocketAddr, ConfigError> {
    SocketAddr::from_str(raw.trim()).map_err(|_| {
        ConfigError::new(
            "LEPTOS_SITE_ADDR",
            format!("{raw:?} is not an address with a port, like 127.0.0.1:3000"),
        )
    })
}

/// Accepts `sqlite:` URLs; names the scheme it does not know otherwise.
pub fn parse_database_url(raw: &str) -> Result<Database, ConfigError> {
    const VAR: &str = "DATABASE_URL";
    let raw = raw.trim();
    let scheme = raw.split_once(':').map(|(s, _)| s).unwrap_or("");
    match scheme {
        "sqlite" => {
            let options = SqliteConnectOptions::from_str(raw)
                .map_err(|e| ConfigError::new(VAR, format!("not a valid sqlite URL: {e}")))?;
            let file = if raw.starts_with("sqlite::memory:")
                || options.get_filename().as_os_str() == ":memory:"
            {
                None
            } else {
                Some(options.get_filename().to_path_buf())
            };
            Ok(Database::Sqlite { options, file })
        }
        "" => Err(ConfigError::new(
            VAR,
            "has no scheme; expected a URL like sqlite://data/chatpass.db",
        )),
        other => Err(ConfigError::new(
            VAR,
            format!("unsupported scheme {other:?}; expected sqlite:"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| env.get(k).cloned())
    }

    #[test]
    fn defaults_are_a_sqlite_file_under_data_and_port_3000() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.site_addr, "127.0.0.1:3000".parse().unwrap());
        let Database::Sqlite { file, .. } = config.database;
        assert_eq!(file.unwrap(), PathBuf::from("data/chatpass.db"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        let err = parse(&[("LEPTOS_SITE_ADDR", "not-an-address")]).unwrap_err();
        assert_eq!(err.var, "LEPTOS_SITE_ADDR");
        let err = parse(&[("DATABASE_URL", "mysql://localhost/db")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
        assert!(err.to_string().contains("\"mysql\""), "{err}");
        let err = parse(&[("DATABASE_URL", "data/chatpass.db")]).unwrap_err();
        assert_eq!(err.var, "DATABASE_URL");
    }

    #[test]
    fn memory_database_has_no_file() {
        let config = parse(&[("DATABASE_URL", "sqlite::memory:")]).unwrap();
        let Database::Sqlite { file, .. } = config.database;
        assert!(file.is_none());
    }
}
