//! A custom rule's regex searched statement by statement, as if every statement were a
//! text of its own, for about the cost of one search of the file.
//!
//! (Measured and not used for the comments `backfill-comment` searches: they are a small
//! part of a file, and a search of the whole file cost three times the searches of each.)

use std::ops::Range;

use regex::Regex;

pub struct SpanPattern {
    pub regex: Regex,
    /// The pattern has no `^`, `$`, `\A`, `\z` or `\B` (judged on its text, so a `[^…]`
    /// class counts as an anchor too: that only costs speed). Then any match inside a
    /// span is also a match in the whole text, and one search of the text can rule most
    /// spans out: the spans searched start and end next to non-word bytes (a statement
    /// next to `;`, a space or a blanked comment), so word boundaries hold in both.
    unanchored: bool,
}

impl SpanPattern {
    pub fn new(regex: Regex) -> Self {
        let text = regex.as_str();
        let unanchored =
            !text.contains(['^', '$']) && !["\\A", "\\z", "\\B"].iter().any(|a| text.contains(a));
        SpanPattern { regex, unanchored }
    }

    /// For each of `items` (whose `span`s in `text` are in order and disjoint) where the
    /// pattern matches within the span alone: its index and the bytes of its first match.
    ///
    /// Calling the regex once per span costs more in setup than in searching, so an
    /// unanchored pattern searches the whole text: no span that ends before the earliest
    /// match in the text ends can hold a match, and only the span where that match ends
    /// is searched on its own.
    pub fn first_in_each<T>(
        &self,
        text: &str,
        items: &[T],
        span: impl Fn(&T) -> Range<usize>,
    ) -> Vec<(usize, Range<usize>)> {
        let in_span = |i: usize| {
            let span = span(&items[i]);
            let hit = self.regex.find(&text[span.clone()])?;
            Some((i, span.start + hit.start()..span.start + hit.end()))
        };
        if !self.unanchored {
            return (0..items.len()).filter_map(in_span).collect();
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
            hits.extend(in_span(next));
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
    fn matches_outside_spans_and_across_them_are_not_found() {
        let pattern = SpanPattern::new(Regex::new(r"(?i)\bback-?fill\b").unwrap());
        //          0         1         2         3         4
        //          0123456789012345678901234567890123456789012345
        let text = "backfill -- no\nSELECT 1 -- later: BACKFILL x\n";
        let spans = [9..14, 24..44];
        assert_eq!(
            pattern.first_in_each(text, &spans, |s| s.clone()),
            [(1, 34..42)]
        );
        // A match that starts before a span and ends in it is no match of the span.
        let across = SpanPattern::new(Regex::new(r"1 -- l").unwrap());
        assert!(across.first_in_each(text, &spans, |s| s.clone()).is_empty());
        // An empty match is a match of the span it is in, and loops nowhere.
        let empty = SpanPattern::new(Regex::new(r"z*").unwrap());
        assert_eq!(
            empty.first_in_each(text, &spans, |s| s.clone()),
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
                pattern.first_in_each(&text, &spans, |s| s.clone()),
                each(&pattern, &text, &spans)
            );
        }
    }
}
