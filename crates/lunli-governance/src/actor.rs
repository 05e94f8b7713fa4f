//! Who asks for a change, and what they may do beyond acting as themselves. The rules that
//! depend on who acts (four eyes on resuming, who may pause, whose playbook one may change) read
//! an [`Actor`] inside the store transaction that makes the change, so the command line, the
//! API and the dashboard cannot differ and no in-memory copy can be raced.

/// Who acts. The gateway builds one from an API key and its access policy
/// (`lunli_gateway::access`); the command line builds one from `--as PERSON` with no privileges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The name the ledger records: a person's id, or `key:<id>` for a key that acts for no one.
    pub name: String,
    /// The person acting, when a person acts.
    pub person: Option<String>,
    /// May act on every system as its owner could, and is never locked out by a playbook's
    /// `may_pause` (the access policy's `system.any`: admins).
    pub any_system: bool,
    /// May lift a suspension they pulled themselves (the access policy's `resume.own`).
    pub resume_own: bool,
}

impl Actor {
    /// A person acting with no privileges beyond their own.
    pub fn person(id: impl Into<String>) -> Self {
        let id = id.into();
        Self { name: id.clone(), person: Some(id), any_system: false, resume_own: false }
    }

    /// Whether this actor is the person `id`.
    pub fn is(&self, id: &str) -> bool {
        self.person.as_deref() == Some(id)
    }
}
