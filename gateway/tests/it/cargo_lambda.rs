//! The cargo-lambda loop Rust Lambda users know, as docs/deploying.md shows it:
//! `gateway event` makes an authorizer event, `cargo lambda watch` runs the
//! authorizer on cargo-lambda's emulator, and `cargo lambda invoke` gets a
//! decision back. cargo-lambda comes from PyPI into `.venv` (`make setup`).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::Command;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// The shell lines of the block after `<!-- ci: cargo-lambda-watch -->`.
fn documented_lines() -> Vec<String> {
    let doc = std::fs::read_to_string(workspace().join("docs/deploying.md")).unwrap();
    let after = &doc[doc.find("<!-- ci: cargo-lambda-watch -->").unwrap()..];
    let block = after
        .split("```sh\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn documented_cargo_lambda_watch_and_invoke_return_a_decision() {
    let version = std::process::Command::new("cargo")
        .args(["lambda", "--version"])
        .output();
    assert!(
        version.as_ref().is_ok_and(|o| o.status.success()),
        "cargo-lambda is not installed: `make setup` installs it from PyPI into .venv ({version:?})"
    );
    let bins = common::bin_dir();
    let lines = documented_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[1].starts_with("cargo lambda watch -p authorizer "),
        "{lines:?}"
    );

    // The documented lines, run from the workspace root with the development stack's
    // `.local` replaced by a scratch one, on a free port instead of 9000.
    let tmp = tempfile::tempdir().unwrap();
    let local = tmp.path().join(".local");
    gateway::dev::prepare(&local, time::OffsetDateTime::now_utc()).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let adapt = |line: &str| {
        line.replace("$PWD/.local", "\u{0}")
            .replace(".local", "\u{0}")
            .replace('\u{0}', &local.display().to_string())
            .replace("target/debug/", &format!("{}/", bins.display()))
            .replace(
                " > revoked-event.json",
                &format!(" > {}/revoked-event.json", tmp.path().display()),
            )
            .replace(
                "--data-file revoked-event.json",
                &format!("--data-file {}/revoked-event.json", tmp.path().display()),
            )
            .replace(
                "cargo lambda watch ",
                &format!("cargo lambda watch -P {port} "),
            )
            .replace(
                "cargo lambda invoke ",
                &format!("cargo lambda invoke -P {port} "),
            )
            .trim_end_matches(" &")
            .to_owned()
    };
    let sh = |line: String| {
        let mut cmd = Command::new("bash");
        cmd.args(["-euo", "pipefail", "-c", &line])
            .current_dir(workspace())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    };

    let event = sh(adapt(&lines[0])).output().await.unwrap();
    assert!(event.status.success(), "{event:?}");

    let log = std::fs::File::create(tmp.path().join("watch.log")).unwrap();
    let mut watch = sh(adapt(&lines[1]))
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap();
    let invoke = adapt(&lines[2]);
    // The first invoke waits for watch to build the authorizer and start it.
    let deadline = Instant::now() + Duration::from_secs(600);
    let answer = loop {
        assert!(
            Instant::now() < deadline,
            "no decision within 10 min:\n{}",
            std::fs::read_to_string(tmp.path().join("watch.log")).unwrap_or_default()
        );
        let watch_log =
            || std::fs::read_to_string(tmp.path().join("watch.log")).unwrap_or_default();
        let Ok(out) =
            tokio::time::timeout(Duration::from_secs(60), sh(invoke.clone()).output()).await
        else {
            if watch_log().contains("Running `") {
                panic!("cargo lambda invoke got no answer:\n{}", watch_log());
            }
            // Still building: try again.
            continue;
        };
        let out = out.unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() && text.contains("policyDocument") {
            break text;
        }
        if watch_log().contains("\"init_failed\"") {
            panic!("the authorizer failed its init:\n{}", watch_log());
        }
        if let Ok(Some(status)) = watch.try_wait() {
            panic!("cargo lambda watch exited ({status}):\n{}", watch_log());
        }
        assert!(
            Instant::now() < deadline,
            "no decision within 10 min: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            watch_log()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    };
    // Stop watch and the function it runs: its own process group, and only
    // when it is one (never this test's group).
    if let Some(pid) = watch.id() {
        let group = |stat: &str| {
            std::fs::read_to_string(stat).ok().and_then(|s| {
                s.rsplit(") ")
                    .next()?
                    .split(' ')
                    .nth(2)?
                    .parse::<u32>()
                    .ok()
            })
        };
        let target = match (
            group(&format!("/proc/{pid}/stat")),
            group("/proc/self/stat"),
        ) {
            (Some(g), Some(own)) if g == pid && g != own => format!("-{pid}"),
            _ => pid.to_string(),
        };
        let _ = std::process::Command::new("kill")
            .args(["-s", "TERM", "--", &target])
            .status();
    }
    let _ = tokio::time::timeout(Duration::from_secs(20), watch.wait()).await;

    let json_start = answer.find('{').unwrap();
    let decision: serde_json::Value = serde_json::from_str(answer[json_start..].trim()).unwrap();
    assert_eq!(
        decision["policyDocument"]["Statement"][0]["Effect"], "Deny",
        "{decision}"
    );
    assert_eq!(decision["context"]["reason"], "revoked", "{decision}");
}
