//! Passportal's two credentials and the tokens they buy.
//!
//! The exchange (N-able's "Create HMAC" and "Authorization" pages): the caller picks any plain
//! text `content`, sends `x-hash = hex(HMAC-SHA256(key = secret access key as bytes, msg =
//! content))` and the content itself; the server recomputes and compares. Nothing else is signed,
//! so a content/hash pair can be replayed — the simulator accepts that, as Passportal does.
//!
//! The access token looks like the documented one (`eyJ…` in three dot-separated parts) because
//! it is a real HS256 JWT, signed with a key derived from the current secret. Its refusals borrow
//! the messages of the PHP JWT library the documented "Invalid token: Malformed UTF-8
//! characters." comes from ("Wrong number of segments", "Signature verification failed",
//! "Expired token"); that choice is the simulator's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Lowercase hex of `HMAC-SHA256(key, msg)`: what a client sends as `x-hash`. Only the tests
/// play the client; the server side compares with [`verify_hash`].
#[cfg(test)]
pub fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    hex(&hmac_raw(key, msg))
}

fn hmac_raw(key: &[u8], msg: &[u8]) -> Vec<u8> {
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().to_vec()
        }
        // HMAC takes keys of any length; this arm cannot run, and an empty MAC matches nothing.
        Err(_) => Vec::new(),
    }
}

/// Whether `x_hash` is the lowercase hex HMAC of `content` under `secret`, compared in constant
/// time. Uppercase hex is refused: every public client sends lowercase, and whether Passportal
/// accepts anything else is unknown, so the strict answer keeps clients on the known-good form.
pub fn verify_hash(secret: &str, content: &str, x_hash: &str) -> bool {
    let Some(given) = unhex_lower(x_hash) else {
        return false;
    };
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(content.as_bytes());
            mac.verify_slice(&given).is_ok()
        }
        Err(_) => false,
    }
}

#[cfg(test)]
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Decodes lowercase hex (only lowercase: see [`verify_hash`]).
fn unhex_lower(s: &str) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if b.is_empty() || !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| Some((nibble(p[0])? << 4) | nibble(p[1])?))
        .collect()
}

/// What a token says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The tenant.
    pub org: i64,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds (the response's `expiry_time`).
    pub exp: i64,
    /// The token's serial number (see `PassportalSim::expire_tokens`).
    pub jti: u64,
}

/// Why a token is refused; the text goes after "Invalid token: ".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    WrongSegments,
    Malformed,
    BadSignature,
    Expired,
    /// A newer token was issued while `PassportalSim::set_new_token_revokes_old` was on.
    Revoked,
}

impl Refusal {
    pub fn message(self) -> &'static str {
        match self {
            Refusal::WrongSegments => "Invalid token: Wrong number of segments.",
            // The documented text, verbatim.
            Refusal::Malformed => "Invalid token: Malformed UTF-8 characters.",
            Refusal::BadSignature => "Invalid token: Signature verification failed.",
            Refusal::Expired => "Invalid token: Expired token.",
            // The simulator's wording: Passportal documents nothing about revocation.
            Refusal::Revoked => "Invalid token: Token revoked.",
        }
    }
}

const HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

/// A signed HS256 JWT carrying `claims`.
pub fn issue(signing_key: &[u8], claims: &Claims) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut token = URL_SAFE_NO_PAD.encode(HEADER);
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(payload));
    let sig = hmac_raw(signing_key, token.as_bytes());
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(sig));
    token
}

/// The claims of a token this key signed, or why it is refused. Expiry is judged by the caller.
pub fn decode(signing_key: &[u8], token: &str) -> Result<Claims, Refusal> {
    let mut parts = token.split('.');
    let (Some(head), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Refusal::WrongSegments);
    };
    let payload = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| Refusal::Malformed)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| Refusal::Malformed)?;
    let header_ok = URL_SAFE_NO_PAD
        .decode(head)
        .is_ok_and(|h| h == HEADER.as_bytes());
    if !header_ok {
        return Err(Refusal::Malformed);
    }
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| Refusal::Malformed)?;
    let signed = &token[..head.len() + 1 + body.len()];
    let mut mac = HmacSha256::new_from_slice(signing_key).map_err(|_| Refusal::BadSignature)?;
    mac.update(signed.as_bytes());
    mac.verify_slice(&sig).map_err(|_| Refusal::BadSignature)?;
    Ok(claims)
}

/// The key tokens are signed with: derived from the secret, so rotating it voids every token.
pub fn signing_key(secret: &str, rotation: u64) -> Vec<u8> {
    hmac_raw(
        format!("passportal-sim-jwt-{rotation}").as_bytes(),
        secret.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_research_notes_test_vector() {
        // research/passportal.md §2.2: HMAC_SHA256(key="test-secret-access-key",
        // msg="api-content-hash"), lowercase hex.
        assert_eq!(
            hmac_hex(b"test-secret-access-key", b"api-content-hash"),
            "18f1b37c1779ab6b4c5af70eeafb505cc55cb27a9fd7fe202e11ad72c92906d9"
        );
        assert!(verify_hash(
            "test-secret-access-key",
            "api-content-hash",
            "18f1b37c1779ab6b4c5af70eeafb505cc55cb27a9fd7fe202e11ad72c92906d9"
        ));
    }

    #[test]
    fn rfc_4231_case_2() {
        // An independent vector, so the notes' one is not the only check.
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn only_the_exact_lowercase_hash_verifies() {
        let good = hmac_hex(b"s3cret", b"content");
        assert!(verify_hash("s3cret", "content", &good));
        assert!(!verify_hash("s3cret", "content", &good.to_uppercase()));
        assert!(!verify_hash("s3cret", "content ", &good));
        assert!(!verify_hash("s3cres", "content", &good));
        assert!(!verify_hash("s3cret", "content", &good[..62]));
        assert!(!verify_hash("s3cret", "content", ""));
        assert!(!verify_hash("s3cret", "content", "zz"));
        // The key is the secret's text, not its hex decoding.
        let hexy = "00ff00ff";
        assert_eq!(hmac_hex(hexy.as_bytes(), b"x"), hmac_hex(b"00ff00ff", b"x"));
        assert_ne!(
            hmac_hex(hexy.as_bytes(), b"x"),
            hmac_hex(&[0, 255, 0, 255], b"x")
        );
    }

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let key = signing_key("secret", 0);
        let claims = Claims {
            org: 27186,
            iat: 1_700_000_000,
            exp: 1_700_003_600,
            jti: 7,
        };
        let token = issue(&key, &claims);
        assert!(token.starts_with("eyJ"), "{token}");
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(decode(&key, &token), Ok(claims));
        assert_eq!(
            decode(&signing_key("secret", 1), &token),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            decode(&signing_key("other", 0), &token),
            Err(Refusal::BadSignature)
        );
        assert_eq!(decode(&key, ""), Err(Refusal::WrongSegments));
        assert_eq!(decode(&key, "a.b"), Err(Refusal::WrongSegments));
        assert_eq!(decode(&key, "a.b.c.d"), Err(Refusal::WrongSegments));
        assert_eq!(decode(&key, "not!.base64!.x"), Err(Refusal::Malformed));
        let mut tampered: Vec<&str> = token.split('.').collect();
        let other = URL_SAFE_NO_PAD.encode(r#"{"org":1,"iat":0,"exp":9999999999,"jti":7}"#);
        tampered[1] = &other;
        assert_eq!(
            decode(&key, &tampered.join(".")),
            Err(Refusal::BadSignature)
        );
    }
}
