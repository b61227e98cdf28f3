//! Mail text at rest: an unsent mail holds a working link, so behind an https public URL
//! the outbox stores its text sealed (XChaCha20-Poly1305, a random 24-byte nonce per row)
//! and the sender opens it just before delivery.
//!
//! A stored text says what it is: `sealed:v1:` and base64 of nonce || ciphertext, or
//! anything else as it is (rows written in clear, while links are plain http or before
//! sealing, still deliver). The recipient is the associated data: a sealed text moved to
//! another address, or an address changed under it, does not open.

use base64::{engine::general_purpose::STANDARD, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    Key, XChaCha20Poly1305, XNonce,
};
use hmac::{Hmac, Mac};
use secrecy::{zeroize::Zeroize, ExposeSecret, SecretString};
use sha2::Sha256;

use crate::config::TwilioSettings;

/// What a sealed text starts with; the version names the cipher and the key's label.
const PREFIX: &str = "sealed:v1:";
/// The key is HMAC-SHA256 of this label under the Twilio API secret: every instance that
/// shares the database (and the secret) opens every other's mail.
const KEY_LABEL: &[u8] = b"chatpass outbox key v1";
const NONCE_LEN: usize = 24;

/// The outbox's key, and whether new mail is sealed with it. `Debug` shows no key.
pub struct Seal {
    cipher: XChaCha20Poly1305,
    seals_new: bool,
}

impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Seal").field("key", &"[redacted]").field("seals_new", &self.seals_new).finish()
    }
}

impl Seal {
    /// The key from the API secret when Twilio is configured; in demo mode one of this
    /// process's own (mail an earlier process left unsent then cannot be opened). New mail
    /// is sealed when `https`: plain http links are logged in clear anyway.
    pub fn from_settings(twilio: &TwilioSettings, https: bool) -> Seal {
        match twilio.account() {
            Some(account) => Seal::from_secret(&account.api_secret, https),
            None => Seal::random(https),
        }
    }

    /// The key derived from `secret`.
    pub fn from_secret(secret: &SecretString, seals_new: bool) -> Seal {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes a key of any length");
        mac.update(KEY_LABEL);
        Seal::with_key(mac.finalize().into_bytes(), seals_new)
    }

    /// A random key, this process's alone.
    pub fn random(seals_new: bool) -> Seal {
        let mut bytes: [u8; 32] = rand::random();
        let seal = Seal::with_key(Key::from(bytes), seals_new);
        bytes.zeroize();
        seal
    }

    fn with_key(mut key: Key, seals_new: bool) -> Seal {
        let cipher = XChaCha20Poly1305::new(&key);
        key.as_mut_slice().zeroize();
        Seal { cipher, seals_new }
    }

    /// What the outbox stores for `text` to `recipient`: sealed, or (plain http) as it is.
    pub fn close(&self, text: &str, recipient: &str) -> String {
        if !self.seals_new {
            return text.to_string();
        }
        let nonce: [u8; NONCE_LEN] = rand::random();
        let payload = Payload { msg: text.as_bytes(), aad: recipient.as_bytes() };
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), payload)
            .expect("XChaCha20-Poly1305 seals any text a mail can hold");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(bytes))
    }

    /// The text of a stored body to `recipient`; `None` when it is sealed and does not open
    /// with this key (another key sealed it, or it was altered).
    pub fn open(&self, stored: &str, recipient: &str) -> Option<String> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Some(stored.to_string());
        };
        let bytes = STANDARD.decode(encoded).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let payload = Payload { msg: sealed, aad: recipient.as_bytes() };
        let text = self.cipher.decrypt(XNonce::from_slice(nonce), payload).ok()?;
        String::from_utf8(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "Open this link:\r\n\r\nhttps://chat.example.com/verify?token=abc123\r\n";
    const TO: &str = "ann@example.com";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_string())
    }

    #[test]
    fn a_sealed_text_holds_nothing_of_the_mail_and_opens_to_it() {
        let seal = Seal::from_secret(&secret("the api secret"), true);
        let stored = seal.close(TEXT, TO);
        assert!(stored.starts_with("sealed:v1:"), "{stored}");
        assert!(!stored.contains("token") && !stored.contains("abc123") && !stored.contains("https"));
        assert_eq!(seal.open(&stored, TO).as_deref(), Some(TEXT));
    }

    #[test]
    fn each_row_has_a_nonce_of_its_own() {
        let seal = Seal::random(true);
        assert_ne!(seal.close(TEXT, TO), seal.close(TEXT, TO));
    }

    #[test]
    fn instances_with_the_same_secret_open_each_others_mail() {
        let stored = Seal::from_secret(&secret("the api secret"), true).close(TEXT, TO);
        let other = Seal::from_secret(&secret("the api secret"), false);
        assert_eq!(other.open(&stored, TO).as_deref(), Some(TEXT));
    }

    #[test]
    fn another_key_does_not_open_it() {
        let stored = Seal::from_secret(&secret("the api secret"), true).close(TEXT, TO);
        assert_eq!(Seal::from_secret(&secret("a rotated secret"), true).open(&stored, TO), None);
        assert_eq!(Seal::random(true).open(&stored, TO), None);
    }

    #[test]
    fn an_altered_text_or_recipient_does_not_open() {
        let seal = Seal::random(true);
        let stored = seal.close(TEXT, TO);
        assert_eq!(seal.open(&stored, "mallory@example.com"), None, "the recipient is bound");
        let encoded = stored.strip_prefix(PREFIX).unwrap();
        let mut bytes = STANDARD.decode(encoded).unwrap();
        for at in [0, NONCE_LEN, bytes.len() - 1] {
            bytes[at] ^= 1;
            assert_eq!(seal.open(&format!("{PREFIX}{}", STANDARD.encode(&bytes)), TO), None, "byte {at}");
            bytes[at] ^= 1;
        }
        for broken in ["sealed:v1:", "sealed:v1:not base64!", "sealed:v1:AAAA"] {
            assert_eq!(seal.open(broken, TO), None, "{broken}");
        }
        assert_eq!(seal.open(&stored, TO).as_deref(), Some(TEXT));
    }

    #[test]
    fn clear_rows_deliver_as_they_are_and_plain_http_stores_clear() {
        let seal = Seal::random(false);
        assert_eq!(seal.close(TEXT, TO), TEXT);
        assert_eq!(Seal::random(true).open(TEXT, TO).as_deref(), Some(TEXT));
    }

    #[test]
    fn debug_shows_no_key() {
        let shown = format!("{:?}", Seal::from_secret(&secret("the api secret"), true));
        assert_eq!(shown, r#"Seal { key: "[redacted]", seals_new: true }"#);
    }
}
