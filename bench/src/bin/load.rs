//! The HTTP load of the benchmark: `concurrency` clients sending one GraphQL request after
//! another for `seconds`, each body made from a template, so that a scenario can read a
//! different registration each time (the distribution pgbench's limit uses too) or submit
//! registrations with keys of their own. Prints one JSON line: requests, requests/s, p50
//! and p99 in milliseconds, the share answered 2xx without GraphQL errors, and how many
//! requests the warm-up sent.
//!
//! In the template, `__ID__` becomes the global ID of a registration drawn uniformly from
//! 1..=`--ids`, `__SEQ__` a number no other request of the run has, and `__NTH__` that
//! number modulo `--customers` (a customer among that many).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Parser)]
struct Args {
    /// The GraphQL endpoint.
    #[arg(long)]
    url: String,
    /// The body template (a JSON GraphQL request).
    #[arg(long)]
    body: std::path::PathBuf,
    #[arg(long)]
    token: Option<String>,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seconds of unmeasured load first (connections open, caches warm).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// `__ID__`: registrations 1..=ids.
    #[arg(long, default_value_t = 1)]
    ids: u64,
    /// `__NTH__`: customers 0..customers.
    #[arg(long, default_value_t = 1000)]
    customers: u64,
}

/// The parts of a template, split at its placeholders once.
struct Template {
    parts: Vec<Part>,
}

enum Part {
    Text(String),
    Id,
    Seq,
    Nth,
}

impl Template {
    fn parse(text: &str) -> Template {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(at) = rest.find("__") {
            let (before, after) = rest.split_at(at);
            let found = [
                ("__ID__", Part::Id),
                ("__SEQ__", Part::Seq),
                ("__NTH__", Part::Nth),
            ]
            .into_iter()
            .find(|(name, _)| after.starts_with(name));
            match found {
                Some((name, part)) => {
                    parts.push(Part::Text(before.to_owned()));
                    parts.push(part);
                    rest = &after[name.len()..];
                }
                None => {
                    parts.push(Part::Text(rest[..at + 2].to_owned()));
                    rest = &rest[at + 2..];
                }
            }
        }
        parts.push(Part::Text(rest.to_owned()));
        Template { parts }
    }

    fn render(&self, args: &Args, seq: u64, random: u64) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Id => out.push_str(&global_id(1 + random % args.ids.max(1))),
                Part::Seq => out.push_str(&seq.to_string()),
                Part::Nth => out.push_str(&(seq % args.customers.max(1)).to_string()),
            }
        }
        out
    }
}

fn global_id(id: u64) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("DealRegistration:{id}"))
}

/// A small, fast generator (xorshift64*): the draws need no more than uniformity.
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

struct Outcome {
    latencies: Vec<Duration>,
    ok: u64,
    failed: u64,
}

async fn drive(
    client: &reqwest::Client,
    args: &Arc<Args>,
    template: &Arc<Template>,
    seq: &Arc<AtomicU64>,
    seconds: f64,
) -> Outcome {
    let until = Instant::now() + Duration::from_secs_f64(seconds);
    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let (client, args, template, seq) =
            (client.clone(), args.clone(), template.clone(), seq.clone());
        workers.push(tokio::spawn(async move {
            let mut random = 0x9E37_79B9_7F4A_7C15 ^ (worker as u64 + 1);
            let mut outcome = Outcome {
                latencies: Vec::new(),
                ok: 0,
                failed: 0,
            };
            while Instant::now() < until {
                let body = template.render(
                    &args,
                    seq.fetch_add(1, Ordering::Relaxed),
                    next_random(&mut random),
                );
                let start = Instant::now();
                let succeeded = send(&client, &args, body).await;
                outcome.latencies.push(start.elapsed());
                match succeeded {
                    true => outcome.ok += 1,
                    false => outcome.failed += 1,
                }
            }
            outcome
        }));
    }
    let mut all = Outcome {
        latencies: Vec::new(),
        ok: 0,
        failed: 0,
    };
    for worker in workers {
        let outcome = worker.await.expect("worker");
        all.latencies.extend(outcome.latencies);
        all.ok += outcome.ok;
        all.failed += outcome.failed;
    }
    all
}

/// Whether the request was answered 2xx without GraphQL errors.
async fn send(client: &reqwest::Client, args: &Args, body: String) -> bool {
    let mut request = client
        .post(&args.url)
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(body);
    if let Some(token) = &args.token {
        request = request.bearer_auth(token);
    }
    let Ok(response) = request.send().await else {
        return false;
    };
    let status = response.status();
    let Ok(bytes) = response.bytes().await else {
        return false;
    };
    status.is_success() && !bytes.windows(9).any(|w| w == b"\"errors\":")
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args = Arc::new(Args::parse());
    let text = std::fs::read_to_string(&args.body).expect("the body template");
    let template = Arc::new(Template::parse(&text));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("a client");
    // Numbers unique to this run, so that idempotency keys never repeat across runs.
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64);
    let seq = Arc::new(AtomicU64::new(run % 1_000_000_000 * 1_000_000));
    let warmup = drive(&client, &args, &template, &seq, args.warmup).await;
    let started = Instant::now();
    let mut outcome = drive(&client, &args, &template, &seq, args.seconds).await;
    let elapsed = started.elapsed().as_secs_f64();
    outcome.latencies.sort();
    let requests = outcome.ok + outcome.failed;
    println!(
        "{}",
        serde_json::json!({
            "requests": requests,
            "rps": requests as f64 / elapsed,
            "p50_ms": percentile(&outcome.latencies, 0.50),
            "p99_ms": percentile(&outcome.latencies, 0.99),
            "ok": outcome.ok as f64 / (requests.max(1)) as f64,
            // Sent before the measured ones: whoever counts from outside (statements, CPU)
            // across both divides by both.
            "warmup_requests": warmup.ok + warmup.failed,
        })
    );
}
