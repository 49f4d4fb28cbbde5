fn main() {
    // Takes CDBG_SELF_FD (the sealed copy's descriptor) out of the
    // environment before anything else runs, so no command ever sees it.
    cdbg::applets::selfexe::init();
    std::process::exit(cdbg::cli::main());
}
