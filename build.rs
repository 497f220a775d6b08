//! Rebuilds the crate when the cached query metadata or the migrations change, so an
//! edited `.sqlx/` or migration is never ignored by an incremental build.

fn main() {
    println!("cargo:rerun-if-changed=.sqlx");
    println!("cargo:rerun-if-changed=migrations");
}
