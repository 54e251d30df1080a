//! Finding messages made only of fixed texts and a statement's tag (`` `ALTER TABLE` in a
//! backfill runs with every batch ``), made once per thread and kept for the rest of the
//! run instead of allocated for each finding: on the lint bench tree most of a million
//! findings carry one of a few hundred such messages, and their allocations were a third
//! of the run's.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

thread_local! {
    /// Kept messages by the hash of their text.
    static KEPT: RefCell<HashMap<u64, Vec<&'static str>, BuildHasherDefault<AlreadyHashed>>> =
        RefCell::default();
}

/// `parts` joined, where every part is fixed text (a literal of the rule's code, which is
/// what bounds the messages kept) or `tag` (the statement's tag, passed as a part too). A tag the classifier names (`Cow::Borrowed`) comes from a fixed set, so
/// the messages kept are bounded by the rules' texts times the classifier's tags; a tag
/// made from the statement's own words (an unknown command) is joined afresh each time.
// A `&Cow`, not a `&str`: whether the tag is borrowed is what decides.
#[allow(clippy::ptr_arg)]
pub fn with_tag(tag: &Cow<'static, str>, parts: &[&str]) -> Cow<'static, str> {
    debug_assert!(parts.iter().any(|p| std::ptr::eq(*p, &**tag)));
    match tag {
        Cow::Borrowed(_) => Cow::Borrowed(kept(parts)),
        Cow::Owned(_) => Cow::Owned(parts.concat()),
    }
}

fn kept(parts: &[&str]) -> &'static str {
    // Hashed by where the parts are, not what they say: fixed texts do not move, and
    // hashing their bytes cost more than the allocation saved. (The same text from
    // elsewhere is kept once more; a lookup still compares the text.)
    let hash = parts.iter().fold(0u64, |h, p| {
        let at = (p.as_ptr() as u64) ^ ((p.len() as u64) << 48);
        (h.rotate_left(5) ^ at).wrapping_mul(0x517c_c1b7_2722_0a95)
    });
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        let same_hash = kept.entry(hash).or_default();
        if let Some(message) = same_hash.iter().find(|m| is_joined(m, parts)) {
            return *message;
        }
        // Leaked on purpose: kept for the run, and bounded (see `with_tag`).
        let message: &'static str = Box::leak(parts.concat().into_boxed_str());
        same_hash.push(message);
        message
    })
}

/// Whether `text` is `parts` joined.
fn is_joined(text: &str, parts: &[&str]) -> bool {
    let mut rest = text;
    for part in parts {
        match rest.strip_prefix(part) {
            Some(after) => rest = after,
            None => return false,
        }
    }
    rest.is_empty()
}

/// A hasher for keys that are hashes already.
#[derive(Default)]
struct AlreadyHashed(u64);

impl Hasher for AlreadyHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed here (`write_u64`); any other write still hashes.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_parts_joined_and_kept_once() {
        let tag: Cow<'static, str> = Cow::Borrowed("ALTER TABLE");
        let first = with_tag(&tag, &["`", &tag, "` in a backfill"]);
        assert_eq!(first, "`ALTER TABLE` in a backfill");
        let again = with_tag(&tag, &["`", &tag, "` in a backfill"]);
        // The same kept text, not a copy.
        assert!(std::ptr::eq(&*first, &*again));
        // Parts that join to other texts are other messages, even when their bytes
        // together are the same length.
        let other = with_tag(&tag, &["`", &tag, "` in a backfilX"]);
        assert_eq!(other, "`ALTER TABLE` in a backfilX");
        assert!(is_joined("ab", &["a", "b"]) && !is_joined("abc", &["a", "b"]));
        assert!(!is_joined("a", &["a", "b"]));
        // A tag made from the statement's own words is not kept.
        let unknown: Cow<'static, str> = Cow::Owned("FROB".to_owned());
        let message = with_tag(&unknown, &["`", &unknown, "`"]);
        assert!(matches!(message, Cow::Owned(_)));
        assert_eq!(message, "`FROB`");
    }
}
