//! A custom rule's regex searched statement by statement, as if every statement were a
//! text of its own, for about the cost of one search of the file.
//!
//! (Measured and not used for the comments `backfill-comment` searches: they are a small
//! part of a file, and a search of the whole file cost three times the searches of each.)

use std::ops::Range;

use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use crate::sql::find::find_ignoring_ascii_case;

pub struct SpanPattern {
    pub regex: Regex,
    /// The pattern has no `^`, `$`, `\A`, `\z` or `\B` (judged on its text, so a `[^…]`
    /// class counts as an anchor too: that only costs speed). Then any match inside a
    /// span is also a match in the whole text, and one search of the text can rule most
    /// spans out: the spans searched start and end next to non-word bytes (a statement
    /// next to `;`, a space or a blanked comment), so word boundaries hold in both.
    unanchored: bool,
    /// Literals one of which starts every match, when the pattern has a short set of them.
    prefixes: Option<Prefixes>,
}

/// A search for the literals that start every match of a pattern: a span holding none of
/// them holds no match. Unlike the regex's own prefilter, this stops at the span: a whole-
/// text search for `TRUNCATE.*CASCADE` ran on from every `TRUNCATE` to the next `CASCADE`,
/// statements away (5% of a lint of the bench tree, where `truncate` is common).
///
/// Literals are ASCII-lower-cased and found in any ASCII case: finding more than the
/// literals (other cases) only adds spans to search.
struct Prefixes {
    finder: Finder,
    /// No literal holds a space, the byte masking writes: a literal found in the masked
    /// text is in the raw text too, so the raw text can rule spans out before it is masked.
    spaceless: bool,
}

enum Finder {
    /// A few literals of four bytes or more, each searched on its own with
    /// `find_ignoring_ascii_case`: half the instructions a byte of the regex crate's
    /// literal search, and most custom patterns start with one word.
    Words(Vec<Vec<u8>>),
    /// Any other set, as one case-insensitive alternation, which the regex crate searches
    /// with SIMD on the literals' first bytes in every case.
    Alternation(Regex),
}

impl Prefixes {
    /// Literals shorter than this are too common to rule much out.
    const MIN_LEN: usize = 3;
    /// More literals than this make a slow search.
    const MAX_COUNT: usize = 64;
    /// Up to this many literals of four bytes or more are searched one by one.
    const MAX_WORDS: usize = 4;

    fn of(pattern: &str) -> Option<Prefixes> {
        // Parsed as `Regex::new` parses (it already accepted the pattern).
        let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
        // The default limit (250) would cut `(?i)truncate`'s 256 spellings down to a few
        // letters; folded below, they are one word.
        let literals = Extractor::new()
            .kind(ExtractKind::Prefix)
            .limit_total(4096)
            .extract(&hir);
        let mut folded: Vec<Vec<u8>> = literals
            .literals()?
            .iter()
            .map(|l| l.as_bytes().to_ascii_lowercase())
            .collect();
        folded.sort_unstable();
        folded.dedup();
        if folded.is_empty()
            || folded.len() > Self::MAX_COUNT
            || folded.iter().any(|l| l.len() < Self::MIN_LEN)
        {
            return None;
        }
        let spaceless = folded.iter().all(|l| !l.contains(&b' '));
        let finder = if folded.len() <= Self::MAX_WORDS && folded.iter().all(|l| l.len() >= 4) {
            Finder::Words(folded)
        } else {
            let words: Vec<String> = folded
                .iter()
                .map(|l| std::str::from_utf8(l).ok().map(regex::escape))
                .collect::<Option<_>>()?;
            Finder::Alternation(Regex::new(&format!("(?i:{})", words.join("|"))).ok()?)
        };
        Some(Prefixes { finder, spaceless })
    }

