//! [`DeviceName`]: what the owner calls a device (an app signed in with a device token),
//! as the account page lists it.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::error::AppError;

/// Longest device name, in characters after NFC normalisation.
pub const DEVICE_NAME_MAX_CHARS: usize = 64;

/// A device's name ("Ann's iPhone"): trimmed, NFC, 1 to 64 characters, and, as for display
/// names, no control, invisible formatting (direction overrides, zero-width) or line
/// separator characters, so a name in the list cannot pass for another or run into the page.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceName(String);

impl std::fmt::Debug for DeviceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceName({} chars)", self.0.chars().count())
    }
}

fn refused(c: char) -> bool {
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
    )
}

impl DeviceName {
    pub fn parse(raw: &str) -> Result<Self, AppError> {
        let bad = |reason: &str| AppError::bad_input("device_name", reason);
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(bad("Name the device: 1 to 64 characters."));
        }
        // NFC composes at most three characters into one: past four times the limit is long.
        if trimmed.chars().count() > DEVICE_NAME_MAX_CHARS * 4 {
            return Err(bad("Device names are at most 64 characters."));
        }
        if let Some(c) = trimmed.chars().find(|&c| refused(c)) {
            return Err(bad(&format!(
                "Device names cannot contain control or invisible formatting characters (tabs, line \
                 breaks, zero-width or text-direction characters); this one has U+{:04X}.",
                u32::from(c)
            )));
        }
        let normalized: String = trimmed.nfc().collect();
        if normalized.chars().count() > DEVICE_NAME_MAX_CHARS {
            return Err(bad("Device names are at most 64 characters."));
        }
        Ok(DeviceName(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(raw: &str) -> Option<String> {
        match DeviceName::parse(raw) {
            Err(AppError::BadInput { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn names_are_trimmed_normalised_and_bounded() {
        assert_eq!(DeviceName::parse("  Ann's iPhone ").unwrap().as_str(), "Ann's iPhone");
        assert_eq!(DeviceName::parse("Cafe\u{301}").unwrap().as_str(), "Caf\u{e9}");
        assert_eq!(DeviceName::parse("Pixel 9 ☕ שלום").unwrap().as_str(), "Pixel 9 ☕ שלום");
        assert!(DeviceName::parse(&"x".repeat(64)).is_ok());
        for bad in ["", "   ", &"x".repeat(65), &"x".repeat(10_000)] {
            assert_eq!(field_of(bad).as_deref(), Some("device_name"), "{bad:?}");
        }
    }

    #[test]
    fn controls_and_invisible_formatting_are_refused() {
        for bad in
            ["a\tb", "a\nb", "a\0b", "a\u{85}b", "\u{202E}gnp.exe", "a\u{200B}b", "a\u{2066}b", "a\u{2028}b"]
        {
            assert_eq!(field_of(bad).as_deref(), Some("device_name"), "{bad:?}");
        }
    }
}
