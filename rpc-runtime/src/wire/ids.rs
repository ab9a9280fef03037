//! Message ids: `_msg_id` and `_unique_id` are uuid4 hex strings (spec §8.6).

/// A fresh uuid4 as 32 lower-case hex characters, the form oslo uses for every id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_32_lower_hex_and_distinct() {
        let (a, b) = (super::new_id(), super::new_id());
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        );
        assert_ne!(a, b);
    }
}
