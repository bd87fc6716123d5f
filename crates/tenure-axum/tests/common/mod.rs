//! A small HTTP/1.1 client over one kept-alive connection (hyper's own client connection),
//! and a server started on a free port. Shared by the tests and the benchmark.
#![allow(dead_code)] // each user takes what it needs

use axum::Router;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};

/// Serves `app` on 127.0.0.1 at a port the system picks.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    addr
}

/// One answer.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Resp {
    /// The `name=value` part of the response's only `Set-Cookie`, if any.
    pub fn cookie(&self) -> Option<String> {
        let all: Vec<_> = self.headers.get_all("set-cookie").iter().collect();
        assert!(all.len() <= 1, "more than one Set-Cookie: {all:?}");
        all.first()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
    }

    /// The whole `Set-Cookie` value.
    pub fn set_cookie(&self) -> Option<&str> {
        self.headers.get("set-cookie").map(|v| v.to_str().unwrap())
    }

    /// The `Vary` value.
    pub fn vary(&self) -> Option<&str> {
        self.headers.get("vary").map(|v| v.to_str().unwrap())
    }
}

/// A kept-alive HTTP/1.1 connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(conn);
        Conn { sender }
    }

    pub async fn send(&mut self, method: Method, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header("host", "127.0.0.1");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Full::new(Bytes::new())).expect("request");
        self.sender.ready().await.expect("ready");
        let res = self.sender.send_request(req).await.expect("send");
        let (parts, body) = res.into_parts();
        let body = body.collect().await.expect("body").to_bytes();
        Resp {
            status: parts.status,
            headers: parts.headers,
            body: String::from_utf8(body.to_vec()).expect("utf-8 body"),
        }
    }
}

/// One request on a fresh connection.
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Resp {
    Conn::open(addr)
        .await
        .send(Method::GET, path, headers)
        .await
}
