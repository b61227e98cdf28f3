//! [`DisplayName`]: the name an account is shown by, and why one is refused.

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::email::Email;
use crate::error::AppError;

/// Longest display name, in characters (Unicode scalar values) after NFC normalisation.
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
/// The name a default display name falls back to when the email gives nothing usable.
pub const DISPLAY_NAME_FALLBACK: &str = "user";

/// The name an account is shown by (issue 16): chosen at sign-up or on the account page,
/// or, when none was, [`DisplayName::default_for`] the email. Not an identity: two accounts
/// may share one, and nothing is decided by it.
///
/// The rules, on the text with surrounding whitespace trimmed and NFC-normalised (so a
/// name typed with a combining accent and one typed precomposed are the same name, of the
/// same length):
/// - 1 to 64 characters (Unicode scalar values);
/// - no control characters (general category Cc: tab, newline, NUL, C1 controls), no
///   format characters (Cf: the invisible ones — direction marks, embeddings, overrides
///   and isolates U+200E/F, U+202A–202E, U+2066–2069, U+061C; zero-width space, non-joiner
///   and joiner U+200B–200D; U+FEFF; the soft hyphen; tag characters), no line or paragraph
///   separators (Zl, Zp). These are what let a name look like something it is not: a
///   right-to-left override reverses the text after it (`\u{202E}gnp.exe` reads as
///   "exe.png"), an unclosed one runs on into whatever the page shows next, and two names
///   that differ only in invisible characters look alike;
/// - no `<` or `>`: a display name is shown in pages, mails and chat clients that we do
///   not all write, and not every one of them escapes markup. Checked on the input and on
///   its normal form, so `<` followed by U+0338 (which NFC turns into `≮`) is refused too.
///
/// Allowed: letters of every script, right-to-left ones included (a name in Arabic or
/// Hebrew letters is fine; the letters carry their own direction, no control is needed),
/// combining marks, digits, punctuation, symbols and emoji (with their variation
/// selectors, which are marks, not format characters), and spaces inside the name.
///
/// The zero-width joiner (U+200D) is refused with the other format characters, knowingly:
/// it is invisible, so it makes names that look identical but differ, and one rule for all
/// of Cf is simpler to state and to trust than a list of exceptions. The cost: emoji
/// sequences joined by it (a family of three, a rainbow flag) and the scripts that use the
/// joiner or the non-joiner in ordinary spelling (Persian writes U+200C) must do without it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DisplayName(String);

/// Why a display name was refused; its text is the `reason` of the 400 (field
/// `display_name`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DisplayNameError {
    #[error("Enter a display name: 1 to 64 characters.")]
    Empty,
    #[error("Display names are at most 64 characters.")]
    TooLong,
    /// A control, invisible formatting or line-breaking character (the code point).
    #[error(
        "Display names cannot contain control or invisible formatting characters (tabs, line breaks, \
         zero-width or text-direction characters); this one has U+{0:04X}."
    )]
    Invisible(u32),
    #[error("Display names cannot contain < or >.")]
    Markup,
    /// Shown beside messages, a name that reads as an address would pass for its owner.
    #[error("A display name cannot be an email address.")]
    LooksLikeEmail,
    /// Words that claim to speak for the service (`chatpass admin`).
    #[error("This display name is reserved: it could be taken for the service's own staff.")]
    Reserved,
    /// Another account is shown by a name that looks the same.
    #[error("Another account is shown by a name that looks like this one. Choose another.")]
    Taken,
}

/// Words a display name cannot contain (compared on the name's [`DisplayName::key`]): a
/// name that holds one could be taken for the service speaking.
const RESERVED_WORDS: &[&str] =
    &["admin", "administrator", "moderator", "mod", "staff", "support", "system", "official"];
/// Names no display name may hold anywhere, even run together with other letters.
const RESERVED_INSIDE: &[&str] = &["chatpass", "twilio"];

