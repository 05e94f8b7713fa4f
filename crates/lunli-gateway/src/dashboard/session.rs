//! Dashboard sessions: a person signs in once with an API key; the browser then holds only a
//! random session token in an HttpOnly, SameSite=Strict cookie (also Secure over HTTPS). The server keeps, per session,
//! the SHA-256 of the key (never the key) and a CSRF token that every form must echo.
//!
//! Sessions live in this instance's memory: restarting the gateway signs everyone out, and a
//! person using two instances signs in on each.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

use crate::GatewayError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "lunli_session";
/// Cookie binding the sign-in form to the browser that loaded it (login CSRF).
pub const LOGIN_COOKIE: &str = "lunli_login";
/// The language cookie.
pub const LANG_COOKIE: &str = "lunli_lang";
/// A session unused this long ends.
pub const IDLE: Duration = Duration::from_secs(8 * 60 * 60);

struct Session {
    key_sha256: String,
    csrf: String,
    last_used: Instant,
}

/// What a live session holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionData {
    pub key_sha256: String,
    pub csrf: String,
}

/// Every live session of this instance, by SHA-256 of its token.
#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session for a key; returns the token for the cookie.
    pub fn start(&self, key_sha256: &str) -> Result<String, GatewayError> {
        let token = random_token()?;
        let csrf = random_token()?;
        let mut live = self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let now = Instant::now();
        live.retain(|_, s| now.duration_since(s.last_used) < IDLE);
        live.insert(digest(&token), Session { key_sha256: key_sha256.to_string(), csrf, last_used: now });
        Ok(token)
    }

    /// The session behind a token, if live; using it keeps it alive.
    pub fn get(&self, token: &str) -> Option<SessionData> {
        let mut live = self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let id = digest(token);
        let now = Instant::now();
        let session = live.get_mut(&id)?;
        if now.duration_since(session.last_used) >= IDLE {
            live.remove(&id);
            return None;
        }
        session.last_used = now;
        Some(SessionData { key_sha256: session.key_sha256.clone(), csrf: session.csrf.clone() })
    }

    pub fn end(&self, token: &str) {
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&digest(token));
    }
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// 32 random bytes, hex.
pub fn random_token() -> Result<String, GatewayError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| GatewayError::Random(e.to_string()))?;
    Ok(hex::encode(bytes))
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && !a.is_empty() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie the browser sent.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, for the dashboard's paths only; `Secure`
/// (sent back over HTTPS only) when the browser reached the gateway over HTTPS.
pub fn set_cookie(name: &str, value: &str, max_age: Option<Duration>, secure: bool) -> String {
    let mut c = cookie::Cookie::build((name, value))
        .path("/ui")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .secure(secure);
    if let Some(age) = max_age {
        c = c.max_age(cookie::time::Duration::seconds(i64::try_from(age.as_secs()).unwrap_or(i64::MAX)));
    }
    c.build().to_string()
}

/// A `Set-Cookie` value that removes a cookie.
pub fn clear_cookie(name: &str, secure: bool) -> String {
    set_cookie(name, "", Some(Duration::ZERO), secure)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_token_only_and_ends_on_sign_out() {
        let sessions = Sessions::default();
        let token = sessions.start("keyhash").expect("start");
        let data = sessions.get(&token).expect("live");
        assert_eq!(data.key_sha256, "keyhash");
        assert_eq!(data.csrf.len(), 64);
        assert!(sessions.get("not-a-token").is_none());
        assert!(sessions.get(&token[..63]).is_none());
        sessions.end(&token);
        assert!(sessions.get(&token).is_none());
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", ""));
    }

    #[test]
    fn cookies_are_read_from_every_header_and_set_strict() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; lunli_lang=zh".parse().expect("header"));
        headers.append(header::COOKIE, "lunli_session=tok".parse().expect("header"));
        assert_eq!(cookie(&headers, LANG_COOKIE).as_deref(), Some("zh"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("tok"));
        assert_eq!(cookie(&headers, "missing"), None);
        let set = set_cookie(SESSION_COOKIE, "tok", None, false);
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/ui"), "{set}");
        assert!(!set.contains("Secure"), "{set}");
        let secure = set_cookie(SESSION_COOKIE, "tok", None, true);
        assert!(secure.contains("; Secure") && secure.contains("HttpOnly") && secure.contains("SameSite=Strict"));
        assert!(clear_cookie(SESSION_COOKIE, false).contains("Max-Age=0"));
        assert!(clear_cookie(SESSION_COOKIE, true).contains("Secure"));
    }
}
