//! The organisation report: the whole inventory at a glance — systems by tier and stage,
//! approvals, overdue re-reviews, and how far each article of the norms is covered across all
//! systems.

use std::collections::BTreeMap;

use jiff::civil::Date;
use lunli_governance::Stage;
use lunli_governance::assessment::Approval;
use lunli_governance::store::Store;
use lunli_norms::{Catalogue, Text};
use serde::{Deserialize, Serialize};

use crate::ReportError;
use crate::model::{
    Header, IncidentSummary, Issue, Named, PersonRef, approval_state, open_incidents, person_ref, tier_named,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgReport {
    pub header: Header,
    pub systems: Vec<OrgSystem>,
    /// How many systems are in each tier; `untiered` for those without an intake.
    pub by_tier: Vec<Count>,
    pub by_stage: Vec<Count>,
    /// How many systems' latest assessment is in each state; `not-assessed` for none.
    pub approvals: Vec<Count>,
    /// Systems past their re-review date (Art. 5, Art. 8).
    pub overdue: Vec<String>,
    /// Systems whose latest assessment is for an older version.
    pub stale: Vec<String>,
    /// Every article some required control cites, across all systems' latest assessments.
    pub coverage: Vec<ArticleCoverage>,
    /// Active suspensions across all systems.
    pub suspended: Vec<String>,
    /// Incidents not yet resolved across all systems, most severe first.
    pub open_incidents: Vec<IncidentSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Count {
    pub id: String,
    pub name: Text,
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgSystem {
    pub id: String,
    pub name: String,
    pub owner: PersonRef,
    pub stage: Named,
    pub version: u32,
    pub tier: Option<Named>,
    pub state: Option<Named>,
    pub assessed_version: Option<u32>,
    pub review_due: Option<Date>,
    pub overdue: bool,
    pub resolved: usize,
    pub required: usize,
    pub suspended: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleCoverage {
    pub number: u8,
    pub label: Text,
    pub title: Text,
    /// Systems whose assessment includes a control citing the article.
    pub systems: usize,
    /// Controls citing it across those assessments, and how many are met or justified.
    pub required: usize,
    pub resolved: usize,
}

/// Builds the organisation report from one consistent read of `store`.
pub fn org_report<S: Store>(catalogue: &Catalogue, store: &S, issue: &Issue) -> Result<OrgReport, ReportError> {
    let today = issue.today();
    store
        .read(|tx| {
            let people = tx.people()?;
            let suspensions = tx.suspensions()?;
            let incidents = open_incidents(&tx.incidents()?, None, issue.at);
            let mut systems = Vec::new();
            // article -> (systems, required, resolved)
            let mut coverage: BTreeMap<u8, (usize, usize, usize)> = BTreeMap::new();
            let mut approvals: BTreeMap<&'static str, usize> = BTreeMap::new();
            for current in tx.systems()? {
                let id = current.system.id.clone();
                let intake = tx.latest_intake(&id, current.version)?;
                let assessment = tx.latest_assessment(&id)?;
                let (mut resolved, mut required) = (0, 0);
                if let Some(a) = &assessment {
                    let mut cited: BTreeMap<u8, (usize, usize)> = BTreeMap::new();
                    for state in &a.controls {
                        required += 1;
                        resolved += usize::from(state.status.is_resolved());
                        for article in catalogue.control(&state.control).map(|c| c.articles.clone()).unwrap_or_default()
                        {
                            let e = cited.entry(article).or_default();
                            e.0 += 1;
                            e.1 += usize::from(state.status.is_resolved());
                        }
                    }
                    for (article, (req, res)) in cited {
                        let e = coverage.entry(article).or_default();
                        e.0 += 1;
                        e.1 += req;
                        e.2 += res;
                    }
                }
                let state = assessment.as_ref().map(approval_state);
                let key = match assessment.as_ref().map(|a| a.approval()) {
                    None => "not-assessed",
                    Some(Approval::Blocked) => "blocked",
                    Some(Approval::Approved { .. }) => "approved",
                    Some(Approval::Open { submitted: true, .. }) => "submitted",
                    Some(Approval::Open { .. }) => "open",
                };
                *approvals.entry(key).or_default() += 1;
                systems.push(OrgSystem {
                    name: current.system.name.clone(),
                    owner: person_ref(&current.system.owner, &people),
                    stage: Named::new(current.system.stage.as_str(), current.system.stage.name()),
                    version: current.version,
                    tier: intake.map(|i| tier_named(i.tier)),
                    state,
                    assessed_version: assessment.as_ref().map(|a| a.version),
                    review_due: assessment.as_ref().and_then(|a| a.review_due()),
                    overdue: assessment.as_ref().is_some_and(|a| a.is_overdue(today)),
                    resolved,
                    required,
                    suspended: suspensions.iter().any(|s| s.system == id),
                    id,
                });
            }
            let mut by_tier = Vec::new();
            for tier in lunli_norms::Tier::ALL.iter().rev() {
                let count = systems.iter().filter(|s| s.tier.as_ref().is_some_and(|t| t.id == tier.as_str())).count();
                by_tier.push(Count { id: tier.as_str().into(), name: tier.name(), count });
            }
            by_tier.push(Count {
                id: "untiered".into(),
                name: lunli_norms::terms::approval("untiered"),
                count: systems.iter().filter(|s| s.tier.is_none()).count(),
            });
            let by_stage = Stage::ALL
                .iter()
                .map(|stage| Count {
                    id: stage.as_str().into(),
                    name: stage.name(),
                    count: systems.iter().filter(|s| s.stage.id == stage.as_str()).count(),
                })
                .collect();
            let approvals = ["approved", "submitted", "open", "blocked", "not-assessed"]
                .into_iter()
                .map(|id| Count {
                    id: id.into(),
                    name: lunli_norms::terms::approval(id),
                    count: approvals.get(id).copied().unwrap_or(0),
                })
                .collect();
            let coverage = catalogue
                .articles()
                .iter()
                .filter(|a| a.is_specific_norm() || coverage.contains_key(&a.number))
                .map(|a| {
                    let (systems, required, resolved) = coverage.get(&a.number).copied().unwrap_or_default();
                    ArticleCoverage {
                        number: a.number,
                        label: a.label(),
                        title: a.title.clone(),
                        systems,
                        required,
                        resolved,
                    }
                })
                .collect();
            let mut suspended: Vec<String> = suspensions.iter().map(|s| s.system.clone()).collect();
            suspended.dedup();
            Ok(OrgReport {
                header: issue.header(catalogue, "organisation"),
                overdue: systems.iter().filter(|s| s.overdue).map(|s| s.id.clone()).collect(),
                stale: systems
                    .iter()
                    .filter(|s| s.assessed_version.is_some_and(|v| v < s.version))
                    .map(|s| s.id.clone())
                    .collect(),
                systems,
                by_tier,
                by_stage,
                approvals,
                coverage,
                suspended,
                open_incidents: incidents,
            })
        })
        .map_err(ReportError::from)
}