/// See [`DisplayName::key`].
fn look_alike_key(text: &str) -> String {
    let folded: String = text.nfkc().flat_map(char::to_lowercase).collect();
    let skeleton: String = unicode_security::skeleton(&folded).flat_map(char::to_lowercase).collect();
    skeleton.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl From<DisplayNameError> for AppError {
    fn from(error: DisplayNameError) -> Self {
        AppError::bad_input("display_name", error.to_string())
    }
}

/// Why `c` cannot be in a display name, if it cannot.
fn display_name_refuses(c: char) -> Option<DisplayNameError> {
    match c.general_category() {
        GeneralCategory::Control
        | GeneralCategory::Format
        | GeneralCategory::LineSeparator
        | GeneralCategory::ParagraphSeparator => Some(DisplayNameError::Invisible(u32::from(c))),
        _ if c == '<' || c == '>' => Some(DisplayNameError::Markup),
        _ => None,
    }
}

impl DisplayName {
    /// A display name as typed: trimmed, NFC-normalised, then held to the rules above.
    pub fn parse(raw: &str) -> Result<Self, DisplayNameError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DisplayNameError::Empty);
        }
        // Bound the work before normalising: NFC composes at most three characters into
        // one (a Hangul syllable from its jamo), so more than four times the limit is long.
        if trimmed.chars().count() > DISPLAY_NAME_MAX_CHARS * 4 {
            return Err(DisplayNameError::TooLong);
        }
        if let Some(refused) = trimmed.chars().find_map(display_name_refuses) {
            return Err(refused);
        }
        let normalized: String = trimmed.nfc().collect();
        if normalized.chars().count() > DISPLAY_NAME_MAX_CHARS {
            return Err(DisplayNameError::TooLong);
        }
        if let Some(refused) = normalized.chars().find_map(display_name_refuses) {
            return Err(refused);
        }
        let name = DisplayName(normalized);
        let folded: String = name.0.nfkc().flat_map(char::to_lowercase).collect();
        if folded.contains('@') || folded.contains('\u{FE6B}') || Email::parse(&folded).is_ok() {
            return Err(DisplayNameError::LooksLikeEmail);
        }
        let key = name.key();
        let joined: String = key.chars().filter(|c| c.is_alphanumeric()).collect();
        let mut words = key.split(|c: char| !c.is_alphanumeric());
        if words.any(|word| RESERVED_WORDS.iter().any(|w| look_alike_key(w) == word))
            || RESERVED_INSIDE.iter().any(|w| joined.contains(&look_alike_key(w)))
        {
            return Err(DisplayNameError::Reserved);
        }
        Ok(name)
    }

    /// What two names that look alike share (stored in `users.display_name_key`, unique):
    /// NFKC, lowercase, Unicode's confusable skeleton (UTS #39: Cyrillic `а` and Latin
    /// `a` meet), lowercase again, and runs of whitespace as one space.
    pub fn key(&self) -> String {
        look_alike_key(&self.0)
    }

    /// A display name from a form field that may be left out: missing, empty or only
    /// whitespace is `None` (the default is used); anything else must parse.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, DisplayNameError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(None),
            Some(given) => Self::parse(given).map(Some),
        }
    }

    /// The name of an account that chose none: its email's local part (`ann.lee` for
    /// `ann.lee@example.com`), which always satisfies the rules.
    pub fn default_for(email: &Email) -> Self {
        Self::default_for_stored_email(email.as_str())
    }

    /// [`DisplayName::default_for`] an email as the `users` table holds it. Total: whatever
    /// the text (an email the rules refuse, say), what the rules refuse
    /// is left out, the rest is cut to 64 characters, and an empty result is `user`.
    pub fn default_for_stored_email(email: &str) -> Self {
        let local = email.rsplit_once('@').map_or(email, |(local, _)| local);
        // Every chat token carries this name: for the usual local part, printable ASCII
        // without `<` or `>`, nothing is refused and NFC changes nothing, so the general
        // path below would only trim and cut it (one byte is one character).
        if local.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'<' && b != b'>') {
            let trimmed = local.trim();
            let name = trimmed[..trimmed.len().min(DISPLAY_NAME_MAX_CHARS)].trim();
            return DisplayName(if name.is_empty() { DISPLAY_NAME_FALLBACK } else { name }.to_string());
        }
        Self::default_for_any_stored_email(local)
    }

    /// [`DisplayName::default_for_stored_email`] for any local part.
    fn default_for_any_stored_email(local: &str) -> Self {
        let kept: String = local.chars().filter(|c| display_name_refuses(*c).is_none()).collect();
        let normalized: String = kept.trim().nfc().take(DISPLAY_NAME_MAX_CHARS).collect();
        let name = normalized.trim();
        // NFC of text without refused characters has none (canonical compositions make
        // letters and symbols, never controls, format characters, `<` or `>`).
        if name.is_empty() {
            DisplayName(DISPLAY_NAME_FALLBACK.to_string())
        } else {
            DisplayName(name.to_string())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl std::fmt::Debug for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DisplayName(..)")
    }
}

