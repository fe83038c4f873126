//! Raw WebSocket connections to `/graphql`, for what a subscriber's first steps show: the
//! protocol agreed, the answer to `connection_init`, the close codes.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};

use super::TestApp;

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a WebSocket to `/graphql` speaking `protocol` (`graphql-transport-ws` or the
/// legacy `graphql-ws`) and checks that the server agreed to it.
pub async fn open_socket(app: &TestApp, protocol: &'static str) -> Socket {
    let mut request = format!("ws://{}/graphql", app.address).into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static(protocol));
    let (socket, response) = tokio_tungstenite::connect_async(request).await.expect("upgrade");
    assert_eq!(response.headers()["sec-websocket-protocol"], protocol);
    socket
}

/// `connection_init`'s payload that authenticates with `key`.
pub fn bearer(key: &str) -> Value {
    json!({ "Authorization": format!("Bearer {key}") })
}

/// Sends `connection_init` with `payload`; returns the server's first reply within 5 s, or
/// `None` when it answers with anything but a text message (it closes the connection).
pub async fn init(socket: &mut Socket, payload: Value) -> Option<Value> {
    let message = json!({ "type": "connection_init", "payload": payload });
    socket.send(Message::Text(message.to_string().into())).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .expect("a reply in time");
    match reply {
        Some(Ok(Message::Text(text))) => Some(serde_json::from_str(&text).unwrap()),
        _ => None,
    }
}
