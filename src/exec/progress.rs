//! Progress of a backfill: a bar with rows, rate and ETA on a terminal (indicatif), a log
//! line every 10 batches otherwise. Position is the cursor's place in the key range, so
//! the ETA holds for sparse keys too.

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    label: String,
    first: i64,
    high_water: i64,
    rows: u64,
}

/// Batches between two log lines when there is no terminal.
const LOG_EVERY: u64 = 10;

impl Progress {
    pub fn new(bars: bool, label: &str, first: i64, high_water: i64, rows_before: i64) -> Progress {
        let span = (high_water - first + 1).max(0) as u64;
        let bar = (bars && span > 0).then(|| {
            let bar = ProgressBar::new(span);
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {percent:>3}% {msg} ({per_sec} keys, ETA {eta})",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(label.to_owned());
            bar
        });
        Progress {
            bar,
            label: label.to_owned(),
            first,
            high_water,
            rows: rows_before.max(0) as u64,
        }
    }

    /// After a batch: the cursor is now `cursor`, the batch changed `rows`.
    pub fn advance(&mut self, cursor: i64, rows: u64, batches: u64, log: &dyn Fn(&str)) {
        self.rows += rows;
        let done = (cursor.min(self.high_water + 1) - self.first).max(0) as u64;
        match &self.bar {
            Some(bar) => {
                bar.set_position(done);
                bar.set_message(format!("{} rows", self.rows));
            }
            None if batches % LOG_EVERY == 0 => log(&format!(
                "{}: {batches} batches, {} rows, key {} of {}",
                self.label,
                self.rows,
                cursor.min(self.high_water),
                self.high_water
            )),
            None => {}
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
