fn main() {
    std::process::exit(cdbg::cli::main());
}
