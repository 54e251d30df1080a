//! Lexes the corpus repeatedly: a target for profilers.
fn main() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/pg_regress_sql");
    let files: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let mut n = 0;
    for _ in 0..rounds {
        n += files
            .iter()
            .map(|f| sqlrail::sql::Lexer::new(f).count())
            .sum::<usize>();
    }
    println!("{n}");
}
