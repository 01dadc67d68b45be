//! Durations as operators write them: `"90s"`, `"300ms"`, `"1m30s"`, or a
//! bare number of seconds.

use std::time::Duration;

/// The accepted forms, quoted by every duration error.
pub(crate) const ACCEPTED: &str =
    "expected a duration such as \"90s\", \"300ms\", \"2m\", \"1h\" or \
     \"1m30s\" (units h, m, s, ms, largest first), or a whole number of seconds";

/// Units from largest to smallest, with their length in milliseconds.
const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

/// Parses a duration string: a bare integer (seconds) or one or more
/// `<integer><unit>` parts with units in decreasing order, each at most once.
pub fn parse(text: &str) -> Result<Duration, String> {
    let invalid = || format!("invalid duration {text:?}: {ACCEPTED}");
    if text.is_empty() {
        return Err(format!("empty duration: {ACCEPTED}"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| format!("duration {text:?} is too large"));
    }
    let mut rest = text;
    let mut total_ms: u64 = 0;
    // Index into UNITS of the last unit seen; the next must be smaller.
    let mut last_unit: Option<usize> = None;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, after) = after.split_at(unit_len);
        let index = UNITS
            .iter()
            .position(|(name, _)| *name == unit)
            .ok_or_else(invalid)?;
        if last_unit.is_some_and(|last| index <= last) {
            return Err(invalid());
        }
        last_unit = Some(index);
        let too_large = || format!("duration {text:?} is too large");
        let value: u64 = number.parse().map_err(|_| too_large())?;
        total_ms = value
            .checked_mul(UNITS[index].1)
            .and_then(|ms| ms.checked_add(total_ms))
            .ok_or_else(too_large)?;
        rest = after;
    }
    Ok(Duration::from_millis(total_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_and_compound_forms_are_understood() {
        assert_eq!(parse("300ms"), Ok(Duration::from_millis(300)));
        assert_eq!(parse("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("1h2m3s4ms"), Ok(Duration::from_millis(3_723_004)));
        assert_eq!(parse("0s"), Ok(Duration::ZERO));
    }

    #[test]
    fn a_bare_number_in_a_string_means_seconds() {
        assert_eq!(parse("45"), Ok(Duration::from_secs(45)));
    }

    #[test]
    fn malformed_durations_are_rejected_with_the_accepted_forms() {
        for bad in [
            "", "-5s", "s", "5x", "1.5s", "5 s", " 5s", "30s1m", "1s1s", "1sms", "ms",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("expected a duration"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn overflowing_durations_are_rejected() {
        assert!(parse("99999999999999999999")
            .unwrap_err()
            .contains("too large"));
        assert!(parse("18446744073709551615h")
            .unwrap_err()
            .contains("too large"));
        assert!(parse("18446744073709551615s1ms")
            .unwrap_err()
            .contains("too large"));
    }
}
