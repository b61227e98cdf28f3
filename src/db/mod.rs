//! The database, and every statement chatpass sends it: the pool (`pool`), opening and
//! migrating (`open`, `migrations`), the accounts epoch (`epoch`), and one file per
//! table, named for it, holding all of that table's SQL. No SQL lives outside `src/db/`;
//! what a feature does with the rows (sealing mail, caching sessions) stays with the feature.

mod epoch;
mod migrations;
mod open;
mod pool;

pub mod device_tokens;
pub mod email_tokens;
pub mod identity_links;
pub mod login_failures;
pub mod outbox;
pub mod sessions;
pub mod twilio_calls;
pub mod users;

pub use epoch::{accounts_changed, accounts_epoch};
pub use migrations::migrations_applied;
pub use open::{open, DbError};
pub use pool::{ping, Pool, Tx, ACQUIRE_TIMEOUT, DESCRIPTORS, PING_TIMEOUT};
