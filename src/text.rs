//! Text from operators on its way to logs and terminals.
//!
//! A `--reason` (or a VIP an operator typed) is stored, logged, passed to
//! hooks and shown by `herald status`. Raw, a newline in it would forge a
//! log line, an escape sequence would drive the terminal of whoever reads
//! the log or the status (clear it, retitle it, hide text), and a Unicode
//! bidirectional control would show the text in another order than it
//! has. [`escape_controls`] is the one place that defuses all three; it is
//! applied where a request is accepted and where text reaches a terminal.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every control character (C0, DEL, C1) and every
/// bidirectional formatting character written as an escape: `\n`, `\r`,
/// `\t`, else `\u{..}` with the code point in hex. Anything else is kept
/// as it is, so ordinary text comes back unchanged and unallocated.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Control characters, and the marks and overrides of Unicode's
/// bidirectional algorithm (UAX #9): ALM, LRM, RLM, LRE..RLO, LRI..PDI.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_text_is_kept_unchanged_and_borrowed() {
        let text = "disk replacement, ticket 4711 — «urgent» 🔧";
        assert!(matches!(escape_controls(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn newlines_escapes_and_bidi_overrides_cannot_reach_a_log_or_terminal() {
        let text = "ok\nWARN forged line\x1b[2J\x07\u{202e}txt.exe\u{85}";
        assert_eq!(
            escape_controls(text),
            "ok\\nWARN forged line\\u{1b}[2J\\u{7}\\u{202e}txt.exe\\u{85}"
        );
    }
}
