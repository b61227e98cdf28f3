//! What every setting's parser shares: the one-line error naming the variable, and
//! whole numbers in a range.

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
        Self { var, reason: reason.into() }
    }
}

/// A whole number within `min..=max`.
pub fn parse_in_range(var: &'static str, raw: &str, min: u64, max: u64) -> Result<u64, ConfigError> {
    let value: u64 =
        raw.parse().map_err(|_| ConfigError::new(var, format!("{raw:?} is not a whole number")))?;
    if !(min..=max).contains(&value) {
        return Err(ConfigError::new(var, format!("{value} is out of range {min}..={max}")));
    }
    Ok(value)
}