impl std::fmt::Display for DisplayName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(raw: &str) -> Result<String, DisplayNameError> {
        DisplayName::parse(raw).map(DisplayName::into_string)
    }

    #[test]
    fn display_names_are_trimmed_and_nfc_normalised() {
        assert_eq!(name("  Ann Lee \u{3000}").unwrap(), "Ann Lee");
        // "e" + combining acute is "é" after NFC: one character, and the same name as the
        // precomposed one.
        assert_eq!(name("Rene\u{301}").unwrap(), "Ren\u{E9}");
        assert_eq!(name("Rene\u{301}").unwrap(), name("Ren\u{E9}").unwrap());
        assert_eq!(name("e\u{301}").unwrap().chars().count(), 1);
        // Hangul jamo compose into one syllable.
        assert_eq!(name("\u{1112}\u{1161}\u{11AB}").unwrap(), "\u{D55C}");
        // Spaces inside a name stay as they are.
        assert_eq!(name("Ann  Lee").unwrap(), "Ann  Lee");
    }

    #[test]
    fn display_names_are_1_to_64_characters_after_nfc() {
        assert_eq!(name(""), Err(DisplayNameError::Empty));
        assert_eq!(name(" \t\n "), Err(DisplayNameError::Empty), "only whitespace is empty");
        assert_eq!(name("x").unwrap(), "x");
        assert_eq!(name(&"x".repeat(64)).unwrap().len(), 64);
        assert_eq!(name(&"x".repeat(65)), Err(DisplayNameError::TooLong));
        assert_eq!(name(&"x".repeat(10_000)), Err(DisplayNameError::TooLong));
        // Characters, not bytes: 64 three- and four-byte characters are fine, 65 are not.
        assert_eq!(name(&"\u{4E2D}".repeat(64)).unwrap().chars().count(), 64);
        assert_eq!(name(&"\u{4E2D}".repeat(65)), Err(DisplayNameError::TooLong));
        assert_eq!(name(&"\u{1F600}".repeat(64)).unwrap().len(), 256);
        assert_eq!(name(&"\u{1F600}".repeat(65)), Err(DisplayNameError::TooLong));
        // Counted after NFC: 65 decomposed "é" (130 scalars typed) are 65, too long; 64
        // decomposed "é" (128 typed) are 64, fine.
        assert_eq!(name(&"e\u{301}".repeat(65)), Err(DisplayNameError::TooLong));
        assert_eq!(name(&"e\u{301}".repeat(64)).unwrap(), "\u{E9}".repeat(64));
        // Surrounding whitespace does not count.
        assert_eq!(name(&format!("  {}  ", "x".repeat(64))).unwrap(), "x".repeat(64));
    }

    #[test]
    fn right_to_left_letters_emoji_and_marks_are_allowed() {
        for ok in [
            "\u{0633}\u{0627}\u{0631}\u{0627}",                 // Arabic: سارا
            "\u{05D3}\u{05E0}\u{05D4}",                         // Hebrew: דנה
            "Dana \u{05D3}\u{05E0}\u{05D4} 42",                 // mixed directions, digits
            "\u{1F600} smiley",                                 // emoji
            "\u{2764}\u{FE0F}",                                 // ❤️: a variation selector is a mark (Mn)
            "\u{1F44B}\u{1F3FD}",                               // 👋🏽: skin tone modifier
            "\u{1F1EB}\u{1F1F7}",                               // 🇫🇷: regional indicators
            "Zo\u{EB} O'Brien-Smith, Jr.",                      // punctuation
            "\u{674E}\u{5C0F}\u{9F8D}",                         // Han
            "\u{0928}\u{092E}\u{0938}\u{094D}\u{0924}\u{0947}", // Devanagari with a virama
            "a & b \"quoted\" = c",                             // markup-ish, but not < or >
            "\u{226E}",                                         // ≮ typed as itself: no '<'
        ] {
            assert!(DisplayName::parse(ok).is_ok(), "{ok:?}: {:?}", DisplayName::parse(ok));
        }
        // Stored exactly as given (it is NFC already).
        let rtl = "\u{05E9}\u{05DC}\u{05D5}\u{05DD} \u{1F44B} \u{0645}\u{0631}\u{062D}\u{0628}\u{0627}";
        assert_eq!(name(rtl).unwrap(), rtl);
    }

    #[test]
    fn controls_separators_and_invisible_formatting_are_refused() {
        for (what, raw, code) in [
            ("tab", "Ann\tLee", 0x09),
            ("newline", "Ann\nLee", 0x0A),
            ("carriage return", "Ann\rLee", 0x0D),
            ("NUL", "Ann\0", 0x00),
            ("escape", "Ann\u{1B}[31m", 0x1B),
            ("DEL", "Ann\u{7F}", 0x7F),
            ("C1 control (NEL)", "Ann\u{85}Lee", 0x85),
            ("line separator", "Ann\u{2028}Lee", 0x2028),
            ("paragraph separator", "Ann\u{2029}Lee", 0x2029),
            ("right-to-left override", "Ann\u{202E}gnp.exe", 0x202E),
            ("left-to-right override", "\u{202D}Ann", 0x202D),
            ("right-to-left embedding", "\u{202B}Ann", 0x202B),
            ("pop directional formatting", "Ann\u{202C}", 0x202C),
            ("right-to-left isolate", "\u{2067}Ann", 0x2067),
            ("first strong isolate", "\u{2068}Ann", 0x2068),
            ("pop directional isolate", "Ann\u{2069}x", 0x2069),
            ("left-to-right mark", "Ann\u{200E}x", 0x200E),
            ("right-to-left mark", "Ann\u{200F}x", 0x200F),
            ("Arabic letter mark", "\u{0633}\u{061C}\u{0627}", 0x061C),
            ("zero-width space", "An\u{200B}n", 0x200B),
            ("zero-width non-joiner", "An\u{200C}n", 0x200C),
            ("zero-width joiner", "An\u{200D}n", 0x200D),
            // The ZWJ is refused in emoji sequences too (see DisplayName's documentation).
            ("emoji ZWJ sequence", "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}", 0x200D),
            ("byte order mark", "\u{FEFF}Ann", 0xFEFF),
            ("soft hyphen", "An\u{AD}n", 0xAD),
            ("word joiner", "An\u{2060}n", 0x2060),
            ("tag character", "Ann\u{E0041}", 0xE0041),
            ("interlinear annotation", "Ann\u{FFF9}x", 0xFFF9),
        ] {
            assert_eq!(name(raw), Err(DisplayNameError::Invisible(code)), "{what}: {raw:?}");
        }
    }

    #[test]
    fn markup_is_refused_before_and_after_nfc() {
        for raw in ["<b>x</b>", "a<b", "a>b", "<script>alert(1)</script>", "<", ">"] {
            assert_eq!(name(raw), Err(DisplayNameError::Markup), "{raw:?}");
        }
        // "<" + combining long solidus overlay is "≮" after NFC: refused for its "<".
        assert_eq!(name("<\u{338}"), Err(DisplayNameError::Markup));
        assert_eq!(name(">\u{338}"), Err(DisplayNameError::Markup));
    }

    #[test]
    fn names_that_pose_as_an_address_or_the_service_are_refused() {
        for raw in ["real.ann@example.com", "ann@example", "ann\u{FF20}example.com", "ann\u{FE6B}example.com"]
        {
            assert_eq!(name(raw), Err(DisplayNameError::LooksLikeEmail), "{raw:?}");
        }
        for raw in [
            "chatpass admin",
            "Admin",
            "ChatPass",
            "the moderator",
            "Twilio Support",
            "chatpassteam",
            "\u{0430}dmin",
        ] {
            assert_eq!(name(raw), Err(DisplayNameError::Reserved), "{raw:?}");
        }
        // Ordinary names that merely hold the letters of a reserved word are fine.
        for raw in ["Badminton Club", "Ann Lee", "Sysadmina", "Supporter"] {
            assert!(name(raw).is_ok(), "{raw:?}");
        }
    }

    #[test]
    fn names_that_look_alike_share_a_key() {
        let key = |raw: &str| DisplayName::parse(raw).unwrap().key();
        // Cyrillic а (U+0430) and Latin a; fullwidth letters; case; runs of spaces.
        assert_eq!(key("\u{0430}nn lee"), key("Ann Lee"));
        assert_eq!(key("\u{FF21}nn  Lee"), key("ann lee"));
        assert_eq!(key("Ann"), key("ANN"));
        assert_ne!(key("Ann"), key("Anna"));
    }

    #[test]
    fn display_name_errors_read_as_400_reasons_for_the_field() {
        let long: AppError = DisplayNameError::TooLong.into();
        assert_eq!(
            long.for_field("display_name").as_deref(),
            Some("Display names are at most 64 characters.")
        );
        let invisible = AppError::from(name("a\u{202E}b").unwrap_err());
        let reason = invisible.for_field("display_name").unwrap();
        assert!(reason.contains("control or invisible formatting characters"), "{reason}");
        assert!(reason.contains("U+202E"), "{reason}");
        let markup = AppError::from(name("<b>").unwrap_err()).for_field("display_name").unwrap();
        assert!(markup.contains("< or >"), "{markup}");
        let empty = AppError::from(name("").unwrap_err()).for_field("display_name").unwrap();
        assert!(empty.contains("1 to 64 characters"), "{empty}");
        assert_eq!(invisible.status(), 400);
    }

    #[test]
    fn an_optional_display_name_may_be_missing_or_blank() {
        assert_eq!(DisplayName::parse_optional(None), Ok(None));
        assert_eq!(DisplayName::parse_optional(Some("")), Ok(None));
        assert_eq!(DisplayName::parse_optional(Some(" \t ")), Ok(None));
        assert_eq!(DisplayName::parse_optional(Some(" Ann ")).unwrap().unwrap().as_str(), "Ann");
        assert_eq!(DisplayName::parse_optional(Some(&"x".repeat(65))), Err(DisplayNameError::TooLong));
        assert_eq!(DisplayName::parse_optional(Some("a\u{202E}")), Err(DisplayNameError::Invisible(0x202E)));
    }

    #[test]
    fn the_default_display_name_is_the_emails_local_part() {
        let default = |raw: &str| DisplayName::default_for(&Email::parse(raw).unwrap()).into_string();
        assert_eq!(default("Ann.Lee@Example.com"), "ann.lee");
        assert_eq!(default("o'neil+chat@example.co.uk"), "o'neil+chat");
        assert_eq!(default("ann@b\u{FC}cher.example"), "ann");
        // The longest local part an email may have is 64 characters: the default keeps it.
        let longest = format!("{}@example.com", "a".repeat(64));
        assert_eq!(default(&longest), "a".repeat(64));
        for raw in ["ann@example.com", "x@example.com", &longest, "{}|~#$&'*+-/=?^_`@example.com"] {
            let made = default(raw);
            assert_eq!(DisplayName::parse(&made).map(DisplayName::into_string), Ok(made.clone()), "{raw}");
        }
    }

    #[test]
    fn a_default_from_a_stored_email_always_satisfies_the_rules() {
        let stored = DisplayName::default_for_stored_email;
        // Whatever text a stored email holds, the default is a valid name.
        assert_eq!(stored("").as_str(), "user");
        assert_eq!(stored("@example.com").as_str(), "user");
        assert_eq!(stored("\u{202E}\u{200B}@example.com").as_str(), "user");
        assert_eq!(stored("<>@example.com").as_str(), "user");
        assert_eq!(stored("no-at-sign").as_str(), "no-at-sign");
        assert_eq!(stored("a@b@example.com").as_str(), "a@b");
        assert_eq!(stored("An\u{202E}n@example.com").as_str(), "Ann");
        assert_eq!(stored("Rene\u{301}@example.com").as_str(), "Ren\u{E9}");
        assert_eq!(
            stored(&format!("{}@example.com", "\u{4E2D}".repeat(100))).as_str(),
            "\u{4E2D}".repeat(64)
        );
        assert_eq!(stored(&format!(" {} @example.com", "b".repeat(63))).as_str(), "b".repeat(63));
        for raw in ["", "a\tb\n@x", "\u{1F468}\u{200D}\u{1F469}@x", &"\u{E9}".repeat(300), "  \u{3000} @x"] {
            let made = stored(raw).into_string();
            assert_eq!(DisplayName::parse(&made).map(DisplayName::into_string), Ok(made.clone()), "{raw:?}");
        }
    }

    #[test]
    fn the_ascii_shortcut_to_a_default_name_agrees_with_the_general_path() {
        let long = format!("  {} x ", "a".repeat(70));
        let tail_space = format!("{} b", "a".repeat(63));
        for local in [
            "ann.lee",
            " ann ",
            "",
            "   ",
            "o'neil+chat",
            "{}|~!#$%&'*+-/=?^_`",
            &long,
            &tail_space,
            "a b",
            "\\",
        ] {
            let email = format!("{local}@example.com");
            assert_eq!(
                DisplayName::default_for_stored_email(&email).into_string(),
                DisplayName::default_for_any_stored_email(local).into_string(),
                "{local:?}"
            );
        }
    }

    #[test]
    fn debug_never_prints_a_display_name() {
        let n = DisplayName::parse("Private Person").unwrap();
        assert!(!format!("{n:?}").contains("Private"));
        assert_eq!(n.to_string(), "Private Person");
    }
}
