//! The server's duplicate window (spec §8.2): the last 16 `_unique_id`s seen by a listener.

use std::collections::VecDeque;

/// How many recent ids oslo remembers per listener.
const WINDOW: usize = 16;

/// The most recent `_unique_id`s, oldest first.
#[derive(Debug, Default)]
pub(super) struct DuplicateWindow {
    recent: VecDeque<String>,
}

impl DuplicateWindow {
    /// Records `id`; false when it is among the last 16 (a duplicate to drop).
    pub(super) fn insert(&mut self, id: &str) -> bool {
        if self.recent.iter().any(|seen| seen == id) {
            return false;
        }
        if self.recent.len() == WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(id.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_exactly_the_last_sixteen() {
        let mut window = DuplicateWindow::default();
        assert!(window.insert("a"));
        assert!(!window.insert("a"));
        for i in 0..15 {
            assert!(window.insert(&i.to_string()));
        }
        assert!(!window.insert("a"), "a is the 16th most recent");
        assert!(window.insert("15"));
        assert!(window.insert("a"), "a fell out of the window");
    }
}
