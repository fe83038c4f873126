//! The caller's own keys for folders and processes (docs/design.md §15.3): an integrator
//! names what it already has an id for, and reports usage against it without storing ours.

/// The longest external key accepted, in characters.
pub const MAX_EXTERNAL_KEY_LENGTH: usize = 200;

/// Refuses a key that is empty or longer than [`MAX_EXTERNAL_KEY_LENGTH`] characters. A key
/// is not trimmed: it is matched exactly as sent.
pub fn check_external_key(key: &str) -> Result<(), String> {
    let length = key.chars().count();
    if length == 0 || length > MAX_EXTERNAL_KEY_LENGTH {
        return Err(format!(
            "must have 1 to {MAX_EXTERNAL_KEY_LENGTH} characters; this one has {length}"
        ));
    }
    Ok(())
}

/// Refuses naming one thing both by id and by key: which one would win is a guess.
pub fn check_id_or_key(
    thing: &str,
    id_field: &str,
    key_field: &str,
    has_id: bool,
    has_key: bool,
) -> Result<(), String> {
    if has_id && has_key {
        return Err(format!("name the {thing} by {id_field} or by {key_field}, not both"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_has_1_to_200_characters_counted_as_characters() {
        assert!(check_external_key("").unwrap_err().contains("has 0"));
        assert!(check_external_key("k").is_ok());
        assert!(check_external_key(&"é".repeat(200)).is_ok());
        assert!(check_external_key(&"é".repeat(201)).unwrap_err().contains("has 201"));
    }

    #[test]
    fn an_id_and_a_key_for_the_same_thing_are_refused() {
        assert!(check_id_or_key("process", "processId", "processKey", true, false).is_ok());
        assert!(check_id_or_key("process", "processId", "processKey", false, true).is_ok());
        let refusal = check_id_or_key("process", "processId", "processKey", true, true).unwrap_err();
        assert!(refusal.contains("processId") && refusal.contains("processKey"));
    }
}
