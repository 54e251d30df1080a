//! Lists kept from one file to the next on a thread. `lint` works through twenty thousand
//! files, one after another on each thread; allocating every file's lists afresh (its
//! statements alone take three times the file's size) kept the allocator retiring pages
//! and fetching fresh ones for them. The splitter (`crate::sql::recycle`) and the lint
//! engine keep their emptied lists in thread-locals and fill them again.

/// Lists larger than this (in bytes) are freed rather than kept: one huge file must not pin
/// its memory for the rest of the run.
const KEPT_MAX_BYTES: usize = 4 << 20;

/// Whether `list` (emptied) is small enough to keep for the next file.
pub(crate) fn worth_keeping<T>(list: &Vec<T>) -> bool {
    list.capacity() * size_of::<T>() <= KEPT_MAX_BYTES
}

/// Room for `n` items in the empty `list`: a kept list too small is replaced, not grown,
/// since growing would copy its old (unused) bytes.
pub(crate) fn reserve_empty<T>(list: &mut Vec<T>, n: usize) {
    debug_assert!(list.is_empty());
    if list.capacity() < n {
        *list = Vec::with_capacity(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_lists_are_replaced_when_too_small_and_dropped_when_too_big() {
        let mut list: Vec<u64> = Vec::with_capacity(10);
        reserve_empty(&mut list, 5);
        assert_eq!(list.capacity(), 10);
        reserve_empty(&mut list, 100);
        assert!(list.capacity() >= 100);
        assert!(worth_keeping(&list));
        let huge: Vec<u64> = Vec::with_capacity(KEPT_MAX_BYTES / 8 + 1);
        assert!(!worth_keeping(&huge));
    }
}
