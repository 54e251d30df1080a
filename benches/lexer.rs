//! Splitting throughput over PostgreSQL's regression SQL (`../shared/corpus/pg_regress_sql`,
//! 232 files, 4.5 MB): the full pipeline (lex, split, classify, line numbers), and the bare
//! lexer. Target (issue 2): at least 500 MB/s on one core; libpg_query does ~75 MB/s here.
//!
//! Run: `cargo bench --bench lexer`

use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sqlrail::sql::{Lexer, split};

/// The allocator the `sqlrail` binary uses, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: sqlrail::speed::alloc::MiMalloc = sqlrail::speed::alloc::MiMalloc;

fn corpus() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pg_regress_sql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the benchmark corpus {} is missing: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).into_owned())
        .collect()
}

fn bench(c: &mut Criterion) {
    let files = corpus();
    let bytes: usize = files.iter().map(String::len).sum();
    let mut group = c.benchmark_group("pg_regress_sql");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(30);
    group.bench_function("split", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| split(f).map_or(0, |s| s.statements.len()))
                .sum::<usize>()
        })
    });
    group.bench_function("lex", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|f| Lexer::new(f.as_bytes()).count())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
