//! The `platform` field of `POST /api/chat_token`, as sent: which app platform's push
//! credential goes into the grant (`ios`, `android`, …; left out or `web`: the default).

use serde::{Deserialize, Serialize};

/// The `platform` field as sent, `None` only when it is left out. Not a plain
/// `Option<String>`: the form codec reads `platform=` as `None` too, and an empty name is
/// refused, not taken for `web`. JSON's `null` is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct PlatformField(pub Option<String>);

impl<'de> Deserialize<'de> for PlatformField {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Sent;
        impl serde::de::Visitor<'_> for Sent {
            type Value = PlatformField;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a platform name")
            }
            fn visit_str<E>(self, name: &str) -> Result<PlatformField, E> {
                Ok(PlatformField(Some(name.to_string())))
            }
            fn visit_unit<E>(self) -> Result<PlatformField, E> {
                Ok(PlatformField(None))
            }
        }
        deserializer.deserialize_any(Sent)
    }
}

#[cfg(test)]
mod tests {
    use crate::token::chat_token::ChatToken;

    #[test]
    fn a_json_platform_left_out_or_null_is_none_and_any_string_is_sent() {
        let platform = |json: &str| serde_json::from_str::<ChatToken>(json).unwrap().platform.0;
        assert_eq!(platform("{}"), None);
        assert_eq!(platform(r#"{"platform":null}"#), None);
        assert_eq!(platform(r#"{"platform":""}"#).as_deref(), Some(""));
        assert_eq!(platform(r#"{"platform":"ios"}"#).as_deref(), Some("ios"));
        assert!(serde_json::from_str::<ChatToken>(r#"{"platform":7}"#).is_err());
    }
}
