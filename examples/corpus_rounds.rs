//! Splits (or only lexes) the conformance corpus N times: a steady target for profilers.
//!
//! `cargo run --release --example corpus_rounds -- split 50` (or `lex 50`); see bench/README.md.
/// The allocator the `sqlrail` binary uses, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: sqlrail::speed::alloc::MiMalloc = sqlrail::speed::alloc::MiMalloc;

fn main() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/pg_regress_sql");
    let files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the corpus {} is missing: {e}", dir.display()))
        .map(|e| String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).into_owned())
        .collect();
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "split".into());
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let count = |f: &String| match mode.as_str() {
        "lex" => sqlrail::sql::Lexer::new(f.as_bytes()).count(),
        _ => sqlrail::sql::split(f).map_or(0, |s| s.statements.len()),
    };
    let total: usize = (0..rounds)
        .map(|_| files.iter().map(count).sum::<usize>())
        .sum();
    println!("{mode}: {total} items in {rounds} rounds");
}
