//! Keywords as integers: a word of up to 16 ASCII bytes, upper-cased and packed into a
//! `u128`, so classifying a statement compares integers instead of strings, and command
//! tags come from a static table instead of being built.

pub(crate) type Key = u128;

/// Not a keyword: longer than 16 bytes or not ASCII.
pub(crate) const NONE: Key = Key::MAX;

/// The key of a keyword literal, at compile time.
pub(crate) const fn kw(word: &str) -> Key {
    let bytes = word.as_bytes();
    let mut key = 0;
    let mut i = 0;
    while i < bytes.len() {
        key |= (bytes[i].to_ascii_uppercase() as Key) << (8 * i);
        i += 1;
    }
    key
}

/// The key of a word from the input (any case).
#[inline]
pub(crate) fn key_of(word: &[u8]) -> Key {
    if word.len() > 16 {
        return NONE;
    }
    let mut buf = [0u8; 16];
    buf[..word.len()].copy_from_slice(word);
    packed_key(Key::from_le_bytes(buf))
}

/// The key of the word at `start..end` of `src`. Where sixteen bytes are there to read,
/// the word is loaded whole and masked to its length instead of copied byte by byte.
#[inline]
pub(crate) fn key_at(src: &[u8], start: usize, end: usize) -> Key {
    let len = end - start;
    if len > 16 {
        return NONE;
    }
    match src.get(start..start + 16) {
        Some(block) => {
            let block = Key::from_le_bytes(block.try_into().expect("sixteen bytes"));
            let mask = if len == 16 {
                Key::MAX
            } else {
                (1 << (8 * len)) - 1
            };
            packed_key(block & mask)
        }
        None => key_of(&src[start..end]),
    }
}

/// Upper-cases sixteen packed bytes (zero past the word) at once, or `NONE` if one is not
/// ASCII.
#[inline]
fn packed_key(bytes: Key) -> Key {
    const ONES: Key = Key::MAX / 0xff;
    const HIGH_BITS: Key = ONES * 0x80;
    if bytes & HIGH_BITS != 0 {
        return NONE;
    }
    // Every byte is below 0x80, so no addition carries into the next byte: bit 7 of each
    // sum says whether the byte is at least `a`, and whether it is past `z`.
    let from_a = bytes + ONES * (0x80 - b'a' as Key);
    let past_z = bytes + ONES * (0x80 - b'z' as Key - 1);
    let lower = from_a & !past_z & HIGH_BITS;
    bytes - (lower >> 2)
}

/// `(object, second word or 0, [CREATE …, ALTER …, DROP …])`.
type ObjectTags = (Key, Key, [&'static str; 3]);

macro_rules! object_tags {
    ($( $object:literal $( $second:literal )? ),* $(,)?) => {
        &[$((
            kw($object),
            kw(concat!("" $(, $second)?)),
            [
                concat!("CREATE ", $object $(, " ", $second)?),
                concat!("ALTER ", $object $(, " ", $second)?),
                concat!("DROP ", $object $(, " ", $second)?),
            ],
        )),*]
    };
}

/// Objects of CREATE/ALTER/DROP, with the second word of two-word objects.
const OBJECTS: &[ObjectTags] = object_tags![
    "ACCESS" "METHOD", "AGGREGATE", "CAST", "COLLATION", "CONVERSION", "DATABASE", "DEFAULT" "PRIVILEGES",
    "DOMAIN", "EVENT" "TRIGGER", "EXTENSION", "FOREIGN" "TABLE", "FOREIGN" "DATA", "FUNCTION", "GROUP",
    "INDEX", "LANGUAGE", "LARGE" "OBJECT", "MATERIALIZED" "VIEW", "OPERATOR" "CLASS", "OPERATOR" "FAMILY",
    "OPERATOR", "OWNED", "POLICY", "PROCEDURE", "PUBLICATION", "ROLE", "ROUTINE", "RULE", "SCHEMA", "SEQUENCE",
    "SERVER", "STATISTICS", "SUBSCRIPTION", "SYSTEM", "TABLE", "TABLESPACE", "TEXT" "SEARCH", "TRANSFORM",
    "TRIGGER", "TYPE", "USER" "MAPPING", "USER", "VIEW",
];

/// `OBJECTS` sorted by (object, second) for binary search, at compile time.
static SORTED_OBJECTS: [ObjectTags; OBJECTS.len()] = sorted(OBJECTS);

const fn sorted<const N: usize>(objects: &[ObjectTags]) -> [ObjectTags; N] {
    let mut out = [(0, 0, [""; 3]); N];
    let mut i = 0;
    while i < N {
        out[i] = objects[i];
        // Insertion sort: `const fn` has no sort, and the table is small.
        let mut j = i;
        while j > 0
            && (out[j - 1].0 > out[j].0 || (out[j - 1].0 == out[j].0 && out[j - 1].1 > out[j].1))
        {
            let swap = out[j - 1];
            out[j - 1] = out[j];
            out[j] = swap;
            j -= 1;
        }
        i += 1;
    }
    out
}

/// Slots of the hash index over `SORTED_OBJECTS`: a power of two, well above the number
/// of objects so that probes are short.
const INDEX_SLOTS: usize = 128;

/// Where each object's entries are in `SORTED_OBJECTS`: `(object, from, to)` by the hash of
/// the object, probed linearly; an object key of 0 marks an empty slot. Built at compile
/// time: a lookup is a multiplication and a compare or two, where a binary search over
/// the table mispredicted its branches on every statement.
static OBJECT_INDEX: [(Key, u8, u8); INDEX_SLOTS] = object_index();

const fn slot_of(object: Key) -> usize {
    let folded = (object as u64) ^ ((object >> 64) as u64);
    (folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - INDEX_SLOTS.trailing_zeros())) as usize
}

const fn object_index() -> [(Key, u8, u8); INDEX_SLOTS] {
    let mut index = [(0, 0, 0); INDEX_SLOTS];
    let mut from = 0;
    while from < SORTED_OBJECTS.len() {
        let object = SORTED_OBJECTS[from].0;
        let mut to = from;
        while to < SORTED_OBJECTS.len() && SORTED_OBJECTS[to].0 == object {
            to += 1;
        }
        let mut slot = slot_of(object);
        while index[slot].0 != 0 {
            slot = (slot + 1) % INDEX_SLOTS;
        }
        index[slot] = (object, from as u8, to as u8);
        from = to;
    }
    index
}

/// The entries for `object`: a contiguous slice of the sorted table.
fn entries(object: Key) -> &'static [ObjectTags] {
    let mut slot = slot_of(object);
    loop {
        let (key, from, to) = OBJECT_INDEX[slot];
        if key == object {
            return &SORTED_OBJECTS[from as usize..to as usize];
        }
        if key == 0 {
            return &[];
        }
        slot = (slot + 1) % INDEX_SLOTS;
    }
}

