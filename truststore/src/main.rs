//! `truststore validate <bundle.pem>`: exits 1 if API Gateway would refuse the bundle.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [cmd, path] = args.as_slice() else {
        eprintln!("usage: truststore validate <bundle.pem>");
        return ExitCode::from(2);
    };
    if cmd != "validate" {
        eprintln!("unknown command `{cmd}`; usage: truststore validate <bundle.pem>");
        return ExitCode::from(2);
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let (count, findings) = truststore::validate(&bytes);
    for f in &findings {
        eprintln!("problem: {f:?}");
    }
    println!(
        "{path}: {count} certificate(s), {} problem(s)",
        findings.len()
    );
    if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
