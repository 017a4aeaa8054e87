//! The gRPC server around the Flight service: a layer that answers requests
//! that do not decode as the client's mistake (connections are accepted in
//! [`crate::tls`]).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tonic::codegen::http::{self, HeaderValue};

/// What tonic's protobuf codec says of a request message that does not decode
/// (`prost::DecodeError`'s text), which it answers as INTERNAL.
const DECODE_FAILURE: &str = "failed to decode Protobuf message";

/// gRPC status code INTERNAL.
const INTERNAL: &str = "13";
/// gRPC status code INVALID_ARGUMENT.
const INVALID_ARGUMENT: &str = "3";

/// Turns tonic's INTERNAL for an undecodable request message into
/// INVALID_ARGUMENT: the bytes came from the client, the server is fine.
///
/// The generated Flight service fixes its codec, so its decode failure can
/// only be recognised on the way out, by the codec's own message; the
/// message is kept.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct InvalidRequestLayer;

impl<S> tower::Layer<S> for InvalidRequestLayer {
    type Service = InvalidRequest<S>;

    fn layer(&self, inner: S) -> Self::Service {
        InvalidRequest { inner }
    }
}

/// The service [`InvalidRequestLayer`] wraps.
#[derive(Debug, Clone)]
pub(crate) struct InvalidRequest<S> {
    inner: S,
}

/// Rewrites a trailers-only INTERNAL answer to a request that did not decode.
fn reclassify<B>(mut response: http::Response<B>) -> http::Response<B> {
    let headers = response.headers();
    let undecodable = headers.get("grpc-status").is_some_and(|s| s == INTERNAL)
        && headers
            .get("grpc-message")
            .and_then(|m| m.to_str().ok())
            .is_some_and(|m| m.starts_with(DECODE_FAILURE) || m.contains("decode%20Protobuf"));
    if undecodable {
        response
            .headers_mut()
            .insert("grpc-status", HeaderValue::from_static(INVALID_ARGUMENT));
    }
    response
}

impl<S, Req, B> tower::Service<http::Request<Req>> for InvalidRequest<S>
where
    S: tower::Service<http::Request<Req>, Response = http::Response<B>>,
    S::Future: Send + 'static,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Req>) -> Self::Future {
        let future = self.inner.call(request);
        Box::pin(async move { future.await.map(reclassify) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: &'static str, message: &'static str) -> http::Response<()> {
        let mut r = http::Response::new(());
        r.headers_mut()
            .insert("grpc-status", HeaderValue::from_static(status));
        r.headers_mut()
            .insert("grpc-message", HeaderValue::from_static(message));
        r
    }

    #[test]
    fn only_undecodable_requests_change_code() {
        let r = reclassify(answer(
            INTERNAL,
            "failed to decode Protobuf message: invalid wire type value: 7",
        ));
        assert_eq!(r.headers()["grpc-status"], INVALID_ARGUMENT);
        let r = reclassify(answer(INTERNAL, "conversion task: panicked"));
        assert_eq!(r.headers()["grpc-status"], INTERNAL);
        let r = reclassify(answer("5", "failed to decode Protobuf message"));
        assert_eq!(r.headers()["grpc-status"], "5");
    }
}
