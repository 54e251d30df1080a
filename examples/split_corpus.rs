//! Splits the corpus repeatedly: a target for profilers (`perf record`, callgrind).
fn main() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/pg_regress_sql");
    let files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| String::from_utf8_lossy(&std::fs::read(e.unwrap().path()).unwrap()).into_owned())
        .collect();
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let mut n = 0;
    for _ in 0..rounds {
        n += files
            .iter()
            .map(|f| sqlrail::sql::split(f).map_or(0, |s| s.statements.len()))
            .sum::<usize>();
    }
    println!("{n}");
}
