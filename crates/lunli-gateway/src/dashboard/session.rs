//! Dashboard sessions: a person signs in once with an API key; the browser then holds only a
//! random session token in an HttpOnly, SameSite=Strict cookie (also Secure over HTTPS). The server keeps, per session,
//! the SHA-256 of the key (never the key) and a CSRF token that every form must echo.
//!
//! Sessions live in this instance's memory: restarting the gateway signs everyone out, and a
//! person using two instances signs in on each. A session ends when unused for a while (30
//! minutes by default) and at the latest a fixed time after sign-in (12 hours); at most so many
//! are kept (10,000), and signing in beyond that ends the one unused longest. See [`Limits`].

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
/// How long sessions last and how many are kept; from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however much it is used: a stolen cookie is not
    /// good for ever.
    pub lifetime: Duration,
    /// Sessions kept at once. Signing in needs no prior session, so without a bound anyone
    /// holding a key could fill the memory by signing in again and again.
    pub max: usize,
}

impl Limits {
    pub fn from_config(config: &crate::config::GatewayConfig) -> Self {
        Self {
            idle: Duration::from_secs(config.session_idle_minutes.saturating_mul(60)),
            lifetime: Duration::from_secs(config.session_lifetime_hours.saturating_mul(3600)),
            max: config.max_sessions.max(1),
        }
    }
}

struct Session {
    key_sha256: String,
    csrf: String,
    started: Instant,
    last_used: Instant,
}

impl Session {
    fn live(&self, now: Instant, limits: &Limits) -> bool {
        now.saturating_duration_since(self.last_used) < limits.idle
            && now.saturating_duration_since(self.started) < limits.lifetime
    }
}

/// What a live session holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionData {
    pub key_sha256: String,
    pub csrf: String,
}

/// Every live session of this instance, by SHA-256 of its token.
pub struct Sessions {
    live: Mutex<HashMap<String, Session>>,
    limits: Limits,
}

impl Sessions {
    pub fn new(limits: Limits) -> Self {
        Self { live: Mutex::new(HashMap::new()), limits }
    }

    /// How long the session cookie is kept: no longer than the session can live.
    pub fn cookie_age(&self) -> Duration {
        self.limits.lifetime
    }

    /// Starts a session for a key; returns the token for the cookie.
    pub fn start(&self, key_sha256: &str) -> Result<String, GatewayError> {
        self.start_at(key_sha256, Instant::now())
    }

    fn start_at(&self, key_sha256: &str, now: Instant) -> Result<String, GatewayError> {
        let token = random_token()?;
        let csrf = random_token()?;
        let mut live = self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        live.retain(|_, s| s.live(now, &self.limits));
        while live.len() >= self.limits.max {
            let Some(unused_longest) = live.iter().min_by_key(|(_, s)| s.last_used).map(|(id, _)| id.clone()) else {
                break;
            };
            live.remove(&unused_longest);
        }
        live.insert(digest(&token), Session { key_sha256: key_sha256.to_string(), csrf, started: now, last_used: now });
        Ok(token)
    }

    /// The session behind a token, if live; using it keeps it alive (up to its lifetime).
    pub fn get(&self, token: &str) -> Option<SessionData> {
        self.get_at(token, Instant::now())
    }

    fn get_at(&self, token: &str, now: Instant) -> Option<SessionData> {
        let mut live = self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let id = digest(token);
        let session = live.get_mut(&id)?;
        if !session.live(now, &self.limits) {
            live.remove(&id);
            return None;
        }
        session.last_used = now;
        Some(SessionData { key_sha256: session.key_sha256.clone(), csrf: session.csrf.clone() })
    }

    pub fn end(&self, token: &str) {
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&digest(token));
    }

    #[cfg(test)]
    fn count(&self) -> usize {
        self.live.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len()
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

    fn limits() -> Limits {
        Limits { idle: Duration::from_secs(30 * 60), lifetime: Duration::from_secs(12 * 3600), max: 3 }
    }

    #[test]
    fn a_session_is_found_by_its_token_only_and_ends_on_sign_out() {
        let sessions = Sessions::new(limits());
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
    fn a_session_ends_when_unused_for_the_idle_time_or_at_its_lifetime() {
        let sessions = Sessions::new(limits());
        let t0 = Instant::now();
        let minutes = |m: u64| t0 + Duration::from_secs(m * 60);
        let idle = sessions.start_at("a", t0).expect("start");
        assert!(sessions.get_at(&idle, minutes(29)).is_some(), "used within 30 minutes");
        assert!(sessions.get_at(&idle, minutes(58)).is_some(), "the idle time counts from the last use");
        assert!(sessions.get_at(&idle, minutes(88)).is_none(), "unused for 30 minutes");
        assert!(sessions.get_at(&idle, minutes(89)).is_none(), "and it stays ended");

        let busy = sessions.start_at("b", t0).expect("start");
        let mut at = 0;
        while at + 20 < 12 * 60 {
            at += 20;
            assert!(sessions.get_at(&busy, minutes(at)).is_some(), "in use at minute {at}");
        }
        assert!(sessions.get_at(&busy, minutes(12 * 60)).is_none(), "12 hours after sign-in, however busy");
    }

    #[test]
    fn sessions_are_bounded_the_one_unused_longest_goes_first_and_expired_ones_are_pruned() {
        let sessions = Sessions::new(limits());
        let t0 = Instant::now();
        let s = |secs: u64| t0 + Duration::from_secs(secs);
        let first = sessions.start_at("a", s(0)).expect("start");
        let second = sessions.start_at("b", s(1)).expect("start");
        let third = sessions.start_at("c", s(2)).expect("start");
        assert!(sessions.get_at(&first, s(3)).is_some(), "the first is used again");
        let fourth = sessions.start_at("d", s(4)).expect("start");
        assert_eq!(sessions.count(), 3);
        assert!(sessions.get_at(&second, s(5)).is_none(), "unused longest, so evicted");
        for token in [&first, &third, &fourth] {
            assert!(sessions.get_at(token, s(5)).is_some());
        }
        // An hour later all three are expired; the next sign-in prunes them.
        let fifth = sessions.start_at("e", s(3600)).expect("start");
        assert_eq!(sessions.count(), 1);
        assert_eq!(sessions.get_at(&fifth, s(3601)).map(|d| d.key_sha256), Some("e".to_string()));
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
