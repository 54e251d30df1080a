//! Finding messages made only of fixed texts and a statement's tag (`` `ALTER TABLE` in a
//! backfill runs with every batch ``), made once per thread and kept for the rest of the
//! run instead of allocated for each finding: on the lint bench tree most of a million
//! findings carry one of a few hundred such messages, and their allocations were a third
//! of the run's.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A piece of a message: fixed text of a rule's code, or the statement's tag.
#[derive(Clone, Copy)]
pub enum Part {
    Text(&'static str),
    Tag,
}

/// Where each part of a kept message was (`identity`), and the message.
type Kept = (Box<[(usize, usize)]>, &'static str);

thread_local! {
    /// Kept messages by a hash of their parts' identities.
    static KEPT: RefCell<HashMap<u64, Vec<Kept>, BuildHasherDefault<AlreadyHashed>>> =
        RefCell::default();
}

/// `parts` joined, `Part::Tag` standing for `tag`. A tag the classifier names
/// (`Cow::Borrowed`) comes from a fixed set, so the messages kept are bounded by the
/// rules' texts times the classifier's tags; a tag made from the statement's own words (an
/// unknown command) is joined afresh each time.
// A `&Cow`, not a `&str`: whether the tag is borrowed is what decides.
#[allow(clippy::ptr_arg)]
pub fn with_tag(tag: &Cow<'static, str>, parts: &[Part]) -> Cow<'static, str> {
    match tag {
        Cow::Borrowed(tag) => Cow::Borrowed(kept(tag, parts)),
        Cow::Owned(tag) => Cow::Owned(join(tag, parts)),
    }
}

fn join(tag: &str, parts: &[Part]) -> String {
    let text = |part: &Part| match *part {
        Part::Text(text) => text,
        Part::Tag => tag,
    };
    let mut joined = String::with_capacity(parts.iter().map(|p| text(p).len()).sum());
    for part in parts {
        joined.push_str(text(part));
    }
    joined
}

fn kept(tag: &'static str, parts: &[Part]) -> &'static str {
    // Known by where the parts are, not what they say: every part is `'static`, so its
    // address is its own for the whole run, and hashing or comparing the bytes cost more
    // than the allocation saved. (The same text from elsewhere is kept once more.)
    let identities = || {
        parts.iter().map(move |part| match *part {
            Part::Text(text) => identity(text),
            Part::Tag => identity(tag),
        })
    };
    let hash = identities().fold(0u64, |h, (at, len)| {
        (h.rotate_left(5) ^ at as u64 ^ ((len as u64) << 48)).wrapping_mul(0x517c_c1b7_2722_0a95)
    });
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        let same_hash = kept.entry(hash).or_default();
        let same_parts =
            |(ids, _): &&Kept| ids.len() == parts.len() && ids.iter().copied().eq(identities());
        if let Some((_, message)) = same_hash.iter().find(same_parts) {
            return *message;
        }
        // Leaked on purpose: kept for the run, and bounded (see `with_tag`).
        let message: &'static str = Box::leak(join(tag, parts).into_boxed_str());
        same_hash.push((identities().collect(), message));
        message
    })
}

/// Where a part's text is: its address and length.
fn identity(text: &'static str) -> (usize, usize) {
    (text.as_ptr() as usize, text.len())
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
        use Part::{Tag, Text};
        let tag: Cow<'static, str> = Cow::Borrowed("ALTER TABLE");
        let first = with_tag(&tag, &[Text("`"), Tag, Text("` in a backfill")]);
        assert_eq!(first, "`ALTER TABLE` in a backfill");
        let again = with_tag(&tag, &[Text("`"), Tag, Text("` in a backfill")]);
        // The same kept text, not a copy.
        assert!(std::ptr::eq(&*first, &*again));
        // Parts that join to other texts are other messages, even when their bytes
        // together are the same length.
        let other = with_tag(&tag, &[Text("`"), Tag, Text("` in a backfilX")]);
        assert_eq!(other, "`ALTER TABLE` in a backfilX");
        // Another tag in the same place is another message.
        let drop: Cow<'static, str> = Cow::Borrowed("DROP TABLE");
        let dropped = with_tag(&drop, &[Text("`"), Tag, Text("` in a backfill")]);
        assert_eq!(dropped, "`DROP TABLE` in a backfill");
        // A tag made from the statement's own words is not kept.
        let unknown: Cow<'static, str> = Cow::Owned("FROB".to_owned());
        let message = with_tag(&unknown, &[Text("`"), Tag, Text("`")]);
        assert!(matches!(message, Cow::Owned(_)));
        assert_eq!(message, "`FROB`");
    }
}
