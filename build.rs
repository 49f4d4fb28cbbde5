//! Relinks cdbg when the release link order changes: the musl release link
//! reads build/link-order.txt (.cargo/config.toml), a file Cargo does not
//! otherwise know about. That link also writes its map to
//! target/release-link.map, relative to this directory: with the build
//! elsewhere (CARGO_TARGET_DIR), `target/` must still exist here.
fn main() {
    println!("cargo:rerun-if-changed=build/link-order.txt");
    let _ = std::fs::create_dir_all("target");
}
