//! Compile-time checks of `#[rpc_endpoint]` and `#[derive(VersionedObject)]` (trybuild;
//! the latter's cases are `object_*.rs`): every file in `tests/ui/fail` must
//! fail to compile with exactly the messages and spans pinned in its `.stderr`, and every
//! file in `tests/ui/pass` must compile and run. After an intended change of a message,
//! regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test --test ui` and read
//! the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
