//! Resources sampled over the run, and the report: requests by verdict and
//! reason, faults injected by kind, readings lost or duplicated, latency per
//! client kind, resource growth after warm-up, and on failure the first wrong
//! answer with the sources' state at that moment and its decision lines.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use gateway::server::{Backend, Gateway};
use mtls_lambda_host::LifecycleCounts;
use serde_json::{Value, json};

use crate::oracle::{Events, Kind, Load, Oracle, Request, Source, Verdict};
use crate::world::{TIMING, World};

/// One process at one moment.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub at: f64,
    pub label: String,
    pub pid: u32,
    pub rss_kb: u64,
    pub fds: u64,
    pub threads: u64,
}

fn read_sample(at: f64, label: &str, pid: u32) -> Option<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some(Sample {
        at,
        label: label.to_owned(),
        pid,
        rss_kb: field("VmRSS:")?,
        fds,
        threads: field("Threads:")?,
    })
}

/// Samples every function process every 2 s until `stop`.
pub async fn sample(gateway: Arc<Gateway>, start: Instant, stop: Arc<AtomicBool>) -> Vec<Sample> {
    let mut out = Vec::new();
    while !stop.load(Ordering::SeqCst) {
        let at = start.elapsed().as_secs_f64();
        let mut processes = gateway.authorizer.processes();
        if let Backend::Lambda(h) = &gateway.backend {
            processes.extend(h.processes());
        }
        out.extend(
            processes
                .iter()
                .filter_map(|p| read_sample(at, &p.label, p.pid)),
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    out
}

pub struct Inputs {
    pub seed: u64,
    pub seconds: u64,
    pub elapsed: f64,
    pub requests: Vec<Request>,
    pub events: Events,
    pub acknowledged: Vec<i64>,
    pub stored: Vec<i64>,
    pub readback_misses: u64,
    pub samples: Vec<Sample>,
    pub lifecycle: [(&'static str, LifecycleCounts); 2],
    pub crl_bodies: u64,
    pub crl_304: u64,
    pub log: PathBuf,
    pub world: Arc<World>,
    /// The run's start as Unix seconds (log times are wall-clock).
    pub start_unix: f64,
}

/// Growth of one long-lived process after warm-up.
#[derive(Clone, Debug)]
pub(crate) struct Growth {
    pub label: String,
    pub pid: u32,
    pub from: f64,
    pub to: f64,
    pub rss_kb: (u64, u64),
    pub fds: (u64, u64),
    pub threads: (u64, u64),
}

pub struct Report {
    inputs: Inputs,
    /// From the decision lines: the requests (by API request id) that waited
    /// for a refresh, and how long.
    waited: HashMap<String, f64>,
    verdicts: Vec<Verdict>,
    lost: u64,
    duplicated: u64,
    growth: Vec<Growth>,
    warm_up: f64,
}

/// What the authorizer's log says: decisions by API request id, and the CRLs
/// each process loaded.
struct DecisionLines {
    /// The process that decided (`authorizer#2`), and whether it allowed.
    process: HashMap<String, (String, bool)>,
    /// How long the request waited for refreshes, when it did.
    waited: HashMap<String, f64>,
    /// `crl_loaded` lines, in order.
    loads: Vec<Load>,
}

/// RFC 3339 as seconds since the run's start.
fn relative(rfc3339: &str, start_unix: f64) -> Option<f64> {
    let t = time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()?;
    Some(t.unix_timestamp_nanos() as f64 / 1e9 - start_unix)
}

impl DecisionLines {
    fn read(log: &std::path::Path, start_unix: f64) -> Self {
        let mut out = Self {
            process: HashMap::new(),
            waited: HashMap::new(),
            loads: Vec::new(),
        };
        let text = std::fs::read_to_string(log).unwrap_or_default();
        for line in text.lines() {
            let decision = line.contains("\"event\":\"decision\"");
            let loaded = line.contains("\"event\":\"crl_loaded\"");
            if !decision && !loaded {
                continue;
            }
            // `[authorizer#2] {…}`: the host's prefix, then the line.
            let Some((label, json)) = line.strip_prefix('[').and_then(|l| l.split_once("] "))
            else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(json) else {
                continue;
            };
            if loaded {
                let (Some(at), Some(next_update), Some(source)) = (
                    v["timestamp"]
                        .as_str()
                        .and_then(|t| relative(t, start_unix)),
                    v["next_update"]
                        .as_str()
                        .and_then(|t| relative(t, start_unix)),
                    v["source"].as_str(),
                ) else {
                    continue;
                };
                out.loads.push(Load {
                    process: label.to_owned(),
                    at,
                    source: source.to_owned(),
                    next_update,
                });
                continue;
            }
            let Some(id) = v["api_request_id"].as_str() else {
                continue;
            };
            let allowed = v["decision"] == "allow";
            out.process
                .insert(id.to_owned(), (label.to_owned(), allowed));
            if let Some(ms) = v["refresh_wait_ms"].as_f64() {
                out.waited.insert(id.to_owned(), ms);
            }
        }
        out
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

impl Report {
    pub fn build(inputs: Inputs) -> Self {
        let lines = DecisionLines::read(&inputs.log, inputs.start_unix);
        let oracle = Oracle {
            events: inputs.events.clone(),
            timing: TIMING,
            deciders: lines.process,
            loads: lines.loads,
        };
        let verdicts = inputs.requests.iter().map(|r| oracle.judge(r)).collect();
        let mut stored: HashMap<i64, u64> = HashMap::new();
        for t in &inputs.stored {
            *stored.entry(*t).or_default() += 1;
        }
        let lost = inputs
            .acknowledged
            .iter()
            .filter(|t| !stored.contains_key(t))
            .count() as u64;
        let duplicated = stored.values().filter(|n| **n > 1).map(|n| n - 1).sum();
        // Warm-up: the first 10% of the run, at least 10 s.
        let warm_up = (inputs.elapsed * 0.1).max(10.0);
        let mut by_process: BTreeMap<(String, u32), Vec<&Sample>> = BTreeMap::new();
        for s in &inputs.samples {
            by_process
                .entry((s.label.clone(), s.pid))
                .or_default()
                .push(s);
        }
        let growth = by_process
            .into_iter()
            .filter_map(|((label, pid), samples)| {
                let after: Vec<&&Sample> = samples.iter().filter(|s| s.at >= warm_up).collect();
                let (first, last) = (after.first()?, after.last()?);
                // Only processes that lived through most of the run after warm-up.
                (last.at - first.at >= (inputs.elapsed - warm_up) * 0.5).then_some(Growth {
                    label,
                    pid,
                    from: first.at,
                    to: last.at,
                    rss_kb: (first.rss_kb, last.rss_kb),
                    fds: (first.fds, last.fds),
                    threads: (first.threads, last.threads),
                })
            })
            .collect();
        Self {
            inputs,
            waited: lines.waited,
            verdicts,
            lost,
            duplicated,
            growth,
            warm_up,
        }
    }

    fn count(&self, v: Verdict) -> u64 {
        self.verdicts.iter().filter(|x| **x == v).count() as u64
    }

    /// Where the latency target applies: requests that did not wait for a
    /// refresh (their decision line has no `refresh_wait_ms`), and, for the
    /// readings, whose storage was not under an injected DynamoDB fault (its
    /// added latency and the SDK's retries are the fault itself).
    fn quiet(&self, r: &Request) -> bool {
        let waited = r
            .request_id
            .as_ref()
            .is_some_and(|id| self.waited.contains_key(id));
        let storage_fault = r.path == "/temps"
            && self.inputs.events.episodes.iter().any(|e| {
                e.source == Source::DynamoDb && e.start <= r.end && e.end + 1.0 >= r.start
            });
        !waited && !storage_fault
    }

    fn latency(&self) -> BTreeMap<&'static str, Value> {
        let mut out = BTreeMap::new();
        for kind in Kind::ALL {
            let mut all: Vec<f64> = self
                .inputs
                .requests
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| (r.end - r.start) * 1000.0)
                .collect();
            all.sort_by(f64::total_cmp);
            let mut quiet: Vec<f64> = self
                .inputs
                .requests
                .iter()
                .filter(|r| r.kind == kind && self.quiet(r))
                .map(|r| (r.end - r.start) * 1000.0)
                .collect();
            quiet.sort_by(f64::total_cmp);
            out.insert(
                kind.as_str(),
                json!({
                    "requests": all.len(),
                    "p50_ms": percentile(&all, 0.5),
                    "p99_ms": percentile(&all, 0.99),
                    "max_ms": all.last().copied().unwrap_or_default(),
                    "quiet_requests": quiet.len(),
                    "quiet_p50_ms": percentile(&quiet, 0.5),
                    "quiet_p99_ms": percentile(&quiet, 0.99),
                }),
            );
        }
        out
    }

    fn max_latency_s(&self) -> f64 {
        self.inputs
            .requests
            .iter()
            .map(|r| r.end - r.start)
            .fold(0.0, f64::max)
    }

    fn long_run(&self) -> bool {
        self.inputs.seconds >= 600
    }

    /// The failures, each a short sentence; empty when the run passed.
    fn failures(&self, min_injections: u64) -> Vec<String> {
        let mut out = Vec::new();
        for v in [
            Verdict::WrongAllow,
            Verdict::WrongDeny,
            Verdict::Unexplained5xx,
            Verdict::Unanswered,
            Verdict::HandshakeAccepted,
        ] {
            let n = self.count(v);
            if n > 0 {
                out.push(format!("{n} {}", v.as_str()));
            }
        }
        if let Some(n) = self.inputs.events.injected.get("revocation_write_failed") {
            out.push(format!(
                "{n} revocations could not be written (the oracle's windows need them)"
            ));
        }
        if self.lost > 0 {
            out.push(format!("{} acknowledged readings missing", self.lost));
        }
        if self.duplicated > 0 {
            out.push(format!("{} duplicated readings", self.duplicated));
        }
        if self.inputs.readback_misses > 0 {
            out.push(format!(
                "{} readings not read back after their 201",
                self.inputs.readback_misses
            ));
        }
        if self.max_latency_s() >= 29.0 {
            out.push(format!(
                "a request took {:.1} s (API Gateway stops at 29 s)",
                self.max_latency_s()
            ));
        }
        if min_injections > 0 {
            for (kind, n) in self.injected() {
                if n < min_injections {
                    out.push(format!("{kind} injected {n} times (< {min_injections})"));
                }
            }
        }
        if self.long_run() {
            for g in &self.growth {
                let rss = g.rss_kb.1.saturating_sub(g.rss_kb.0);
                if rss > 5 * 1024 {
                    out.push(format!("{} grew {} kB after warm-up", g.label, rss));
                }
                if g.fds.1 > g.fds.0 + 2 {
                    out.push(format!("{} open files {} → {}", g.label, g.fds.0, g.fds.1));
                }
            }
            if let Some(p99) = self.latency()["good"]["quiet_p99_ms"].as_f64()
                && p99 > 50.0
            {
                out.push(format!("good device quiet p99 {p99:.1} ms > 50 ms"));
            }
        }
        out
    }

    fn injected(&self) -> BTreeMap<String, u64> {
        let mut out: BTreeMap<String, u64> = self
            .inputs
            .events
            .injected
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect();
        out.insert("crl_not_modified_304".into(), self.inputs.crl_304);
        for (name, c) in &self.inputs.lifecycle {
            let name = name.replace('-', "_");
            out.insert(format!("freeze_{name}"), c.freezes);
            out.insert(format!("cold_start_{name}"), c.cold_starts);
        }
        out
    }

    fn by_reason(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for r in &self.inputs.requests {
            *out.entry(r.answer.label()).or_default() += 1;
        }
        out
    }

    fn by_kind_and_verdict(&self) -> BTreeMap<String, BTreeMap<&'static str, u64>> {
        let mut out: BTreeMap<String, BTreeMap<&'static str, u64>> = BTreeMap::new();
        for (r, v) in self.inputs.requests.iter().zip(&self.verdicts) {
            *out.entry(r.kind.as_str().to_owned())
                .or_default()
                .entry(v.as_str())
                .or_default() += 1;
        }
        out
    }

    /// The first request judged wrong, with what was going on, and its
    /// device's decision lines from the functions' log.
    fn first_wrong(&self) -> Option<Value> {
        let (r, v) = self
            .inputs
            .requests
            .iter()
            .zip(&self.verdicts)
            .filter(|(_, v)| v.is_failure())
            .min_by(|a, b| a.0.start.total_cmp(&b.0.start))?;
        let after = TIMING.after_fault();
        let around: Vec<Value> = self
            .inputs
            .events
            .episodes
            .iter()
            .filter(|e| e.start <= r.end + 1.0 && e.end + after >= r.start)
            .map(|e| json!({"kind": e.kind, "target": e.target, "start": e.start, "end": e.end}))
            .collect();
        let crls: Vec<Value> = self
            .inputs
            .events
            .devices_crls
            .iter()
            .filter(|p| p.at <= r.end && p.at + 20.0 >= r.start)
            .map(|p| json!({"published": p.at, "next_update": p.next_update, "late_revoked": p.late_revoked}))
            .collect();
        let revocation = r
            .late
            .and_then(|i| self.inputs.events.revoked.get(&i))
            .map(|(began, done)| json!({"began": began, "done": done}));
        // Its own decision line (by the gateway's request id), or the device's
        // last three.
        let serial = self.serial_of(r);
        let log = std::fs::read_to_string(&self.inputs.log).unwrap_or_default();
        let own: Vec<String> = r
            .request_id
            .as_ref()
            .map(|id| {
                log.lines()
                    .filter(|l| l.contains(id.as_str()))
                    .map(|l| l.chars().take(1500).collect())
                    .collect()
            })
            .unwrap_or_default();
        let lines: Vec<String> = if own.is_empty() {
            log.lines()
                .filter(|l| {
                    l.contains("\"decision\"")
                        && serial.as_ref().is_some_and(|s| l.contains(s.as_str()))
                })
                .rev()
                .take(3)
                .map(|l| l.chars().take(1500).collect())
                .collect()
        } else {
            own
        };
        Some(json!({
            "verdict": v.as_str(),
            "kind": r.kind.as_str(),
            "subject": r.subject,
            "request": format!("{} {}", r.method, r.path),
            "start": r.start,
            "end": r.end,
            "request_id": r.request_id,
            "answer": format!("{:?}", r.answer).chars().take(400).collect::<String>(),
            "faults_around": around,
            "devices_crls_around": crls,
            "revocation": revocation,
            "decision_lines": lines,
        }))
    }

    fn serial_of(&self, r: &Request) -> Option<String> {
        let w = &self.inputs.world;
        let device = [
            &w.good,
            &w.crl_revoked,
            &w.deny_listed,
            &w.ca_revoked,
            &w.wrong_issuer,
        ]
        .into_iter()
        .chain(w.late.iter())
        .find(|d| d.name == r.subject)?;
        Some(hex::encode(&device.serial))
    }

    pub fn json(&self, min_injections: u64) -> Value {
        let i = &self.inputs;
        json!({
            "seed": i.seed,
            "seconds": i.seconds,
            "elapsed": i.elapsed,
            "passed": self.failures(min_injections).is_empty(),
            "failures": self.failures(min_injections),
            "requests": i.requests.len(),
            "verdicts": {
                "wrong_allow": self.count(Verdict::WrongAllow),
                "wrong_deny": self.count(Verdict::WrongDeny),
                "unexplained_5xx": self.count(Verdict::Unexplained5xx),
                "unanswered": self.count(Verdict::Unanswered),
                "handshake_accepted": self.count(Verdict::HandshakeAccepted),
                "allow_in_window": self.count(Verdict::AllowInWindow),
                "deny_in_window": self.count(Verdict::DenyInWindow),
                "store_failed_in_window": self.count(Verdict::StoreFailedInWindow),
            },
            "readings": {
                "acknowledged": i.acknowledged.len(),
                "stored": i.stored.len(),
                "lost": self.lost,
                "duplicated": self.duplicated,
                "readback_misses": i.readback_misses,
            },
            "by_kind": self.by_kind_and_verdict(),
            "by_answer": self.by_reason(),
            "injected": self.injected(),
            "crl_bodies_served": i.crl_bodies,
            "latency": self.latency(),
            "max_latency_s": self.max_latency_s(),
            "slowest": self.inputs.requests.iter().max_by(|a, b| (a.end - a.start).total_cmp(&(b.end - b.start))).map(|r| json!({
                "kind": r.kind.as_str(), "request": format!("{} {}", r.method, r.path), "start": r.start,
                "seconds": r.end - r.start, "answer": format!("{:?}", r.answer).chars().take(300).collect::<String>(),
            })),
            "warm_up_s": self.warm_up,
            "growth": self.growth.iter().map(|g| json!({
                "process": g.label, "pid": g.pid, "from_s": g.from, "to_s": g.to,
                "rss_kb": [g.rss_kb.0, g.rss_kb.1], "fds": [g.fds.0, g.fds.1],
                "threads": [g.threads.0, g.threads.1],
            })).collect::<Vec<_>>(),
            "lifecycle": i.lifecycle.iter().map(|(n, c)| json!({
                "function": n, "cold_starts": c.cold_starts, "recycled": c.recycled,
                "timed_out": c.timed_out, "freezes": c.freezes,
            })).collect::<Vec<_>>(),
            "first_wrong": self.first_wrong(),
        })
    }

    /// Prints the report; `true` if the run passed.
    pub fn print(&self, min_injections: u64) -> bool {
        let i = &self.inputs;
        println!(
            "\nsoak report: seed {}, {:.0} s of traffic, {} requests",
            i.seed,
            i.elapsed,
            i.requests.len()
        );
        println!("\n| client | requests | verdicts |");
        println!("|---|---|---|");
        for (kind, verdicts) in self.by_kind_and_verdict() {
            let total: u64 = verdicts.values().sum();
            let text: Vec<String> = verdicts.iter().map(|(v, n)| format!("{v} {n}")).collect();
            println!("| {kind} | {total} | {} |", text.join(", "));
        }
        println!("\n| answer | count |\n|---|---|");
        for (a, n) in self.by_reason() {
            println!("| {a} | {n} |");
        }
        println!("\n| fault or event | injected |\n|---|---|");
        for (k, n) in self.injected() {
            println!("| {k} | {n} |");
        }
        println!(
            "\n| client | p50 ms | p99 ms | max ms | p99 ms without refresh waits or storage faults |\n|---|---|---|---|---|"
        );
        for (kind, l) in self.latency() {
            println!(
                "| {kind} | {:.1} | {:.1} | {:.1} | {:.1} ({} requests) |",
                l["p50_ms"].as_f64().unwrap_or_default(),
                l["p99_ms"].as_f64().unwrap_or_default(),
                l["max_ms"].as_f64().unwrap_or_default(),
                l["quiet_p99_ms"].as_f64().unwrap_or_default(),
                l["quiet_requests"]
            );
        }
        println!(
            "\nreadings: {} acknowledged, {} stored, {} lost, {} duplicated, {} not read back",
            i.acknowledged.len(),
            i.stored.len(),
            self.lost,
            self.duplicated,
            i.readback_misses
        );
        println!(
            "\n| process (after {:.0} s warm-up) | RSS kB | open files | threads |\n|---|---|---|---|",
            self.warm_up
        );
        for g in &self.growth {
            println!(
                "| {} (pid {}, {:.0}–{:.0} s) | {} → {} | {} → {} | {} → {} |",
                g.label,
                g.pid,
                g.from,
                g.to,
                g.rss_kb.0,
                g.rss_kb.1,
                g.fds.0,
                g.fds.1,
                g.threads.0,
                g.threads.1
            );
        }
        let failures = self.failures(min_injections);
        if failures.is_empty() {
            println!("\nsoak: PASSED, 0 wrong allows (seed {})", i.seed);
        } else {
            println!("\nsoak: {}", failures.join("; "));
            if let Some(first) = self.first_wrong() {
                println!(
                    "first wrong answer:\n{}",
                    serde_json::to_string_pretty(&first).unwrap_or_default()
                );
            }
        }
        failures.is_empty()
    }
}
