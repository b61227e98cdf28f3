//! `chatpass token inspect`: decode a token, check its signature when the secret is
//! known, and say plainly why Twilio would refuse it. Pure: clock and settings passed in.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

use super::access_token::CONTENT_TYPE;

/// What the token is checked against. Every field is optional: unknown means unchecked.
#[derive(Default)]
pub struct Expected<'a> {
    pub secret: Option<&'a str>,
    pub account_sid: Option<&'a str>,
    pub api_key_sid: Option<&'a str>,
    pub service_sid: Option<&'a str>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signature {
    Valid,
    Invalid,
    /// No secret configured to check it with.
    NotChecked,
}

#[derive(Debug, Clone)]
pub struct Inspection {
    pub header: Value,
    pub claims: Value,
    pub signature: Signature,
    /// Why Twilio would refuse this token; empty when nothing is wrong.
    pub problems: Vec<String>,
}

impl Inspection {
    pub fn is_valid(&self) -> bool {
        self.problems.is_empty() && self.signature != Signature::Invalid
    }
}

/// The token is not a JWT at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a token: {0}")]
pub struct Malformed(pub String);

/// `text` with every character that could forge, hide or disguise a line of the report
/// written as `\u{…}`: safe to print to a terminal. Those are controls (C0, DEL, C1:
/// escape sequences, newlines), the line and paragraph separators U+2028 and U+2029 (a
/// line break to many viewers), format characters (bidi overrides and isolates,
/// zero-width characters, the BOM, tags), spaces other than U+0020 (they pass for one),
/// private-use and unassigned code points (whatever a font makes of them), and the
/// invisible letters and marks Unicode says to ignore (Hangul fillers, variation selectors).
pub fn printable(text: &str) -> String {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    let hidden = |c: char| {
        matches!(
            c.general_category(),
            G::Control | G::Format | G::LineSeparator | G::ParagraphSeparator | G::PrivateUse | G::Unassigned
        ) || (c.general_category() == G::SpaceSeparator && c != ' ')
            || matches!(
                c,
                '\u{034F}'
                    | '\u{115F}'
                    | '\u{1160}'
                    | '\u{17B4}'
                    | '\u{17B5}'
                    | '\u{180B}'..='\u{180F}'
                    | '\u{3164}'
                    | '\u{FE00}'..='\u{FE0F}'
                    | '\u{FFA0}'
                    | '\u{E0100}'..='\u{E01EF}'
            )
    };
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:04x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn decode_json(part: &str, what: &str) -> Result<Value, Malformed> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|_| Malformed(format!("the {what} is not base64url")))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| Malformed(format!("the {what} is not JSON")))?;
    if !value.is_object() {
        return Err(Malformed(format!("the {what} is not a JSON object")));
    }
    Ok(value)
}