    /// The indices of the spans of `items` where one of the literals starts, in order.
    fn spans_holding<T>(
        &self,
        text: &str,
        items: &[T],
        span: impl Fn(&T) -> Range<usize>,
    ) -> Vec<usize> {
        let mut found = Vec::new();
        // Each word's next start at or after `from` (`None`: no more), so that each is
        // searched once over the text whatever the others find.
        let mut next_of_word: Vec<Option<usize>> = match &self.finder {
            Finder::Words(words) => words
                .iter()
                .map(|word| find_ignoring_ascii_case(text.as_bytes(), word))
                .collect(),
            Finder::Alternation(_) => Vec::new(),
        };
        let mut first_from = |from: usize| match &self.finder {
            Finder::Words(words) => {
                for (word, next) in words.iter().zip(&mut next_of_word) {
                    if next.is_some_and(|at| at < from) {
                        *next = text
                            .as_bytes()
                            .get(from..)
                            .and_then(|rest| find_ignoring_ascii_case(rest, word))
                            .map(|at| from + at);
                    }
                }
                next_of_word.iter().flatten().min().copied()
            }
            Finder::Alternation(regex) => regex.find_at(text, from).map(|m| m.start()),
        };
        let (mut from, mut next) = (0, 0);
        while let Some(start) = first_from(from) {
            // The first span that ends after the literal's start.
            next += items[next..].partition_point(|item| span(item).end <= start);
            let Some(item) = items.get(next) else {
                break;
            };
            let item_span = span(item);
            if item_span.start <= start {
                found.push(next);
                next += 1;
                from = item_span.end;
            } else {
                // The literal starts between spans: look on from the next span.
                from = item_span.start;
            }
        }
        found
    }
}

impl SpanPattern {
    pub fn new(regex: Regex) -> Self {
        let text = regex.as_str();
        let unanchored =
            !text.contains(['^', '$']) && !["\\A", "\\z", "\\B"].iter().any(|a| text.contains(a));
        let prefixes = Prefixes::of(text);
        SpanPattern {
            regex,
            unanchored,
            prefixes,
        }
    }

