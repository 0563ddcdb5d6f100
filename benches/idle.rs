//! Idle daemon benchmark (filled in below).
fn main() {}