pub fn inspect(token: &str, expected: &Expected<'_>, now: u64) -> Result<Inspection, Malformed> {
    let token = token.trim();
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(Malformed(format!("a JWT has 3 dot-separated parts, this has {}", parts.len())));
    }
    let header = decode_json(parts[0], "header")?;
    let claims = decode_json(parts[1], "payload")?;
    let mut problems = Vec::new();

    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if alg != "HS256" {
        problems.push(format!("alg is {alg:?}: Twilio tokens are HS256 (alg \"none\" is never accepted)"));
    }
    if header.get("cty").and_then(Value::as_str) != Some(CONTENT_TYPE) {
        problems.push(format!("the header's cty is not {CONTENT_TYPE:?}"));
    }

    let signature = match expected.secret {
        None => Signature::NotChecked,
        Some(_) if alg != "HS256" => Signature::Invalid,
        Some(secret) => {
            let message = format!("{}.{}", parts[0], parts[1]);
            let key = DecodingKey::from_secret(secret.as_bytes());
            match jsonwebtoken::crypto::verify(parts[2], message.as_bytes(), &key, Algorithm::HS256) {
                Ok(true) => Signature::Valid,
                _ => Signature::Invalid,
            }
        }
    };
    if signature == Signature::Invalid {
        problems.push(
            "the signature does not match TWILIO_API_SECRET (tampered, or signed with another secret)".into(),
        );
    }

    match claims.get("exp").and_then(Value::as_u64) {
        None => problems.push("no numeric exp claim".into()),
        Some(exp) if exp <= now => {
            problems.push(format!("expired {} s ago (Twilio answers 20104)", now - exp));
        }
        Some(_) => {}
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_u64) {
        if nbf > now {
            problems.push(format!("not valid yet: nbf is {} s in the future", nbf - now));
        }
    }
    let claim = |name: &str| claims.get(name).and_then(Value::as_str);
    if let (Some(want), Some(got)) = (expected.account_sid, claim("sub")) {
        if want != got {
            problems.push(format!("for another account: sub is {got}, TWILIO_ACCOUNT_SID is {want}"));
        }
    }
    if let (Some(want), Some(got)) = (expected.api_key_sid, claim("iss")) {
        if want != got {
            problems.push(format!("signed with another API key: iss is {got}, TWILIO_API_KEY is {want}"));
        }
    }
    let service = claims.pointer("/grants/chat/service_sid").and_then(Value::as_str);
    match (expected.service_sid, service) {
        (_, None) => problems.push("no Chat grant with a service_sid".into()),
        (Some(want), Some(got)) if want != got => problems.push(format!(
            "for another chat service: service_sid is {got}, TWILIO_CHAT_SERVICE_SID is {want}"
        )),
        _ => {}
    }
    if claims.pointer("/grants/identity").and_then(Value::as_str).is_none_or(str::is_empty) {
        problems.push("no identity in grants".into());
    }
    Ok(Inspection { header, claims, signature, problems })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{ChatGrant, Mode, TokenIssuer};

    const ACCOUNT: &str = "AC11111111111111111111111111111111";
    const KEY: &str = "SK22222222222222222222222222222222";
    const SERVICE: &str = "IS33333333333333333333333333333333";

    fn issuer(secret: &str) -> TokenIssuer {
        let chat = ChatGrant { service_sid: SERVICE.into(), ..Default::default() };
        TokenIssuer::new(ACCOUNT.into(), KEY.into(), secret, chat, 3600, None, Mode::Live).unwrap()
    }

    fn expected(secret: &str) -> Expected<'_> {
        Expected {
            secret: Some(secret),
            account_sid: Some(ACCOUNT),
            api_key_sid: Some(KEY),
            service_sid: Some(SERVICE),
        }
    }

    #[test]
    fn a_fresh_token_is_valid() {
        let token = issuer("s3cret").issue("ann@example.com", 1000).unwrap().jwt;
        let report = inspect(&token, &expected("s3cret"), 1001).unwrap();
        assert_eq!(report.signature, Signature::Valid);
        assert!(report.is_valid(), "{:?}", report.problems);
        assert_eq!(report.claims["grants"]["identity"], "ann@example.com");
    }

    #[test]
    fn each_problem_is_named() {
        let token = issuer("s3cret").issue("ann@example.com", 1000).unwrap().jwt;
        let expired = inspect(&token, &expected("s3cret"), 5000).unwrap();
        assert!(expired.problems.iter().any(|p| p.contains("expired")));
        let wrong_secret = inspect(&token, &expected("other"), 1001).unwrap();
        assert_eq!(wrong_secret.signature, Signature::Invalid);
        let other_account =
            Expected { account_sid: Some("AC99999999999999999999999999999999"), ..expected("s3cret") };
        assert!(inspect(&token, &other_account, 1001)
            .unwrap()
            .problems
            .iter()
            .any(|p| p.contains("another account")));
        let other_service =
            Expected { service_sid: Some("IS99999999999999999999999999999999"), ..expected("s3cret") };
        assert!(inspect(&token, &other_service, 1001)
            .unwrap()
            .problems
            .iter()
            .any(|p| p.contains("another chat service")));
        let unchecked = inspect(&token, &Expected::default(), 1001).unwrap();
        assert_eq!(unchecked.signature, Signature::NotChecked);
        assert!(unchecked.is_valid());
    }

    #[test]
    fn printable_escapes_what_could_forge_or_hide_a_line() {
        let hostile = "AC1\nsignature: valid (checked)\x1b[8m\u{202e}\u{200b}\u{85}\u{7f}";
        let shown = printable(hostile);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert_eq!(shown.lines().count(), 1);
        for escaped in ["\\u{000a}", "\\u{001b}", "\\u{202e}", "\\u{200b}", "\\u{0085}", "\\u{007f}"] {
            assert!(shown.contains(escaped), "{escaped} in {shown}");
        }
        assert_eq!(printable("ann@example.com é 日本"), "ann@example.com é 日本");
    }

    #[test]
    fn printable_escapes_line_separators_and_what_passes_for_nothing_or_a_space() {
        let hostile = "a\u{2028}signature: valid\u{2029}b\u{00A0}c\u{3000}d\u{E000}e\u{3164}f\u{FE0F}g\u{E0041}h\u{FFF9}i\u{AD}j\u{10FFFF}";
        let shown = printable(hostile);
        for escaped in [
            "\\u{2028}",
            "\\u{2029}",
            "\\u{00a0}",
            "\\u{3000}",
            "\\u{e000}",
            "\\u{3164}",
            "\\u{fe0f}",
            "\\u{e0041}",
            "\\u{fff9}",
            "\\u{00ad}",
            "\\u{10ffff}",
        ] {
            assert!(shown.contains(escaped), "{escaped} in {shown}");
        }
        assert!(shown.is_ascii(), "{shown}");
        assert_eq!(printable("a b\u{1F600}"), "a b\u{1F600}", "a plain space and an emoji stay");
    }

    #[test]
    fn garbage_and_truncation_are_malformed() {
        let token = issuer("s3cret").issue("ann@example.com", 1000).unwrap().jwt;
        assert!(inspect("garbage", &Expected::default(), 0).is_err());
        assert!(inspect(&token[..token.len() / 2], &Expected::default(), 0).is_err());
        assert!(inspect("a.b.c", &Expected::default(), 0).is_err());
    }
}
