//! The command to run next, for an error the libraries describe as data: a
//! [`GovernanceError::Blocked`] names the step that unblocks it, a [`GovernanceError::NotFound`]
//! the kind of record whose list shows what exists. The libraries never name a command line;
//! this is where the command line names itself.

use lunli_governance::{GovernanceError, Step};

/// A `hint:` line for the error, when a command helps.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    let governance = err.chain().find_map(|cause| cause.downcast_ref::<GovernanceError>())?;
    match governance {
        GovernanceError::Blocked { next, .. } => Some(format!("run {}", step(next))),
        GovernanceError::NotFound { what, .. } => listing(what).map(|command| format!("{command} shows what exists")),
        _ => None,
    }
}

fn step(next: &Step) -> String {
    match next {
        Step::Intake { system } => format!("`lunli intake {system}`"),
        Step::Assess { system } => format!("`lunli assess {system}`"),
        Step::IntakeAndAssess { system } => format!("`lunli intake {system}` and `lunli assess {system}`"),
        Step::Submit { system } => format!("`lunli assess {system} --submit`"),
        Step::Reopen { system } => format!("`lunli assess {system} --reopen`"),
        Step::ClaimReview { id } => format!("`lunli review claim {id}`"),
        Step::RecordTraining { person } => format!("`lunli person train {person}`"),
    }
}

fn listing(what: &str) -> Option<&'static str> {
    Some(match what {
        "system" => "`lunli system list`",
        "person" | "person (owner)" => "`lunli person list`",
        "vendor" => "`lunli vendor list`",
        "control" => "`lunli norms controls`",
        "control in this assessment" => "`lunli assess SYSTEM`",
        "API key" => "`lunli key list`",
        "review" => "`lunli review list`",
        "incident" => "`lunli incident list`",
        "feedback" => "`lunli feedback list`",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_request_names_the_command_that_unblocks_it() {
        let err = anyhow::Error::new(GovernanceError::Blocked {
            reason: "version 2 of credit-scoring has no intake yet".into(),
            next: Step::Intake { system: "credit-scoring".into() },
        });
        assert_eq!(hint(&err).as_deref(), Some("run `lunli intake credit-scoring`"));
        assert!(!err.to_string().contains("lunli "), "the library's message names no command: {err}");
    }

    #[test]
    fn a_missing_record_names_its_list() {
        let err = anyhow::Error::new(GovernanceError::NotFound {
            what: "review",
            id: "7".into(),
            hint: "list them to see which exist".into(),
        });
        assert_eq!(hint(&err).as_deref(), Some("`lunli review list` shows what exists"));
        let other = anyhow::Error::new(GovernanceError::Refused { reason: "no".into() });
        assert_eq!(hint(&other), None);
    }
}
