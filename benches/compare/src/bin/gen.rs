//! `cargo run -p compare --bin gen -- OUT_DIR`: writes the files of WORKLOAD §6 for
//! N = 10, 100, 1000, 10000 (plus changegate's `policies/gate_N.gate`).
//! Check them with `cd OUT_DIR && sha256sum -c CHECKSUMS.sha256`.

#[path = "../workload.rs"]
mod workload;

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "data".to_string()),
    );
    for n in workload::SIZES {
        for (rel, text) in workload::Workload::new(n).files() {
            let path = out.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).expect("create directory");
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        }
    }
    eprintln!(
        "wrote W(N) for N = {:?} to {}",
        workload::SIZES,
        out.display()
    );
}
