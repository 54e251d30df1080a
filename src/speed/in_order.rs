//! Runs a job over every item on the thread pool and hands the results to one consumer in
//! item order, each as soon as every item before it is done.
//!
//! Workers take the next item from a shared counter, so items finish almost in order and
//! few results wait for an earlier one. Whichever worker finishes the item the consumer
//! needs next runs the consumer (under a lock) for it and for the parked results after it.
//! There is no barrier: with batches handed over by a waiting thread, a worker sat idle at
//! the end of every batch until the other finished its last (largest) file. Linting uses
//! it file by file, and so does writing collected findings.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

/// What the consumer's lock guards.
struct Consumer<R, C> {
    /// The item whose result the consumer takes next.
    next: usize,
    /// Results of items after `next`, by item.
    parked: BTreeMap<usize, R>,
    consume: C,
}

/// Calls `work` on every item, on every thread of the current rayon pool, and `consume` on
/// the results, one at a time and in the order of `items`.
pub fn for_each_in_order<T, R, W, C>(items: &[T], work: W, consume: C)
where
    T: Sync,
    R: Send,
    W: Fn(&T) -> R + Sync,
    C: FnMut(R) + Send,
{
    let claimed = AtomicUsize::new(0);
    let consumer = Mutex::new(Consumer {
        next: 0,
        parked: BTreeMap::new(),
        consume,
    });
    rayon::broadcast(|_| {
        loop {
            let n = claimed.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(n) else {
                return;
            };
            let result = work(item);
            // A panic in `consume` propagates out of `broadcast`; the other worker need not
            // stop halfway through its file for it.
            let mut consumer = consumer.lock().unwrap_or_else(PoisonError::into_inner);
            let consumer = &mut *consumer;
            if n != consumer.next {
                consumer.parked.insert(n, result);
                continue;
            }
            (consumer.consume)(result);
            consumer.next += 1;
            while let Some(result) = consumer.parked.remove(&consumer.next) {
                (consumer.consume)(result);
                consumer.next += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_arrive_in_item_order_whatever_order_they_finish_in() {
        let items: Vec<u64> = (0..2000).collect();
        let mut seen = Vec::new();
        for_each_in_order(
            &items,
            |&n| {
                // Some items take long, so later ones finish first and are parked.
                if n % 97 == 0 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                n * 3
            },
            |r| seen.push(r),
        );
        assert_eq!(seen, items.iter().map(|n| n * 3).collect::<Vec<_>>());
    }

    #[test]
    fn no_items_means_no_calls() {
        let mut calls = 0;
        for_each_in_order(&[] as &[u8], |_| (), |()| calls += 1);
        assert_eq!(calls, 0);
    }
}
