//! The one error type of the JSON codec.

use std::fmt;

/// An error from encoding or decoding JSON.
///
/// Parse errors carry the byte offset where the input went wrong, plus the 1-based line and
/// column (in bytes) of that offset. Errors raised while encoding, and errors raised by a
/// `Deserialize` impl that are not tied to the input, may have no position.
///
/// `Display` is a single line, e.g. `expected ',' or ']' at line 1, column 7 (byte 6)`.
#[derive(Debug, thiserror::Error)]
#[error("{inner}")]
pub struct JsonError {
    // Boxed so that `Result<T, JsonError>` stays one pointer wide on the hot path.
    inner: Box<Inner>,
}

#[derive(Debug)]
struct Inner {
    message: String,
    position: Option<Position>,
}

#[derive(Debug, Clone, Copy)]
struct Position {
    offset: usize,
    line: usize,
    column: usize,
}

impl JsonError {
    /// An error without a position.
    pub(super) fn new(message: impl Into<String>) -> Self {
        JsonError {
            inner: Box::new(Inner {
                message: message.into(),
                position: None,
            }),
        }
    }

    /// An error at byte `offset` of `input`; line and column are derived from the input.
    pub(super) fn at(message: impl Into<String>, input: &[u8], offset: usize) -> Self {
        let mut error = JsonError::new(message);
        error.locate(input, offset);
        error
    }

    /// Attaches a position unless the error already has one.
    pub(super) fn locate(&mut self, input: &[u8], offset: usize) {
        if self.inner.position.is_some() {
            return;
        }
        let offset = offset.min(input.len());
        let before = &input[..offset];
        let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        self.inner.position = Some(Position {
            offset,
            line,
            column: offset - line_start + 1,
        });
    }

    /// The message, without the position.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The byte offset in the input where parsing failed, if known.
    pub fn offset(&self) -> Option<usize> {
        self.inner.position.map(|p| p.offset)
    }

    /// The 1-based line of [`offset`](Self::offset), if known.
    pub fn line(&self) -> Option<usize> {
        self.inner.position.map(|p| p.line)
    }

    /// The 1-based column, counted in bytes, of [`offset`](Self::offset), if known.
    pub fn column(&self) -> Option<usize> {
        self.inner.position.map(|p| p.column)
    }
}

impl fmt::Display for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(p) = self.position {
            write!(
                f,
                " at line {}, column {} (byte {})",
                p.line, p.column, p.offset
            )?;
        }
        Ok(())
    }
}

impl serde::ser::Error for JsonError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        JsonError::new(msg.to_string())
    }
}

impl serde::de::Error for JsonError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        JsonError::new(msg.to_string())
    }

    /// Names JSON `null` as such (serde says "unit value"), as serde_json does: typed
    /// endpoints put this text in the `TypeError` a peer sees.
    fn invalid_type(
        unexpected: serde::de::Unexpected<'_>,
        expected: &dyn serde::de::Expected,
    ) -> Self {
        match unexpected {
            serde::de::Unexpected::Unit => {
                JsonError::new(format!("invalid type: null, expected {expected}"))
            }
            other => JsonError::new(format!("invalid type: {other}, expected {expected}")),
        }
    }
}
