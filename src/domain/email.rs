//! [`Email`]: an address as chatpass stores it and as the chat identity.

use crate::error::AppError;

/// Longest email we accept, in bytes (RFC 5321's path limit less the angle brackets).
pub const EMAIL_MAX_BYTES: usize = 254;

/// An email address as chatpass stores it, and so the chat identity: the local part plain
/// ASCII and lowercased, the domain in its ASCII form (punycode for an internationalised
/// domain), lowercased; at most 254 bytes.
///
/// The email becomes a Twilio identity, so two spellings that read alike must not become two
/// accounts. The local part must therefore be an unquoted dot-atom of ASCII characters:
/// no quoted strings (`"victim@example.com"@evil.example`), no letters from other scripts
/// that imitate Latin ones (Cyrillic `а`, `і`), no fullwidth letters, no invisible
/// characters (zero-width space and joiners), no direction overrides, no combining marks.
/// The domain goes through IDNA (UTS #46, strict): fullwidth letters and other compatibility
/// forms fold to their ASCII letters, invisible characters that IDNA ignores vanish, and a
/// domain written in Unicode or in punycode is one domain; what IDNA forbids (direction
/// overrides among them) is refused.
///
/// Refused too, because a mail server on the way may read them as a route to another
/// host, so the link would be proven by whoever runs that host: `%` and `!` in the local
/// part (`ann%evil.example@relay.example.com`, `evil.example!ann@relay.example.com`: the
/// "percent hack" and UUCP bang paths, which Postfix still rewrites by default), and a
/// domain that is an IP address, bracketed (`[127.0.0.1]`, `[IPv6:::1]`) or bare
/// (`127.0.0.1`, and the short forms resolvers take, `127.1`, `0x7f.1`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

/// The characters RFC 5322 allows unquoted in a local part besides letters and digits.
const ATEXT_SPECIALS: &[u8] = b"!#$%&'*+-/=?^_`{|}~";

