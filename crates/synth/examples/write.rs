//! Writes a run into a directory: `cargo run -p synth --example write -- DIR [small|county|province] [seed] [province]`.
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let dir = a.get(1).expect("usage: write DIR [scale] [seed] [province]");
    let scale = a.get(2).map(|s| s.parse().unwrap()).unwrap_or(synth::Scale::Small);
    let seed = a.get(3).map(|s| s.parse().unwrap()).unwrap_or(1);
    let province = a.get(4).cloned();
    let w = synth::write_dir(&synth::Config { scale, seed, province, ..Default::default() }, std::path::Path::new(dir))
        .unwrap();
    println!("{}", serde_json::to_string_pretty(&w.summary).unwrap());
}
