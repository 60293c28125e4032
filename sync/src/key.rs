//! Pre-shared sync keys: 32 random bytes, kept in a file as 64 hexadecimal characters.
//!
//! The key is a shared secret: every replica that may sync with a server holds the same key,
//! and holding it is the whole of the authorization. It is used only as the Noise `psk`.

use std::path::Path;

/// Generates a fresh key from the operating system's random source.
pub fn generate_key() -> Result<[u8; 32], String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| format!("the system random source failed: {e}"))?;
    Ok(key)
}

/// The key as 64 lowercase hexadecimal characters, the form [`load_key`] reads.
pub fn key_to_hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses 64 hexadecimal characters (surrounding whitespace allowed) into a key.
pub fn parse_key(text: &str) -> Result<[u8; 32], String> {
    let text = text.trim();
    if text.len() != 64 || !text.is_ascii() {
        return Err(format!(
            "a sync key is 64 hexadecimal characters; this one has {} characters",
            text.chars().count()
        ));
    }
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        let pair = &text[2 * i..2 * i + 2];
        *byte = u8::from_str_radix(pair, 16).map_err(|_| {
            format!(
                "a sync key is hexadecimal; {pair:?} at character {} is not",
                2 * i + 1
            )
        })?;
    }
    Ok(key)
}

/// Reads a key file (64 hexadecimal characters).
pub fn load_key(path: &Path) -> Result<[u8; 32], String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("reading the sync key {}: {e}", path.display()))?;
    parse_key(&text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_hex_and_files() {
        let key = generate_key().unwrap();
        assert_ne!(key, generate_key().unwrap());
        assert_eq!(
            parse_key(&format!("  {}\n", key_to_hex(&key))).unwrap(),
            key
        );
        let dir = std::env::temp_dir().join(format!("pomo-sync-key-{}", std::process::id()));
        std::fs::write(&dir, key_to_hex(&key)).unwrap();
        assert_eq!(load_key(&dir).unwrap(), key);
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn bad_keys_are_refused_with_a_reason() {
        assert!(parse_key("abc").unwrap_err().contains("64 hexadecimal"));
        let bad = format!("{}zz", "0".repeat(62));
        assert!(parse_key(&bad).unwrap_err().contains("\"zz\""));
        assert!(parse_key(&"é".repeat(32)).is_err());
        assert!(
            load_key(Path::new("/nonexistent/pomo.key"))
                .unwrap_err()
                .contains("reading")
        );
    }
}
