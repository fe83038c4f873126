//! Rules for voiding recorded usage (`voidUsage`, docs/design.md §15.6).
//!
//! A request names at most [`MAX_BATCH`] idempotency keys (as many as `recordUsage` takes,
//! so a batch recorded by mistake is voided in one call); a key given twice counts once.
//! The reason is trimmed and holds 1 to [`MAX_REASON_LENGTH`] characters.

use super::ingestion::MAX_BATCH;

/// The longest reason accepted.
pub const MAX_REASON_LENGTH: usize = 500;
/// How many unknown keys a refusal names; the rest are counted.
pub const NAMED_UNKNOWN_KEYS: usize = 5;

/// The keys of a request, each once in the order given, and its trimmed reason; or the
/// refusal, naming the field.
pub fn check_request(keys: &[String], reason: &str) -> Result<(Vec<String>, String), String> {
    let mut unique: Vec<String> = Vec::with_capacity(keys.len());
    let mut seen = std::collections::HashSet::new();
    for key in keys {
        if seen.insert(key.as_str()) {
            unique.push(key.clone());
        }
    }
    if unique.is_empty() {
        return Err("idempotencyKeys: give at least one key".into());
    }
    if unique.len() > MAX_BATCH {
        return Err(format!(
            "idempotencyKeys: at most {MAX_BATCH} keys at once; got {}",
            unique.len()
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err("reason: must not be empty".into());
    }
    if reason.chars().count() > MAX_REASON_LENGTH {
        return Err(format!("reason: is longer than {MAX_REASON_LENGTH} characters"));
    }
    Ok((unique, reason.to_owned()))
}

/// The refusal of a request with keys no event of the organization has (`unknown`, in the
/// order given, at least one): the first few, and how many more.
pub fn unknown_keys(unknown: &[String]) -> String {
    let named: Vec<String> = unknown
        .iter()
        .take(NAMED_UNKNOWN_KEYS)
        .map(|k| format!("'{k}'"))
        .collect();
    let more = unknown.len().saturating_sub(NAMED_UNKNOWN_KEYS);
    let tail = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    format!(
        "idempotencyKeys: no usage event of this organization has the key {}{tail}; nothing was voided",
        named.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn requests() {
        let long = "x".repeat(MAX_REASON_LENGTH + 1);
        let longest = "é".repeat(MAX_REASON_LENGTH);
        let too_many: Vec<String> = (0..=MAX_BATCH).map(|i| i.to_string()).collect();
        let at_most: Vec<String> = (0..MAX_BATCH).map(|i| i.to_string()).collect();
        // keys, reason → Ok(keys, reason) or the start of the refusal
        type Case<'a> = (Vec<String>, &'a str, Result<(Vec<String>, String), &'a str>);
        let cases: Vec<Case<'_>> = vec![
            (keys(&["a", "b"]), " typo ", Ok((keys(&["a", "b"]), "typo".into()))),
            (keys(&["b", "a", "b"]), "x", Ok((keys(&["b", "a"]), "x".into()))),
            (keys(&[]), "x", Err("idempotencyKeys: give at least one")),
            (keys(&["a"]), "  ", Err("reason: must not be empty")),
            (keys(&["a"]), &long, Err("reason: is longer than 500")),
            (keys(&["a"]), &longest, Ok((keys(&["a"]), longest.clone()))),
            (too_many, "x", Err("idempotencyKeys: at most 10000 keys")),
            (at_most.clone(), "x", Ok((at_most, "x".into()))),
        ];
        for (given, reason, expected) in cases {
            let got = check_request(&given, reason);
            match (&got, expected) {
                (Ok(got), Ok(expected)) => assert_eq!(*got, expected, "{reason}"),
                (Err(got), Err(start)) => assert!(got.starts_with(start), "{got}"),
                _ => panic!("{reason}: got {got:?}"),
            }
        }
    }

    #[test]
    fn unknown_keys_are_named_then_counted() {
        assert_eq!(
            unknown_keys(&keys(&["k1"])),
            "idempotencyKeys: no usage event of this organization has the key 'k1'; nothing was voided"
        );
        let seven = keys(&["a", "b", "c", "d", "e", "f", "g"]);
        assert!(unknown_keys(&seven).contains("'a', 'b', 'c', 'd', 'e' and 2 more;"));
    }
}
