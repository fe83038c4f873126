//! Closed-loop load: N clients, each sending its next request when the previous one is
//! answered, for a while; latencies in a histogram, every answer checked.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

/// What one run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Measured {
    pub clients: usize,
    pub requests: u64,
    /// Units of work per request (events per call for ingestion, else 1).
    pub per_request: u64,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub wrong: u64,
    pub first_wrong: Option<String>,
    /// The run stopped waiting for an answer (the naive peer at scale).
    pub timed_out: bool,
}

impl Measured {
    /// Requests (or events) per second.
    pub fn throughput(&self) -> f64 {
        self.per_second * self.per_request as f64
    }
}

/// How long to run and how many requests each client makes at least.
#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub duration: Duration,
    pub min_per_client: u64,
    /// Give up on a request after this long (counted as timed out, not wrong).
    pub timeout: Option<Duration>,
}

/// Runs `clients` clients; `request(client, seq)` sends one request and says which kind
/// it was (an index below `kinds`) with its answer; `check` then checks the answer, out
/// of the timed part. One measurement per kind.
pub async fn closed_loop_kinds<F, Fut, A, C>(
    clients: usize,
    span: Span,
    kinds: usize,
    request: F,
    check: C,
) -> Vec<Measured>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(usize, A), String>> + Send,
    A: Send + 'static,
    C: Fn(A) -> Result<(), String> + Send + Sync + 'static,
{
    let (request, check) = (Arc::new(request), Arc::new(check));
    let wrong: Arc<Mutex<(u64, Option<String>)>> = Arc::new(Mutex::new((0, None)));
    let started = Instant::now();
    let deadline = started + span.duration;
    let mut tasks = Vec::new();
    for client in 0..clients {
        let (request, check, wrong) = (request.clone(), check.clone(), wrong.clone());
        tasks.push(tokio::spawn(async move {
            let mut histograms = vec![Histogram::<u64>::new(3).expect("a histogram"); kinds];
            let mut timed_out = false;
            let mut seq = 0;
            while seq < span.min_per_client || Instant::now() < deadline {
                let sent = Instant::now();
                let outcome = match span.timeout {
                    Some(limit) => tokio::time::timeout(limit, request(client, seq)).await.ok(),
                    None => Some(request(client, seq).await),
                };
                let micros = u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX).max(1);
                let checked = match outcome {
                    None => {
                        timed_out = true;
                        break;
                    }
                    Some(Ok((kind, answer))) => check(answer).map(|()| {
                        let _ = histograms[kind.min(kinds - 1)].record(micros);
                    }),
                    Some(Err(message)) => Err(message),
                };
                if let Err(message) = checked {
                    let mut wrong = wrong.lock().unwrap_or_else(|p| p.into_inner());
                    wrong.0 += 1;
                    wrong.1.get_or_insert(message);
                }
                seq += 1;
            }
            (histograms, timed_out)
        }));
    }
    let mut histograms = vec![Histogram::<u64>::new(3).expect("a histogram"); kinds];
    let mut timed_out = false;
    for task in tasks {
        if let Ok((hs, t)) = task.await {
            for (total, h) in histograms.iter_mut().zip(hs) {
                let _ = total.add(h);
            }
            timed_out |= t;
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let (wrong, first_wrong) = wrong.lock().unwrap_or_else(|p| p.into_inner()).clone();
    histograms
        .into_iter()
        .map(|histogram| {
            let ms = |q: f64| histogram.value_at_quantile(q) as f64 / 1000.0;
            Measured {
                clients,
                requests: histogram.len(),
                per_request: 1,
                seconds,
                per_second: histogram.len() as f64 / seconds,
                p50_ms: ms(0.5),
                p99_ms: ms(0.99),
                wrong,
                first_wrong: first_wrong.clone(),
                timed_out,
            }
        })
        .collect()
}

/// [`closed_loop_kinds`] with one kind of request, each worth `per_request` units.
pub async fn closed_loop<F, Fut, A, C>(clients: usize, span: Span, per_request: u64, request: F, check: C) -> Measured
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<A, String>> + Send,
    A: Send + 'static,
    C: Fn(A) -> Result<(), String> + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let mut measured = closed_loop_kinds(
        clients,
        span,
        1,
        move |client, seq| {
            let request = request.clone();
            async move { request(client, seq).await.map(|a| (0, a)) }
        },
        check,
    )
    .await
    .remove(0);
    measured.per_request = per_request;
    measured
}

/// An HTTP client of one endpoint with one key.
#[derive(Clone)]
pub struct Http {
    pub client: reqwest::Client,
    pub url: String,
    pub key: Option<String>,
}

impl Http {
    pub fn new(url: String, key: Option<String>) -> Http {
        Http {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(256)
                .build()
                .expect("an HTTP client"),
            url,
            key,
        }
    }

    /// POSTs a JSON body; the answer's bytes when the status is 200.
    pub async fn post(&self, body: Vec<u8>) -> Result<bytes::Bytes, String> {
        let mut request = self
            .client
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(key) = &self.key {
            request = request.bearer_auth(key);
        }
        let response = request.send().await.map_err(|e| format!("request failed: {e}"))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| format!("reading failed: {e}"))?;
        if status != reqwest::StatusCode::OK {
            return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&bytes)));
        }
        Ok(bytes)
    }
}