/// Whether `object` starts a two-word object name (`MATERIALIZED VIEW`, …).
pub(crate) fn takes_second_word(object: Key) -> bool {
    entries(object).iter().any(|(_, second, _)| *second != 0)
}

/// The static tag of `verb` (CREATE, ALTER or DROP) on `object` [`second`].
pub(crate) fn object_tag(verb: Key, object: Key, second: Key) -> Option<&'static str> {
    let index = match verb {
        v if v == kw("CREATE") => 0,
        v if v == kw("ALTER") => 1,
        v if v == kw("DROP") => 2,
        _ => return None,
    };
    let candidates = entries(object);
    let exact = candidates.iter().find(|(_, s, _)| *s == second && *s != 0);
    let single = || candidates.iter().find(|(_, s, _)| *s == 0);
    exact.or_else(single).map(|(_, _, tags)| {
        let tag = tags[index];
        // `FOREIGN DATA` is the start of `FOREIGN DATA WRAPPER`.
        match tag.strip_suffix(" DATA") {
            Some(_) => [
                "CREATE FOREIGN DATA WRAPPER",
                "ALTER FOREIGN DATA WRAPPER",
                "DROP FOREIGN DATA WRAPPER",
            ][index],
            None => tag,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_and_reject_long_or_non_ascii_words() {
        assert_eq!(key_of(b"select"), kw("SELECT"));
        assert_eq!(key_of(b"SeLeCt"), kw("select"));
        assert_eq!(key_of("sélect".as_bytes()), NONE);
        assert_eq!(key_of(b"a_very_long_identifier"), NONE);
        assert_eq!(key_of(b"az_AZ@[`{09"), kw("AZ_AZ@[`{09"));
        let src = b"select sixteen_bytes_word x";
        assert_eq!(key_at(src, 0, 6), kw("SELECT"));
        assert_eq!(key_at(src, 7, 23), kw("SIXTEEN_BYTES_WO"));
        assert_eq!(key_at(src, 7, 24), NONE);
        // Near the end there are not sixteen bytes to load.
        assert_eq!(key_at(src, 26, 27), kw("X"));
        assert_eq!(key_at("é".as_bytes(), 0, 2), NONE);
        assert_ne!(kw("CONCURRENTLY"), kw("CONCURRENT"));
    }

    #[test]
    fn object_tags_cover_one_and_two_word_objects() {
        assert_eq!(
            object_tag(kw("CREATE"), kw("TABLE"), 0),
            Some("CREATE TABLE")
        );
        assert_eq!(
            object_tag(kw("DROP"), kw("MATERIALIZED"), kw("VIEW")),
            Some("DROP MATERIALIZED VIEW")
        );
        assert_eq!(
            object_tag(kw("ALTER"), kw("OPERATOR"), kw("FAMILY")),
            Some("ALTER OPERATOR FAMILY")
        );
        assert_eq!(
            object_tag(kw("ALTER"), kw("OPERATOR"), 0),
            Some("ALTER OPERATOR")
        );
        assert_eq!(
            object_tag(kw("CREATE"), kw("FOREIGN"), kw("DATA")),
            Some("CREATE FOREIGN DATA WRAPPER")
        );
        assert_eq!(object_tag(kw("CREATE"), kw("FROB"), 0), None);
        assert_eq!(object_tag(kw("CREATE"), 0, 0), None);
        // Every object is found through the index, with all its entries.
        for (object, second, tags) in OBJECTS {
            assert!(
                entries(*object)
                    .iter()
                    .any(|(_, s, t)| s == second && t == tags)
            );
        }
        assert!(takes_second_word(kw("MATERIALIZED")) && !takes_second_word(kw("TABLE")));
    }
}
