//! `lunli filing algorithm|genai SYSTEM`: drafts, in Chinese, the self-assessment material of
//! China's algorithm filing and generative-AI service registration from the system's records,
//! every field traced to its source and the gaps listed. Markdown by default, `--format json`
//! or `yaml` for scripts. The draft itself is computed in lunli-governance.

use anyhow::Result;
use clap::Subcommand;
use lunli_governance::Governance;
use lunli_governance::filing::{FilingInput, FilingKind, draft, markdown};

use crate::context::Context;
use crate::output::Out;

#[derive(Debug, Subcommand)]
pub enum FilingCommand {
    /// 算法备案: the algorithm filing material (Algorithm Recommendation Provisions, Art. 24).
    Algorithm { system: String },
    /// 生成式人工智能服务备案: generative-AI service registration material (Interim Measures 2023).
    Genai { system: String },
}

pub fn run(ctx: &Context, command: &FilingCommand, out: &mut Out) -> Result<()> {
    let (kind, system_id) = match command {
        FilingCommand::Algorithm { system } => (FilingKind::Algorithm, system),
        FilingCommand::Genai { system } => (FilingKind::Genai, system),
    };
    let store = ctx.store()?;
    let gov = Governance::new(&ctx.catalogue, &store);
    let current = gov.system(system_id)?;
    let intake = gov.latest_intake(system_id)?;
    // A draft is useful before the assessment is opened too: then its fields are gaps.
    let assessment = match gov.assessment(system_id) {
        Ok(a) => Some(a),
        Err(
            lunli_governance::GovernanceError::NotFound { .. }
            | lunli_governance::GovernanceError::Refused { .. }
            | lunli_governance::GovernanceError::Blocked { .. },
        ) => None,
        Err(e) => return Err(e.into()),
    };
    let people = gov.people()?;
    let owner = people.iter().find(|p| p.id == current.system.owner);
    let filing = draft(
        kind,
        &FilingInput {
            catalogue: &ctx.catalogue,
            system: &current.system,
            version: current.version,
            owner,
            intake: intake.as_ref(),
            assessment: assessment.as_ref(),
        },
    );
    if !out.is_table() {
        return out.data(&filing);
    }
    out.block(markdown(&filing));
    Ok(())
}
