//! The crates a workspace package depends on, as Cargo resolves them, for
//! the tests that keep a crate's dependency boundary (the local gateway and
//! `mtls-pki` build no AWS SDK).

use std::process::Command;

/// Every crate in `package`'s dependency tree (normal, dev and build
/// dependencies, for every target, the package itself included), one
/// `name vVERSION …` line each, as `cargo tree` prints them. Offline and
/// locked: the tree of `Cargo.lock` as it is, with no network and no change
/// to the lock file.
pub fn tree(package: &str) -> Vec<String> {
    tree_of(package, "normal,dev,build")
}

/// [`tree`], for what the package itself links (normal dependencies only):
/// the boundary of a library, whose tests may use anything.
pub fn normal_tree(package: &str) -> Vec<String> {
    tree_of(package, "normal")
}

/// The features the production build of `packages` turns on, one
/// `crate feature "name"` line each: normal dependencies only, as
/// `cargo build -p …` and `cargo lambda build -p …` resolve them (tests,
/// benches and examples, which enable test-only features, excluded).
pub fn production_features(packages: &[&str]) -> Vec<String> {
    let mut args = vec!["tree", "--offline", "--locked"];
    for p in packages {
        args.extend(["--package", p]);
    }
    args.extend([
        "--edges",
        "normal,features",
        "--target",
        "all",
        "--prefix",
        "none",
    ]);
    let out = Command::new(env!("CARGO"))
        .args(&args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree {packages:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.contains(" feature \""))
        .map(str::to_owned)
        .collect();
    assert!(
        !lines.is_empty(),
        "cargo tree {packages:?} lists no features"
    );
    lines
}

fn tree_of(package: &str, edges: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--offline",
            "--locked",
            "--package",
            package,
            "--edges",
            edges,
            "--target",
            "all",
            "--prefix",
            "none",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree -p {package}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    // A tree that does not name the package is not its tree: never pass a
    // boundary check on empty output.
    assert!(
        lines.iter().any(|l| l.starts_with(&format!("{package} v"))),
        "cargo tree -p {package} does not list {package}: {lines:?}"
    );
    lines
}
