//! Mail: what chatpass sends (`messages`, pure), how it is queued (`Mailer::enqueue`
//! into the `db::outbox` table; behind https its text is sealed at rest by `seal`), how
//! it leaves (`transport`: SMTP, or files in `files` when no server is set), and the
//! background sender that delivers it with retries (`sender`).
//!
//! A mail is a row of the outbox, written in the same transaction as the change that
//! causes it; the sender claims rows, delivers them, and marks them sent. So a mail
//! server that is down loses nothing, and several instances sharing one PostgreSQL
//! database never send one mail twice.

pub mod files;
pub mod messages;
pub mod seal;
pub mod sender;
pub mod transport;

pub use messages::{Mail, MailKind};
pub use seal::Seal;
pub use sender::Mailer;
