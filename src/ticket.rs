//! Stateless, signed tickets and handles: a [`StatementHandle`] sealed in a
//! [`SignedEnvelope`] with HMAC-SHA256 under the server key, so any replica
//! that shares the key can serve any DoGet, and a forged or altered ticket is
//! refused.

use bytes::Bytes;
use hmac::{Hmac, Mac as _};
use prost::Message as _;
use rand::RngCore as _;
use sha2::Sha256;

/// The gateway's own protobuf messages (`proto/redshift_flight_sql.proto`).
#[allow(missing_docs, unreachable_pub, clippy::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/redshift_flight_sql.v1.rs"));
}

pub use proto::{PayloadKind, StatementHandle};

/// The envelope version this server writes and reads.
const VERSION: u32 = 1;

/// Why a ticket or handle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    /// Not a message this server wrote.
    #[error("malformed ticket: {0}")]
    Malformed(String),
    /// A version this server does not read.
    #[error("unsupported ticket version {0}")]
    UnsupportedVersion(u32),
    /// A ticket used where a descriptor belongs, or the reverse.
    #[error("this handle is not a {0}")]
    WrongKind(&'static str),
    /// The signature does not verify: forged, altered, or from another key.
    #[error("ticket signature does not verify")]
    BadSignature,
}

/// Seals and opens handles with the server key.
#[derive(Clone)]
pub struct TicketSigner {
    key: Vec<u8>,
}

impl std::fmt::Debug for TicketSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketSigner { key: <redacted> }")
    }
}

fn kind_name(kind: PayloadKind) -> &'static str {
    match kind {
        PayloadKind::Ticket => "ticket",
        PayloadKind::Poll => "poll descriptor",
        PayloadKind::Prepared => "prepared statement handle",
        PayloadKind::Transaction => "transaction id",
        PayloadKind::Session => "session cookie",
        PayloadKind::Unspecified => "handle",
    }
}

impl TicketSigner {
    /// A signer with `key`, or with a random per-process key when `None`
    /// (replicas behind one load balancer then need a shared key).
    pub fn new(key: Option<&[u8]>) -> Self {
        let key = match key {
            Some(k) if !k.is_empty() => k.to_vec(),
            _ => {
                let mut k = vec![0u8; 32];
                rand::thread_rng().fill_bytes(&mut k);
                k
            }
        };
        Self { key }
    }

    fn keyed(&self) -> Hmac<Sha256> {
        <Hmac<Sha256>>::new_from_slice(&self.key).expect("HMAC accepts keys of any length")
    }

    fn mac(&self, kind: i32, payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.keyed();
        mac.update(&VERSION.to_be_bytes());
        mac.update(&kind.to_be_bytes());
        mac.update(payload);
        mac
    }

    /// Signs `handle` as a `kind`.
    pub fn seal(&self, kind: PayloadKind, handle: &impl prost::Message) -> Bytes {
        let payload = handle.encode_to_vec();
        let signature = self
            .mac(kind as i32, &payload)
            .finalize()
            .into_bytes()
            .to_vec();
        proto::SignedEnvelope {
            version: VERSION,
            kind: kind as i32,
            payload,
            signature,
        }
        .encode_to_vec()
        .into()
    }

    /// Verifies and decodes a `kind` sealed by [`Self::seal`].
    pub fn open<M: prost::Message + Default>(
        &self,
        kind: PayloadKind,
        bytes: &[u8],
    ) -> Result<M, TicketError> {
        let envelope = proto::SignedEnvelope::decode(bytes)
            .map_err(|e| TicketError::Malformed(e.to_string()))?;
        if envelope.version != VERSION {
            return Err(TicketError::UnsupportedVersion(envelope.version));
        }
        if envelope.kind != kind as i32 {
            return Err(TicketError::WrongKind(kind_name(kind)));
        }
        self.mac(envelope.kind, &envelope.payload)
            .verify_slice(&envelope.signature)
            .map_err(|_| TicketError::BadSignature)?;
        M::decode(envelope.payload.as_ref()).map_err(|e| TicketError::Malformed(e.to_string()))
    }

    /// An HMAC-SHA256 of `data` (for bearer tokens).
    pub fn sign(&self, data: &[u8]) -> Vec<u8> {
        let mut mac = self.keyed();
        mac.update(b"bearer\0");
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    /// Checks a signature made by [`Self::sign`] in constant time.
    pub fn verify(&self, data: &[u8], signature: &[u8]) -> bool {
        let mut mac = self.keyed();
        mac.update(b"bearer\0");
        mac.update(data);
        mac.verify_slice(signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handle() -> StatementHandle {
        StatementHandle {
            statement_id: "d9b6c0c9-0747-4bf4-b142-e8883122f766".into(),
            owner: "alice|gateway".into(),
            result_format: proto::ResultFormat::Json as i32,
            expires_at: 1,
            submitted_at_millis: 2,
            has_result_set: true,
            database: "dev".into(),
            announced_schema: Vec::new(),
            ..StatementHandle::default()
        }
    }

    #[test]
    fn round_trip_and_refusals() {
        let signer = TicketSigner::new(Some(b"k1"));
        let sealed = signer.seal(PayloadKind::Ticket, &handle());
        assert_eq!(
            signer.open::<StatementHandle>(PayloadKind::Ticket, &sealed),
            Ok(handle())
        );
        assert_eq!(
            signer.open::<StatementHandle>(PayloadKind::Poll, &sealed),
            Err(TicketError::WrongKind("poll descriptor"))
        );
        let other = TicketSigner::new(Some(b"k2"));
        assert_eq!(
            other.open::<StatementHandle>(PayloadKind::Ticket, &sealed),
            Err(TicketError::BadSignature)
        );
        // Change the owner inside the payload: the signature no longer verifies.
        let mut envelope = proto::SignedEnvelope::decode(sealed.as_ref()).expect("decode");
        let mut forged = handle();
        forged.owner = "mallory|gateway".into();
        envelope.payload = forged.encode_to_vec();
        assert_eq!(
            signer.open::<StatementHandle>(PayloadKind::Ticket, &envelope.encode_to_vec()),
            Err(TicketError::BadSignature)
        );
        assert!(matches!(
            signer.open::<StatementHandle>(PayloadKind::Ticket, b"\xff\xff"),
            Err(TicketError::Malformed(_))
        ));
        assert!(signer.verify(b"x", &signer.sign(b"x")));
        assert!(!other.verify(b"x", &signer.sign(b"x")));
    }
}
