//! PKIs made by an independent tool: `authorizer/tests/interop/make_pki.py`
//! (pyca/cryptography, from the test venv that `make setup` builds and
//! `make test` puts first on PATH; `$PYTHON` overrides the interpreter).

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Runs `make_pki.py` into `dir` and returns its manifest
/// (`dir/manifest.json`): each case's CA, certificates and CRLs, by relative
/// path.
pub fn make_pki(dir: &Path) -> Value {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../authorizer/tests/interop/make_pki.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    assert!(
        out.status.success(),
        "{python} make_pki.py (needs pyca/cryptography; `make setup` installs it):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = std::fs::read(dir.join("manifest.json"))
        .unwrap_or_else(|e| panic!("make_pki.py wrote no manifest.json: {e}"));
    serde_json::from_slice(&manifest)
        .unwrap_or_else(|e| panic!("make_pki.py's manifest.json is not JSON: {e}"))
}