    /// For each of `items` (whose `span`s in the text are in order and disjoint) where the
    /// pattern matches within the span of the masked text alone: its index and the bytes
    /// of its first match. `raw` is the text, `masked` gives it with comments and literals
    /// blanked (same offsets), made only when needed: most files hold no candidate.
    ///
    /// A pattern with a set of prefix literals searches only the spans holding one. Else,
    /// calling the regex once per span costs more in setup than in searching, so an
    /// unanchored pattern searches the whole text: no span that ends before the earliest
    /// match in the text ends can hold a match, and only the span where that match ends
    /// is searched on its own.
    pub fn first_in_each<'m, T>(
        &self,
        raw: &str,
        masked: impl Fn() -> &'m str,
        items: &[T],
        span: impl Fn(&T) -> Range<usize>,
    ) -> Vec<(usize, Range<usize>)> {
        let in_span = |text: &str, i: usize| {
            let span = span(&items[i]);
            let hit = self.regex.find(&text[span.clone()])?;
            Some((i, span.start + hit.start()..span.start + hit.end()))
        };
        if let Some(prefixes) = &self.prefixes {
            let candidates = if prefixes.spaceless {
                prefixes.spans_holding(raw, items, &span)
            } else {
                prefixes.spans_holding(masked(), items, &span)
            };
            if candidates.is_empty() {
                return Vec::new();
            }
            let text = masked();
            return candidates
                .into_iter()
                .filter_map(|i| in_span(text, i))
                .collect();
        }
        let text = masked();
        if !self.unanchored {
            return (0..items.len()).filter_map(|i| in_span(text, i)).collect();
        }
        let mut hits = Vec::new();
        let (mut from, mut next) = (0, 0);
        // The earliest end of any match from `from` on (not `find`'s leftmost match: a
        // greedy `[\s\S]*` would scan to the end of the text for every candidate).
        while let Some(end) = self.regex.shortest_match_at(text, from) {
            next += items[next..].partition_point(|item| span(item).end < end);
            let Some(item) = items.get(next) else {
                break;
            };
            let item_span = span(item);
            if item_span.start > end {
                // The match ended in the bytes between spans.
                from = item_span.start;
                continue;
            }
            hits.extend(in_span(text, next));
            from = item_span.end;
            next += 1;
        }
        hits
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every span searched on its own: what `first_in_each` must agree with.
    pub(crate) fn each(
        pattern: &SpanPattern,
        text: &str,
        spans: &[Range<usize>],
    ) -> Vec<(usize, Range<usize>)> {
        spans
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let hit = pattern.regex.find(&text[s.clone()])?;
                Some((i, s.start + hit.start()..s.start + hit.end()))
            })
            .collect()
    }

    #[test]
    fn anchors_and_non_boundaries_make_a_pattern_span_by_span() {
        for (pattern, unanchored) in [
            (r"(?i)\bbackfill\b", true),
            (r"^DROP", false),
            (r"x$", false),
            (r"\Ax", false),
            (r"\Bfill", false),
            (r"[^a]b", false),
        ] {
            assert_eq!(
                SpanPattern::new(Regex::new(pattern).unwrap()).unanchored,
                unanchored,
                "{pattern}"
            );
        }
    }

    #[test]
    fn prefix_literals_are_used_where_every_match_starts_with_one() {
        let prefixed = |p: &str| SpanPattern::new(Regex::new(p).unwrap()).prefixes.is_some();
        for pattern in [
            r"(?is)\bTRUNCATE\b.*\bCASCADE\b",
            r"(?i)\bback-?fill\b",
            r"DROP\s+TABLE",
            r"^DROP",
            r"(ab|cd)e",
        ] {
            assert!(prefixed(pattern), "{pattern}");
        }
        // A match may start with (nearly) anything, or with literals too short to rule
        // much out.
        for pattern in [r"-*", r"\w+fill", r"(?i)[a-z]*back", r".", r"x?", r"(a|b)c"] {
            assert!(!prefixed(pattern), "{pattern}");
        }
    }

    #[test]
    fn matches_outside_spans_and_across_them_are_not_found() {
        let pattern = SpanPattern::new(Regex::new(r"(?i)\bback-?fill\b").unwrap());
        //          0         1         2         3         4
        //          0123456789012345678901234567890123456789012345
        let text = "backfill -- no\nSELECT 1 -- later: BACKFILL x\n";
        let spans = [9..14, 24..44];
        assert_eq!(
            pattern.first_in_each(text, || text, &spans, |s| s.clone()),
            [(1, 34..42)]
        );
        // A match that starts before a span and ends in it is no match of the span.
        let across = SpanPattern::new(Regex::new(r"1 -- l").unwrap());
        assert!(
            across
                .first_in_each(text, || text, &spans, |s| s.clone())
                .is_empty()
        );
        // An empty match is a match of the span it is in, and loops nowhere.
        let empty = SpanPattern::new(Regex::new(r"z*").unwrap());
        assert_eq!(
            empty.first_in_each(text, || text, &spans, |s| s.clone()),
            each(&empty, text, &spans)
        );
    }

    proptest::proptest! {
        /// The whole-text search finds exactly what searching each span would.
        #[test]
        fn first_in_each_agrees_with_searching_each_span(
            words in proptest::collection::vec(proptest::sample::select(vec![
                "backfill", "Back-fill", "x", " ", "\n", "--", "populated", "fillback", "-",
            ]), 0..30),
            cuts in proptest::collection::vec(0usize..200, 0..12),
            pattern in proptest::sample::select(vec![
                r"(?i)\bback-?fill\b", r"(?i)populat(e|ed)", r"x\s*-", r"fill[\s\S]*back", r"-*",
                r"\w+fill", r"(?i)[a-z]*back",
            ]),
        ) {
            let text = words.concat();
            // Disjoint, ordered spans from the cut points (every boundary a char boundary:
            // the words are ASCII).
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            cuts.sort_unstable();
            cuts.dedup();
            let spans: Vec<Range<usize>> = cuts.chunks_exact(2).map(|c| c[0]..c[1]).collect();
            let pattern = SpanPattern::new(Regex::new(pattern).unwrap());
            // Only spans whose edges are next to non-word bytes qualify (see `unanchored`).
            let word = |i: usize| text.as_bytes().get(i).is_some_and(|b| b.is_ascii_alphanumeric());
            let edges_ok = spans.iter().all(|s| {
                (s.start == 0 || !word(s.start - 1) || !word(s.start))
                    && (!word(s.end) || s.end == 0 || !word(s.end - 1))
            });
            proptest::prop_assume!(edges_ok);
            proptest::prop_assert_eq!(
                pattern.first_in_each(&text, || &text, &spans, |s| s.clone()),
                each(&pattern, &text, &spans)
            );
        }
    }
}
