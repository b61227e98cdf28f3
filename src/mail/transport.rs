//! How a mail leaves: over SMTP (`lettre`), or, with no SMTP server configured, as a
//! `.eml` file in the outbox directory (`files`) plus one log line, which holds the mail's
//! link when the links point at plain http (a newcomer running `make run` can click it).

use std::{path::PathBuf, str::FromStr, time::Duration};

use lettre::{
    message::{
        header::{ContentTransferEncoding, ContentType},
        Body, Mailbox,
    },
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use secrecy::ExposeSecret;

use super::{files, messages::first_link};
use crate::{
    config::{MailSettings, MailTransport, SmtpSecurity},
    db::outbox::Claimed,
};

/// The longest one SMTP delivery may take, connection included.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth another try later (server down, a 4xx answer, a timeout).
    #[error("{0}")]
    Transient(String),
    /// Trying again will not help (a 5xx answer, an address the message cannot hold).
    #[error("{0}")]
    Permanent(String),
}

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files {
        dir: PathBuf,
        /// Whether the log line carries the mail's link: only when links are plain http
        /// (trying chatpass out). Behind https the log may travel where a link must not.
        log_links: bool,
    },
}

impl Transport {
    /// Builds the SMTP client (no connection yet) or names the outbox directory. `origin`
    /// is where the mails' links point.
    pub fn from_settings(
        settings: &MailSettings,
        origin: &str,
    ) -> Result<Transport, lettre::transport::smtp::Error> {
        Ok(match &settings.transport {
            MailTransport::Files(dir) => {
                Transport::Files { dir: dir.clone(), log_links: !origin.starts_with("https://") }
            }
            MailTransport::Smtp(smtp) => {
                let builder = match smtp.security {
                    SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
                    SmtpSecurity::StartTls => {
                        AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?
                    }
                    SmtpSecurity::Plain => {
                        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
                    }
                };
                let mut builder = builder.port(smtp.port).timeout(Some(SEND_TIMEOUT));
                if let Some((user, password)) = &smtp.credentials {
                    builder = builder
                        .credentials(Credentials::new(user.clone(), password.expose_secret().to_string()));
                }
                Transport::Smtp(builder.build())
            }
        })
    }

    /// Delivers one claimed mail from `from`.
    pub async fn send(&self, from: &Mailbox, mail: &Claimed) -> Result<(), SendError> {
        let message = message(from, mail)?;
        match self {
            Transport::Smtp(smtp) => match tokio::time::timeout(SEND_TIMEOUT, smtp.send(message)).await {
                Err(_) => Err(SendError::Transient("the SMTP server did not finish in time".into())),
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
                Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
            },
            Transport::Files { dir, log_links } => {
                let (at, name) = (dir.clone(), files::file_name(mail.id, mail.user_id, mail.created_at));
                let bytes = message.formatted();
                let path = tokio::task::spawn_blocking(move || files::write(&at, &name, &bytes))
                    .await
                    .map_err(|e| SendError::Transient(format!("the file writer stopped: {e}")))?
                    .map_err(|e| SendError::Transient(format!("cannot write to {}: {e}", dir.display())))?;
                if *log_links {
                    tracing::info!(
                        mail.id = mail.id,
                        mail.kind = %mail.kind,
                        file = %path.display(),
                        link = first_link(&mail.body).unwrap_or("-"),
                        "mail written to a file (no CHATPASS_SMTP_URL set); open its link to continue"
                    );
                } else {
                    tracing::info!(
                        mail.id = mail.id,
                        mail.kind = %mail.kind,
                        file = %path.display(),
                        "mail written to a file (no CHATPASS_SMTP_URL set)"
                    );
                }
                Ok(())
            }
        }
    }
}

/// The message as it goes out: plain text, 7-bit (every part of it is ASCII, so the link
/// stays on one line), with a Message-ID and a Date.
fn message(from: &Mailbox, mail: &Claimed) -> Result<Message, SendError> {
    let to = Mailbox::from_str(&mail.recipient)
        .map_err(|e| SendError::Permanent(format!("recipient is not an address: {e}")))?;
    // 7-bit as written: lettre's own choice would fold lines past 76 characters with
    // quoted-printable and cut the link; RFC 5322's hard limit is 998.
    let text = &mail.body;
    if !text.is_ascii()
        || text.contains('\0')
        || text.split("\r\n").any(|line| line.len() > 998 || line.contains('\n'))
    {
        return Err(SendError::Permanent(
            "the text is not 7-bit with CRLF lines of at most 998 characters".into(),
        ));
    }
    let body = Body::dangerous_pre_encoded(text.clone().into_bytes(), ContentTransferEncoding::SevenBit);
    let domain = from.email.domain().to_string();
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(mail.subject.clone())
        .message_id(Some(format!("<outbox-{}-{}@{domain}>", mail.id, mail.created_at)))
        .date_now()
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}
