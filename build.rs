//! Relinks cdbg when the release link order changes: the musl release link
//! reads build/link-order.txt (.cargo/config.toml), a file Cargo does not
//! otherwise know about.
fn main() {
    println!("cargo:rerun-if-changed=build/link-order.txt");
}
