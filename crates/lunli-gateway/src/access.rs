//! Who may do what: API keys (only their SHA-256 is ever stored) and a role → action policy
//! read from data (`access.toml`), so an organisation changes permissions without code.

use std::collections::{BTreeMap, BTreeSet};

use lunli_governance::Actor;
use lunli_governance::store::ApiKey;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::GatewayError;

/// The default policy compiled in.
pub const DEFAULT_POLICY: &str = include_str!("../access.toml");

/// Prefix of every secret, so a leaked key is recognisable in logs and scanners.
pub const KEY_PREFIX: &str = "lk_";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    role: Vec<RoleEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleEntry {
    id: String,
    #[allow(dead_code)]
    description: String,
    actions: Vec<String>,
}

/// Actions the gateway knows; a policy naming any other is rejected when loaded.
pub const ACTIONS: &[&str] = &[
    "decision.create",
    "system.suspend",
    "system.resume",
    "state.read",
    "consent.read",
    "consent.write",
    "resume.own",
    "system.any",
    "review.read",
    "review.resolve",
    "feedback.read",
    "incident.read",
    "incident.write",
    "outcome.write",
    "alert.read",
    "playbook.read",
    "playbook.write",
    "metrics.read",
];

/// Roles and the actions they grant.
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    roles: BTreeMap<String, BTreeSet<String>>,
}

impl AccessPolicy {
    /// Parses a policy file; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<Self, GatewayError> {
        let file: PolicyFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            GatewayError::Config { file: name.to_string(), line, reason: e.message().to_string() }
        })?;
        let mut roles = BTreeMap::new();
        for role in file.role {
            for action in &role.actions {
                if !ACTIONS.contains(&action.as_str()) {
                    return Err(GatewayError::Config {
                        file: name.to_string(),
                        line: None,
                        reason: format!(
                            "role {} grants unknown action `{action}`; known: {}",
                            role.id,
                            ACTIONS.join(", ")
                        ),
                    });
                }
            }
            roles.insert(role.id, role.actions.into_iter().collect());
        }
        Ok(Self { roles })
    }

    pub fn default_policy() -> Result<Self, GatewayError> {
        Self::parse("access.toml (built in)", DEFAULT_POLICY)
    }

    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.keys().map(String::as_str)
    }

    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains_key(role)
    }

    /// Who a key acts as, for the governance rules that depend on it (four eyes, owner scope,
    /// who may pause): the person behind it, or the key itself, with what its roles allow.
    pub fn actor(&self, key: &ApiKey) -> Actor {
        Actor {
            name: key.person.clone().unwrap_or_else(|| format!("key:{}", key.id)),
            person: key.person.clone(),
            any_system: self.allows(key, "system.any"),
            resume_own: self.allows(key, "resume.own"),
        }
    }

    /// Whether any of the key's roles grants `action`.
    pub fn allows(&self, key: &ApiKey, action: &str) -> bool {
        key.revoked_at.is_none() && key.roles.iter().any(|r| self.roles.get(r).is_some_and(|a| a.contains(action)))
    }
}

/// SHA-256 (hex) of a presented secret: what is stored and looked up.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// [`hash_secret`] written into `out` instead of a new string, for the lookup every request makes.
pub fn secret_hash_hex<'a>(secret: &str, out: &'a mut [u8; 64]) -> &'a str {
    // Infallible: 32 bytes always fill 64 hex digits, and hex digits are ASCII.
    let _ = hex::encode_to_slice(Sha256::digest(secret.as_bytes()), out);
    std::str::from_utf8(out).unwrap_or_default()
}

/// A new secret `lk_<id>_<32 random bytes hex>` and its public id.
pub fn new_secret() -> Result<(String, String), GatewayError> {
    let mut id = [0u8; 4];
    let mut secret = [0u8; 32];
    getrandom::fill(&mut id).map_err(|e| GatewayError::Random(e.to_string()))?;
    getrandom::fill(&mut secret).map_err(|e| GatewayError::Random(e.to_string()))?;
    let id = hex::encode(id);
    Ok((id.clone(), format!("{KEY_PREFIX}{id}_{}", hex::encode(secret))))
}

/// A new API key for `name` with `roles`, and its secret: the key holds only the secret's hash,
/// so the secret is shown once, to whoever asked for it.
pub fn new_key(
    name: &str,
    person: Option<&str>,
    roles: Vec<String>,
    created_by: &str,
    at: jiff::Timestamp,
) -> Result<(ApiKey, String), GatewayError> {
    let (id, secret) = new_secret()?;
    let key = ApiKey {
        id,
        name: name.to_string(),
        person: person.map(str::to_string),
        roles,
        sha256: hash_secret(&secret),
        created_by: created_by.to_string(),
        created_at: at,
        revoked_at: None,
    };
    Ok((key, secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(roles: &[&str]) -> ApiKey {
        ApiKey {
            id: "k".into(),
            name: "k".into(),
            person: None,
            roles: roles.iter().map(|r| r.to_string()).collect(),
            sha256: String::new(),
            created_by: "t".into(),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            revoked_at: None,
        }
    }

    #[test]
    fn the_default_policy_grants_by_role() {
        let policy = AccessPolicy::default_policy().expect("built-in policy parses");
        assert!(policy.allows(&key(&["service"]), "decision.create"));
        assert!(!policy.allows(&key(&["service"]), "system.suspend"));
        assert!(policy.allows(&key(&["operator"]), "system.suspend"));
        assert!(!policy.allows(&key(&["operator"]), "system.resume"));
        assert!(policy.allows(&key(&["reviewer", "owner"]), "system.resume"));
        for role in ["operator", "auditor", "admin"] {
            assert!(policy.allows(&key(&[role]), "metrics.read"), "{role}");
        }
        assert!(!policy.allows(&key(&["service"]), "metrics.read"));
        let mut revoked = key(&["admin"]);
        revoked.revoked_at = Some(jiff::Timestamp::UNIX_EPOCH);
        assert!(!policy.allows(&revoked, "state.read"));
    }

    #[test]
    fn a_policy_with_an_unknown_action_is_rejected() {
        let err = AccessPolicy::parse("p.toml", "[[role]]\nid = \"x\"\ndescription = \"\"\nactions = [\"nuke\"]\n")
            .expect_err("unknown action");
        assert!(err.to_string().contains("unknown action `nuke`"), "{err}");
        let err = AccessPolicy::parse("p.toml", "[[role]]\nid = \"x\"\nactions = 3\n").expect_err("bad type");
        assert!(err.to_string().contains("p.toml:3"), "{err}");
    }

    #[test]
    fn secrets_are_long_random_and_only_their_hash_is_kept() {
        let (id, secret) = new_secret().expect("random");
        assert!(secret.starts_with(&format!("{KEY_PREFIX}{id}_")));
        assert_eq!(secret.len(), 3 + 8 + 1 + 64);
        assert_eq!(hash_secret(&secret).len(), 64);
        let mut hex = [0u8; 64];
        assert_eq!(secret_hash_hex(&secret, &mut hex), hash_secret(&secret));
        assert_ne!(new_secret().expect("random").1, secret);
    }
}
