// Bake libtorch's library folder into the binary's rpath so that `stancemine`,
// `cargo run` and `cargo test` work without LD_LIBRARY_PATH.
fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    if let Ok(dir) = std::env::var("LIBTORCH") {
        let lib = std::fs::canonicalize(&dir)
            .map(|p| p.join("lib"))
            .unwrap_or_else(|_| std::path::PathBuf::from(dir).join("lib"));
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
}
