//! Lint throughput over PostgreSQL's regression SQL (`../shared/corpus/pg_regress_sql`,
//! 232 files, 4.5 MB), one core, every file linted as a DDL migration with the default
//! rules (the worst case: the corpus is full of DML, so most statements are findings).
//! `bench/lint.sh` measures the whole command against grep on a 20,000-file tree.
//!
//! Run: `cargo bench --bench lint`

use std::path::PathBuf;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sqlrail::config::Phase;
use sqlrail::lint::{Keep, LintSettings, Source, engine::lint_text};

/// The allocator the `sqlrail` binary uses, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: sqlrail::speed::alloc::MiMalloc = sqlrail::speed::alloc::MiMalloc;

fn corpus() -> Vec<(PathBuf, Arc<String>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pg_regress_sql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the benchmark corpus {} is missing: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(&p).unwrap()).ok()?;
            Some((p, Arc::new(text)))
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let files = corpus();
    let settings = LintSettings::defaults();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let mut group = c.benchmark_group("pg_regress_sql");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(20);
    for phase in [Phase::Ddl, Phase::Indexes, Phase::Backfills] {
        group.bench_function(format!("lint as {}", phase.dir()), |b| {
            b.iter(|| {
                files
                    .iter()
                    .filter_map(|(path, text)| {
                        let source = Source {
                            path: path.clone(),
                            display: path.display().to_string(),
                            phase,
                        };
                        // As a gcc or github stream lints: findings do not hold the text.
                        lint_text(
                            source,
                            text.clone(),
                            &settings,
                            Keep {
                                text: false,
                                ends: false,
                            },
                        )
                        .ok()
                    })
                    .map(|l| l.findings.len())
                    .sum::<usize>()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