impl Email {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        const NOT_AN_EMAIL: &str = "That is not an email address.";
        let bad = |reason: &str| AppError::bad_input("email", reason);
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(bad("Enter your email address."));
        }
        // Bounded before any work on it; the stored form is checked against 254 below.
        if trimmed.len() > 4 * EMAIL_MAX_BYTES {
            return Err(bad("That email address is too long (254 bytes at most)."));
        }
        let Some((local, domain)) = trimmed.rsplit_once('@') else {
            return Err(bad(NOT_AN_EMAIL));
        };
        if !local.is_ascii() {
            return Err(bad(
                "Use an address whose part before the @ is plain ASCII letters, digits and . _ + -: \
                 other characters can imitate someone else's address.",
            ));
        }
        if local.contains(['%', '!']) {
            return Err(bad(
                "Use an address without % or ! before the @: mail servers may read them as a route \
                 to another server.",
            ));
        }
        let atext = |b: u8| b.is_ascii_alphanumeric() || ATEXT_SPECIALS.contains(&b);
        if local.len() > 64 || !local.split('.').all(|atom| !atom.is_empty() && atom.bytes().all(atext)) {
            return Err(bad(NOT_AN_EMAIL));
        }
        const AT_AN_IP: &str = "Use an address at a domain name, not at an IP address.";
        if domain.starts_with('[') || domain.parse::<std::net::Ipv6Addr>().is_ok() {
            return Err(bad(AT_AN_IP));
        }
        if domain.ends_with('.') {
            return Err(bad("That email address has no full domain."));
        }
        let domain = idna::domain_to_ascii_strict(domain)
            .map_err(|_| bad("That email address's domain is not valid."))?;
        if ends_in_a_number(&domain) {
            return Err(bad(AT_AN_IP));
        }
        if domain.split('.').count() < 2 || domain.split('.').any(str::is_empty) {
            return Err(bad("That email address has no full domain."));
        }
        let email = format!("{}@{domain}", local.to_ascii_lowercase());
        if email.len() > EMAIL_MAX_BYTES {
            return Err(bad("That email address is too long (254 bytes at most)."));
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether an (ASCII) domain's last label is a number, decimal or `0x` hex: no top-level
/// domain is, and resolvers read such a name as an IPv4 address (`127.1` is 127.0.0.1).
fn ends_in_a_number(domain: &str) -> bool {
    let last = domain.rsplit('.').next().unwrap_or(domain);
    let hex = last.strip_prefix("0x").or_else(|| last.strip_prefix("0X"));
    match hex {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()),
    }
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Email(..)")
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(Email::parse("  Ann.Lee@Example.COM ").unwrap().as_str(), "ann.lee@example.com");
        assert_eq!(Email::parse("UPPER@Example.COM").unwrap(), Email::parse("upper@example.com").unwrap());
        assert_eq!(Email::parse("o'neil+chat@example.co.uk").unwrap().as_str(), "o'neil+chat@example.co.uk");
    }

    #[test]
    fn a_domain_in_unicode_and_in_punycode_is_one_domain() {
        let unicode = Email::parse("ann@Bücher.example").unwrap();
        let puny = Email::parse("ann@xn--bcher-kva.example").unwrap();
        assert_eq!(unicode, puny);
        assert_eq!(unicode.as_str(), "ann@xn--bcher-kva.example");
        // Fullwidth letters in the domain fold to ASCII: the same domain, not a look-alike.
        assert_eq!(Email::parse("ann@\u{FF45}xample.com").unwrap().as_str(), "ann@example.com");
    }

    #[test]
    fn look_alike_local_parts_are_refused() {
        for (what, raw) in [
            ("Cyrillic i", "\u{0456}van@example.com"),
            ("Cyrillic a", "\u{0430}nn@example.com"),
            ("zero-width space", "an\u{200B}n@example.com"),
            ("zero-width joiner", "an\u{200D}n@example.com"),
            ("zero-width non-joiner", "an\u{200C}n@example.com"),
            ("fullwidth letters", "\u{FF41}nn@example.com"),
            ("right-to-left override", "ann\u{202E}moc.elpmaxe@evil.example"),
            ("combining mark", "a\u{0301}nn@example.com"),
            ("quoted local part", "\"victim@example.com\"@evil.example"),
            ("quoted with spaces", "\"ann lee\"@example.com"),
            ("soft hyphen", "an\u{00AD}n@example.com"),
            ("bidi isolate", "ann\u{2067}x@example.com"),
        ] {
            let err = Email::parse(raw).unwrap_err();
            assert!(err.for_field("email").is_some(), "{what}: {raw:?} gave {err:?}");
        }
    }

    #[test]
    fn look_alike_or_broken_domains_are_refused_or_folded() {
        for (what, raw) in [
            ("right-to-left override", "ann@exa\u{202E}mple.com"),
            ("trailing dot", "ann@example.com."),
            ("empty label", "ann@example..com"),
            ("leading dot", "ann@.example.com"),
            ("a label too long", &format!("ann@{}.com", "a".repeat(64))),
        ] {
            let err = Email::parse(raw).unwrap_err();
            assert!(err.for_field("email").is_some(), "{what}: {raw:?} gave {err:?}");
        }
        // What IDNA ignores (a zero-width space) vanishes: the real domain, one account.
        assert_eq!(
            Email::parse("ann@exa\u{200B}mple.com").map(|e| e.as_str().to_string()).ok(),
            Some("ann@example.com".into())
        );
    }

    #[test]
    fn bad_emails_are_refused_with_the_field() {
        for bad in [
            "",
            "   ",
            "ann",
            "ann@",
            "@example.com",
            "ann@localhost",
            "a b@example.com",
            "ann@example.com\0",
            "ann@@example.com",
            ".ann@example.com",
            "ann.@example.com",
            "an..n@example.com",
            &format!("{}@example.com", "a".repeat(65)),
            &format!("{}@example.com", "a".repeat(300)),
            &format!("ann@{}.example.com", "a.".repeat(200)),
        ] {
            let err = Email::parse(bad).unwrap_err();
            assert!(err.for_field("email").is_some(), "{bad:?}: {err:?}");
        }
    }

    #[test]
    fn routes_through_a_relay_are_refused_with_the_reason() {
        for raw in [
            "a%b@relay.example.com",
            "ann%evil.example@relay.example.com",
            "evil.example!ann@relay.example.com",
        ] {
            let reason = Email::parse(raw).unwrap_err().for_field("email").unwrap();
            assert!(reason.contains("% or !"), "{raw:?}: {reason}");
        }
    }

    #[test]
    fn addresses_at_an_ip_are_refused_with_the_reason() {
        for raw in [
            "a@127.0.0.1",
            "a@[127.0.0.1]",
            "a@[IPv6:::1]",
            "a@[IPv6:2001:db8::1]",
            "a@::1",
            "a@10.0.0.1",
            "a@127.1",
            "a@0x7f.1",
            "a@0X7F.0.0.1",
            "a@example.123",
            // Fullwidth digits and an ideographic full stop fold to 127.0.0.1 under IDNA.
            "a@\u{FF11}\u{FF12}\u{FF17}\u{3002}0.0.1",
        ] {
            let error = Email::parse(raw).unwrap_err();
            assert_eq!(error.status(), 400);
            let reason = error.for_field("email").unwrap_or_else(|| panic!("{raw:?}: {error:?}"));
            assert!(reason.contains("not at an IP address"), "{raw:?}: {reason}");
        }
        // Digits elsewhere in a domain name are fine; so is a TLD that merely starts with 0x.
        for ok in ["a@123.example.com", "a@1e100.net", "a@x.0xygen", "a@3com.com"] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn debug_never_prints_an_email() {
        let e = Email::parse("private@example.com").unwrap();
        assert!(!format!("{e:?}").contains("private"));
    }
}
