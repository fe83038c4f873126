//! W5's subscribers, run in a child process so that the server's memory (the parent's
//! RSS) holds the server's side of each connection only. The child opens `count`
//! `graphql-transport-ws` connections with one `quotaEvents` subscription each and talks
//! to the parent by lines:
//! - out `subscribed`: every connection is acknowledged and has subscribed;
//! - out `live`: every subscription has received an event (the parent sends usage
//!   until then), so each is registered on the server's bus;
//! - out `R <tenant id> <threshold> <unix µs>`: a THRESHOLD_CROSSED event received;
//! - out `E <message>`: a subscription failed;
//! - in `close`: close every connection, then out `closed` and exit.

use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt, stream};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

pub const QUERY: &str = "subscription($org: ID!, $unit: String!) {
  quotaEvents(organizationId: $org, unitType: $unit) { kind tenantId threshold }
}";

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    #[arg(long)]
    url: String,
    #[arg(long)]
    key: String,
    #[arg(long)]
    org: String,
    #[arg(long)]
    unit: String,
    #[arg(long)]
    count: usize,
}

/// Microseconds since the epoch: the one clock parent and child share.
pub fn micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

enum Heard {
    Live,
    Crossed(String, f64, i64),
    Failed(String),
}

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(args: &Args) -> anyhow::Result<Socket> {
    let mut request = args.url.as_str().into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    let send = |v: Value| Message::Text(v.to_string().into());
    socket
        .send(send(
            json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {}", args.key) } }),
        ))
        .await?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text)?;
                if message["type"] == "connection_ack" {
                    break;
                }
                anyhow::bail!("no connection_ack: {message}");
            }
            Some(Ok(_)) => {}
            other => anyhow::bail!("the connection ended before its ack: {other:?}"),
        }
    }
    let variables = json!({ "org": args.org, "unit": args.unit });
    socket
        .send(send(
            json!({ "type": "subscribe", "id": "1", "payload": { "query": QUERY, "variables": variables } }),
        ))
        .await?;
    Ok(socket)
}

async fn listen(mut socket: Socket, heard: mpsc::UnboundedSender<Heard>, mut close: watch::Receiver<bool>) {
    let mut live = false;
    loop {
        tokio::select! {
            frame = socket.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    other => {
                        let _ = heard.send(Heard::Failed(format!("the connection ended: {other:?}")));
                        return;
                    }
                };
                let Ok(message) = serde_json::from_str::<Value>(&text) else { continue };
                match message["type"].as_str() {
                    Some("next") => {
                        let event = &message["payload"]["data"]["quotaEvents"];
                        if !live {
                            live = true;
                            let _ = heard.send(Heard::Live);
                        }
                        if event["kind"] == "THRESHOLD_CROSSED"
                            && let (Some(tenant), Some(threshold)) = (event["tenantId"].as_str(), event["threshold"].as_f64())
                        {
                            let _ = heard.send(Heard::Crossed(tenant.to_owned(), threshold, micros()));
                        }
                    }
                    Some("ping") => {
                        let _ = socket.send(Message::Text(json!({ "type": "pong" }).to_string().into())).await;
                    }
                    Some("error" | "complete") => {
                        let _ = heard.send(Heard::Failed(message.to_string()));
                    }
                    _ => {}
                }
            }
            _ = close.changed() => {
                let _ = socket.close(None).await;
                return;
            }
        }
    }
}

/// The child's whole life.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (heard_tx, mut heard) = mpsc::unbounded_channel();
    let (close_tx, close) = watch::channel(false);
    let sockets: Vec<anyhow::Result<Socket>> = stream::iter(0..args.count)
        .map(|_| open(&args))
        .buffer_unordered(32)
        .collect()
        .await;
    let mut tasks = Vec::new();
    for socket in sockets {
        tasks.push(tokio::spawn(listen(socket?, heard_tx.clone(), close.clone())));
    }
    drop(heard_tx);
    println!("subscribed");
    let mut stdin = BufReader::new(tokio::io::stdin()).lines();
    let mut live = 0;
    loop {
        tokio::select! {
            message = heard.recv() => match message {
                Some(Heard::Live) => {
                    live += 1;
                    if live == args.count {
                        println!("live");
                    }
                }
                Some(Heard::Crossed(tenant, threshold, at)) => println!("R {tenant} {threshold} {at}"),
                Some(Heard::Failed(message)) => println!("E {message}"),
                None => break,
            },
            line = stdin.next_line() => {
                if !matches!(line, Ok(Some(ref l)) if l.trim() != "close") {
                    break;
                }
            }
        }
    }
    let _ = close_tx.send(true);
    for task in tasks {
        let _ = task.await;
    }
    println!("closed");
    Ok(())
}
