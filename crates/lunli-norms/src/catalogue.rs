//! Loading and validating the catalogue: raw files in, a [`Catalogue`] whose every reference
//! resolves out — or every problem found, each with its file and line.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use crate::crosswalk::{self, Framework};
use crate::error::{CatalogueError, Problem};
use crate::intake::load::{Intake, IntakeBuilder};
use crate::intake::{Question, Role, Rule, Ruleset, TierPolicy};
use crate::model::{
    Activity, ActivityId, Article, Chapter, Control, Document, EvidenceRequirement, Principle, Text, Tier,
    VendorQuestion,
};
use crate::pack::{self, Pack, PackRef};
use crate::probe::{Probe, ProbeKind};
use crate::source::{self, RawFile, SourceFile};

/// Where the probe bank lives under the catalogue root.
const PROBES_DIR: &str = "probes/";

/// Articles of the norms, 1–25.
pub const ARTICLES: std::ops::RangeInclusive<u8> = 1..=25;
/// The 18 specific norms, Art. 5–22: each must be implemented by at least one control.
pub const SPECIFIC_NORMS: std::ops::RangeInclusive<u8> = 5..=22;

/// The validated catalogue. Every article, principle and activity a control cites exists,
/// control ids are unique, and every principle and specific norm has a control. The intake
/// questionnaire and tiering rules are complete: every question a rule reads exists, every test
/// fits its question, and every tier has a policy whose sign-off roles exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    document: Document,
    chapters: Vec<Chapter>,
    articles: Vec<Article>,
    principles: Vec<Principle>,
    activities: Vec<Activity>,
    controls: Vec<Control>,
    intake: Intake,
    vendor_questions: Vec<VendorQuestion>,
    /// Probe questions for generative services, in catalogue order.
    probes: Vec<Probe>,
    /// Crosswalks to other frameworks, by framework id.
    crosswalks: Vec<Framework>,
    /// Packs layered over the base (Art. 24).
    packs: Vec<PackRef>,
    /// The files the catalogue was built from, for provenance (`catalogue/…` or a real path).
    files: Vec<String>,
}

impl Catalogue {
    /// The catalogue compiled into lunli.
    pub fn bundled() -> Result<Self, CatalogueError> {
        Self::from_sources(source::embedded())
    }

    /// The bundled catalogue with the files of `dir` laid over it: a file with the same path
    /// relative to the catalogue root replaces the bundled one, any other file is added.
    pub fn with_overlay(dir: &Path) -> Result<Self, CatalogueError> {
        let extra = source::read_dir(dir)?;
        Self::from_sources(source::overlay(source::embedded(), extra))
    }

    /// A catalogue made only of the files under `dir`, without the bundled ones.
    pub fn from_dir(dir: &Path) -> Result<Self, CatalogueError> {
        Self::from_sources(source::read_dir(dir)?)
    }

    /// The bundled catalogue, the files of `overlay` laid over it (as [`Self::with_overlay`]),
    /// then each pack in order (Art. 24). A pack adds and tightens; one that loosens the base —
    /// drops or weakens a control, removes a sign-off role, lengthens a review interval,
    /// redefines a rule, a question or the norms — is rejected with file, line and reason.
    pub fn layered(overlay: Option<&Path>, packs: &[Pack]) -> Result<Self, CatalogueError> {
        let mut base = source::embedded();
        if let Some(dir) = overlay {
            base = source::overlay(base, source::read_dir(dir)?);
        }
        Self::from_layers(base, packs)
    }

    /// Like [`Self::layered`], with the bundled probe bank (`probes/`) replaced by the `*.toml`
    /// files of `bank`, validated like every catalogue file (packs still add their probes).
    pub fn layered_with_bank(overlay: Option<&Path>, packs: &[Pack], bank: &Path) -> Result<Self, CatalogueError> {
        let mut base: Vec<SourceFile> =
            source::embedded().into_iter().filter(|f| !f.relative.starts_with(PROBES_DIR)).collect();
        if let Some(dir) = overlay {
            base = source::overlay(base, source::read_dir(dir)?);
        }
        let bank = source::read_dir(bank)?
            .into_iter()
            .map(|f| SourceFile { relative: format!("{PROBES_DIR}{}", f.relative), ..f })
            .collect();
        Self::from_layers(source::overlay(base, bank), packs)
    }

    fn from_sources(files: Vec<SourceFile>) -> Result<Self, CatalogueError> {
        Self::from_layers(files, &[])
    }

    fn from_layers(files: Vec<SourceFile>, packs: &[Pack]) -> Result<Self, CatalogueError> {
        let mut names: Vec<String> = files.iter().map(|f| f.display.clone()).collect();
        // Crosswalks have their own format and are checked against the finished controls.
        let (crosswalk_files, files): (Vec<SourceFile>, Vec<SourceFile>) =
            files.into_iter().partition(|f| f.relative.starts_with(crosswalk::DIR));
        let mut builder = Builder::default();
        for file in &files {
            match source::parse(file) {
                Ok(raw) => builder.add(file, raw),
                Err(problem) => {
                    builder.problems.push(problem);
                    builder.unparsed_files = true;
                }
            }
        }
        let mut layered: Vec<&str> = vec![pack::BASE];
        for pack in packs {
            let manifest = &pack.manifest;
            let at = Problem {
                file: format!("{}/{}", pack.source, pack::MANIFEST),
                line: 1,
                column: 1,
                reason: String::new(),
            };
            if layered.contains(&manifest.id.as_str()) {
                builder.problems.push(Problem { reason: format!("pack {} is layered twice", manifest.id), ..at });
                continue;
            }
            if !layered.contains(&manifest.extends.as_str()) {
                builder.problems.push(Problem {
                    reason: format!(
                        "pack {} extends `{}`, which is neither the base (`{}`) nor a pack layered before it ({})",
                        manifest.id,
                        manifest.extends,
                        pack::BASE,
                        layered.join(", ")
                    ),
                    ..at
                });
            }
            layered.push(&manifest.id);
            for file in pack.sources() {
                names.push(file.display.clone());
                if file.relative.starts_with(&format!("packs/{}/{}", manifest.id, crosswalk::DIR)) {
                    builder
                        .problems
                        .push(file.problem(0..0, "a pack cannot hold crosswalks (yet); keep them in the catalogue"));
                    continue;
                }
                match source::parse(&file) {
                    Ok(raw) => builder.add_pack(&file, raw, &manifest.id),
                    Err(problem) => {
                        builder.problems.push(problem);
                        builder.unparsed_files = true;
                    }
                }
            }
        }
        let mut catalogue = builder.finish(names)?;
        catalogue.packs = packs.iter().map(Pack::reference).collect();
        let control_ids = catalogue.controls.iter().map(|c| (c.id.to_ascii_uppercase(), c.id.clone())).collect();
        let (frameworks, mut problems) = crosswalk::load(&crosswalk_files.iter().collect::<Vec<_>>(), &control_ids);
        if !problems.is_empty() {
            problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            return Err(CatalogueError::Invalid(problems));
        }
        catalogue.crosswalks = frameworks;
        Ok(catalogue)
    }

    /// The packs layered over the base, in order, with their versions and digests.
    pub fn packs(&self) -> &[PackRef] {
        &self.packs
    }

    pub fn document(&self) -> &Document {
        &self.document
    }
    pub fn chapters(&self) -> &[Chapter] {
        &self.chapters
    }
    /// Articles in order, 1–25.
    pub fn articles(&self) -> &[Article] {
        &self.articles
    }
    /// Principles in order, P1–P6.
    pub fn principles(&self) -> &[Principle] {
        &self.principles
    }
    pub fn activities(&self) -> &[Activity] {
        &self.activities
    }
    /// Controls sorted by primary article, then id.
    pub fn controls(&self) -> &[Control] {
        &self.controls
    }
    pub fn files(&self) -> &[String] {
        &self.files
    }

    pub fn article(&self, number: u8) -> Option<&Article> {
        self.articles.iter().find(|a| a.number == number)
    }
    pub fn chapter(&self, number: u8) -> Option<&Chapter> {
        self.chapters.iter().find(|c| c.number == number)
    }
    pub fn principle(&self, id: &str) -> Option<&Principle> {
        self.principles.iter().find(|p| p.id.eq_ignore_ascii_case(id))
    }
    pub fn activity(&self, id: ActivityId) -> Option<&Activity> {
        self.activities.iter().find(|a| a.id == id)
    }
    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }

    /// The intake questions, in the order they are asked.
    pub fn questions(&self) -> &[Question] {
        &self.intake.questions
    }
    /// A question by id, ignoring case.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.intake.questions.iter().find(|q| q.id.eq_ignore_ascii_case(id))
    }
    /// What each tier demands, in the order low, medium, high, prohibited.
    pub fn tiers(&self) -> &[TierPolicy] {
        &self.intake.tiers
    }
    /// What `tier` demands: its sign-off roles and review period.
    pub fn tier_policy(&self, tier: Tier) -> &TierPolicy {
        // Validation guarantees one policy per tier, stored in the order of `Tier::ALL`.
        &self.intake.tiers[tier as usize]
    }
    /// The roles that sign off assessments.
    pub fn roles(&self) -> &[Role] {
        &self.intake.roles
    }
    pub fn role(&self, id: &str) -> Option<&Role> {
        self.intake.roles.iter().find(|r| r.id == id)
    }
    /// The tiering rules, in catalogue order.
    pub fn rules(&self) -> &[Rule] {
        &self.intake.rules
    }
    /// A rule by id, ignoring case.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.intake.rules.iter().find(|r| r.id.eq_ignore_ascii_case(id))
    }
    /// The rule set's declared version.
    pub fn ruleset(&self) -> &Ruleset {
        &self.intake.ruleset
    }
    /// SHA-256 (lowercase hex) of the canonical content of the questions and rules. A tiering
    /// records it so that an assessment names exactly the rule set that produced its tier;
    /// editing a question or rule changes it, reformatting the files does not.
    /// The probe questions for generative services (`catalogue/probes/`), in catalogue order.
    pub fn probes(&self) -> &[Probe] {
        &self.probes
    }
    pub fn probe(&self, id: &str) -> Option<&Probe> {
        self.probes.iter().find(|p| p.id.eq_ignore_ascii_case(id))
    }

    /// The vendor due-diligence questions, in catalogue order.
    pub fn vendor_questions(&self) -> &[VendorQuestion] {
        &self.vendor_questions
    }
    pub fn vendor_question(&self, id: &str) -> Option<&VendorQuestion> {
        self.vendor_questions.iter().find(|q| q.id.eq_ignore_ascii_case(id))
    }

    /// The crosswalks to other frameworks, sorted by framework id.
    pub fn crosswalks(&self) -> &[Framework] {
        &self.crosswalks
    }
    /// A crosswalk by framework id, ignoring case.
    pub fn crosswalk(&self, id: &str) -> Option<&Framework> {
        self.crosswalks.iter().find(|f| f.id.eq_ignore_ascii_case(id))
    }

    pub fn ruleset_digest(&self) -> &str {
        &self.intake.digest
    }
}

/// Where a record was defined, for "first defined at" messages and coverage problems.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    file: String,
    line: usize,
    column: usize,
}

impl Origin {
    pub(crate) fn at(file: &SourceFile, span: Range<usize>) -> Self {
        let (line, column) = file.line_col(span.start);
        Self { file: file.display.clone(), line, column }
    }
    pub(crate) fn problem(&self, reason: impl Into<String>) -> Problem {
        Problem { file: self.file.clone(), line: self.line, column: self.column, reason: reason.into() }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A control whose references are checked once every file has been read.
struct PendingControl {
    control: Control,
    origin: Origin,
    articles_at: Origin,
    principles_at: Origin,
}

#[derive(Default)]
struct Builder {
    problems: Vec<Problem>,
    document: Option<(Document, Origin)>,
    chapters: BTreeMap<u8, (Chapter, Origin)>,
    articles: BTreeMap<u8, (Article, Origin)>,
    principles: BTreeMap<String, (Principle, Origin)>,
    activities: BTreeMap<ActivityId, (Activity, Origin)>,
    controls: Vec<PendingControl>,
    control_ids: HashMap<String, Origin>,
    intake: IntakeBuilder,
    vendor_questions: Vec<(VendorQuestion, Origin)>,
    probes: Vec<(Probe, Origin)>,
    /// Some file could not be parsed, so what seems missing may be in it.
    unparsed_files: bool,
}

impl Builder {
    fn add(&mut self, file: &SourceFile, raw: RawFile) {
        if let Some(document) = raw.document {
            let origin = Origin::at(file, document.span());
            if let Some((_, first)) = &self.document {
                self.problems.push(origin.problem(format!("second [document] table; the first is at {first}")));
            } else {
                let document = document.into_inner();
                self.check_text(&origin, "document.title", &document.title);
                self.check_text(&origin, "document.preamble", &document.preamble);
                self.document = Some((document, origin));
            }
        }
        for chapter in raw.chapter {
            let origin = Origin::at(file, chapter.span());
            let chapter = chapter.into_inner();
            self.check_text(&origin, "chapter title", &chapter.title);
            if chapter.articles[0] > chapter.articles[1] {
                self.problems.push(origin.problem(format!(
                    "chapter {} has articles = [{}, {}]; the first must not exceed the last",
                    chapter.number, chapter.articles[0], chapter.articles[1]
                )));
            }
            if let Some((_, first)) = self.chapters.get(&chapter.number) {
                self.problems
                    .push(origin.problem(format!("duplicate chapter {}; first defined at {first}", chapter.number)));
            } else {
                self.chapters.insert(chapter.number, (chapter, origin));
            }
        }
        for article in raw.article {
            let origin = Origin::at(file, article.span());
            let article = article.into_inner();
            let number_at = Origin::at(file, article.number.span());
            let title_at = Origin::at(file, article.title.span());
            let text_at = Origin::at(file, article.text.span());
            let article = article.into_model();
            if !ARTICLES.contains(&article.number) {
                self.problems.push(number_at.problem(format!("article number {} is outside 1–25", article.number)));
                continue;
            }
            self.check_text(&title_at, &format!("article {} title", article.number), &article.title);
            self.check_text(&text_at, &format!("article {} text", article.number), &article.text);
            if let Some((_, first)) = self.articles.get(&article.number) {
                self.problems
                    .push(number_at.problem(format!("duplicate article {}; first defined at {first}", article.number)));
            } else {
                self.articles.insert(article.number, (article, origin));
            }
        }
        for principle in raw.principle {
            let origin = Origin::at(file, principle.span());
            let principle = principle.into_inner();
            let id_at = Origin::at(file, principle.id.span());
            let principle = principle.into_model();
            self.check_text(&origin, &format!("principle {} name", principle.id), &principle.name);
            self.check_text(&origin, &format!("principle {} text", principle.id), &principle.text);
            let key = principle.id.to_ascii_uppercase();
            if let Some((_, first)) = self.principles.get(&key) {
                self.problems
                    .push(id_at.problem(format!("duplicate principle {}; first defined at {first}", principle.id)));
            } else {
                self.principles.insert(key, (principle, origin));
            }
        }
        for activity in raw.activity {
            let origin = Origin::at(file, activity.span());
            let activity = activity.into_inner().into_model();
            self.check_text(&origin, &format!("activity {} name", activity.id), &activity.name);
            if let Some((_, first)) = self.activities.get(&activity.id) {
                self.problems
                    .push(origin.problem(format!("duplicate activity {}; first defined at {first}", activity.id)));
            } else {
                self.activities.insert(activity.id, (activity, origin));
            }
        }
        for control in raw.control {
            let origin = Origin::at(file, control.span());
            let raw = control.into_inner();
            let id_at = Origin::at(file, raw.id.span());
            let id = raw.id.into_inner();
            if let Err(reason) = check_control_id(&id) {
                self.problems.push(id_at.problem(reason));
                continue;
            }
            let key = id.to_ascii_uppercase();
            if let Some(first) = self.control_ids.get(&key) {
                self.problems.push(id_at.problem(format!("duplicate control id {id}; first defined at {first}")));
                continue;
            }
            self.control_ids.insert(key, id_at.clone());

            let tier_at = Origin::at(file, raw.tier.span());
            let tier = raw.tier.into_inner();
            if tier == Tier::Prohibited {
                self.problems.push(tier_at.problem(format!(
                    "control {id} has tier = \"prohibited\"; a control names the lowest tier that needs it: low, medium or high"
                )));
            }
            let title_at = Origin::at(file, raw.title.span());
            let guidance_at = Origin::at(file, raw.guidance.span());
            let evidence_at = Origin::at(file, raw.evidence.span());
            let articles_at = Origin::at(file, raw.articles.span());
            let principles_at = Origin::at(file, raw.principles.span());
            let evidence = raw.evidence.into_inner();
            let control = Control {
                id,
                articles: raw.articles.into_inner(),
                principles: raw.principles.into_inner(),
                activity: raw.activity,
                tier,
                kind: raw.kind,
                automation: raw.automation,
                title: raw.title.into_inner(),
                guidance: raw.guidance.into_inner(),
                evidence: EvidenceRequirement { accepts: evidence.accepts, zh: evidence.zh, en: evidence.en },
            };
            self.check_text(&title_at, &format!("control {} title", control.id), &control.title);
            self.check_text(&guidance_at, &format!("control {} guidance", control.id), &control.guidance);
            self.check_text(&evidence_at, &format!("control {} evidence", control.id), &control.evidence.text());
            if control.evidence.accepts.is_empty() {
                self.problems.push(evidence_at.problem(format!(
                    "control {} has an empty evidence.accepts; name at least one of file, link, attestation, audit, runtime",
                    control.id
                )));
            }
            self.controls.push(PendingControl { control, origin, articles_at, principles_at });
        }
        for question in raw.vendor_question {
            let origin = Origin::at(file, question.span());
            let question = question.into_inner();
            self.check_text(&origin, &format!("vendor question {}", question.id), &question.text);
            if let Some((_, first)) =
                self.vendor_questions.iter().find(|(q, _)| q.id.eq_ignore_ascii_case(&question.id))
            {
                self.problems.push(
                    origin.problem(format!("duplicate vendor question {}; first defined at {first}", question.id)),
                );
            } else {
                self.vendor_questions.push((question, origin));
            }
        }
        for probe in raw.probe {
            let origin = Origin::at(file, probe.span());
            self.add_probe(probe.into_inner(), origin);
        }
        for question in raw.question {
            self.intake.add_question(file, question);
        }
        if let Some(ruleset) = raw.ruleset {
            self.intake.add_ruleset(file, ruleset);
        }
        for tier in raw.tier {
            self.intake.add_tier(file, tier);
        }
        for role in raw.role {
            self.intake.add_role(file, role);
        }
        for rule in raw.rule {
            self.intake.add_rule(file, rule);
        }
    }

    /// Adds a pack's file: what it adds is checked like any catalogue file; what it replaces
    /// must be at least as strict as the base (Art. 24: more specific norms *based on* these).
    fn add_pack(&mut self, file: &SourceFile, mut raw: RawFile, pack: &str) {
        let norms = "a pack adds to the norms and tightens them; it cannot rewrite the norms themselves";
        if let Some(document) = raw.document.take() {
            self.problems
                .push(file.problem(document.span(), format!("pack {pack} may not define [document]: {norms}")));
        }
        let mut spans: Vec<(&str, std::ops::Range<usize>)> = Vec::new();
        spans.extend(raw.chapter.drain(..).map(|c| ("[[chapter]]", c.span())));
        spans.extend(raw.article.drain(..).map(|a| ("[[article]]", a.span())));
        spans.extend(raw.principle.drain(..).map(|p| ("[[principle]]", p.span())));
        spans.extend(raw.activity.drain(..).map(|a| ("[[activity]]", a.span())));
        for (what, span) in spans {
            self.problems.push(file.problem(span, format!("pack {pack} may not define {what}: {norms}")));
        }
        if let Some(ruleset) = raw.ruleset.take() {
            self.problems.push(file.problem(
                ruleset.span(),
                format!("pack {pack} may not replace [ruleset]; the pack's own version is recorded beside the base rule set's"),
            ));
        }

        let mut kept = Vec::new();
        for control in std::mem::take(&mut raw.control) {
            let id = control.get_ref().id.get_ref().clone();
            let Some(position) = self.controls.iter().position(|p| p.control.id.eq_ignore_ascii_case(&id)) else {
                kept.push(control);
                continue;
            };
            let base_tier = self.controls[position].control.tier;
            let tier_span = control.get_ref().tier.span();
            let tier = *control.get_ref().tier.get_ref();
            if tier > base_tier {
                let dropped: Vec<&str> = Tier::ALL
                    .iter()
                    .filter(|t| **t >= base_tier && **t < tier && **t != Tier::Prohibited)
                    .map(|t| t.as_str())
                    .collect();
                self.problems.push(file.problem(
                    tier_span,
                    format!(
                        "pack {pack} loosens control {id}: the base requires it from tier {base_tier}, and tier = \"{tier}\" would drop it for {} tier systems; a pack may only require a control from the same or a lower tier",
                        dropped.join(" and ")
                    ),
                ));
                continue;
            }
            // Accepting a kind of evidence the base does not (an attestation for an audit, say)
            // would weaken the control as much as raising its tier.
            let base_accepts = self.controls[position].control.evidence.accepts.clone();
            let evidence = control.get_ref().evidence.get_ref();
            let extra: Vec<String> =
                evidence.accepts.iter().filter(|e| !base_accepts.contains(e)).map(ToString::to_string).collect();
            if !extra.is_empty() {
                self.problems.push(file.problem(
                    control.get_ref().evidence.span(),
                    format!(
                        "pack {pack} loosens control {id}: evidence.accepts adds {} which the base does not accept; a pack may only narrow the evidence a control accepts",
                        extra.join(", ")
                    ),
                ));
                continue;
            }
            // The pack's version is at least as strict: it replaces the base control.
            self.controls.remove(position);
            self.control_ids.remove(&id.to_ascii_uppercase());
            kept.push(control);
        }
        raw.control = kept;

        let mut kept = Vec::new();
        for tier in std::mem::take(&mut raw.tier) {
            let id = *tier.get_ref().id.get_ref();
            let Some(base) = self.intake.tier_policy(id).cloned() else {
                kept.push(tier);
                continue;
            };
            let before = self.problems.len();
            let roles = tier.get_ref().signoff_roles.get_ref();
            let dropped: Vec<&str> =
                base.signoff_roles.iter().filter(|r| !roles.contains(r)).map(String::as_str).collect();
            if !dropped.is_empty() {
                self.problems.push(file.problem(
                    tier.get_ref().signoff_roles.span(),
                    format!(
                        "pack {pack} loosens the {id} tier: it drops sign-off role{} {} that the base requires; a pack may add roles, never remove them",
                        if dropped.len() == 1 { "" } else { "s" },
                        dropped.join(", ")
                    ),
                ));
            }
            if let Some(base_months) = base.review_months {
                let months = tier.get_ref().review_months.as_ref();
                match months.map(|m| *m.get_ref()) {
                    Some(m) if m <= base_months => {}
                    given => self.problems.push(file.problem(
                        months.map_or_else(|| tier.span(), Spanned::span),
                        format!(
                            "pack {pack} loosens the {id} tier: review_months = {} but the base re-reviews every {base_months} months; a pack may only shorten the interval",
                            given.map_or_else(|| "(none)".to_string(), |m| m.to_string())
                        ),
                    )),
                }
            }
            if self.problems.len() == before {
                self.intake.remove_tier(id);
                kept.push(tier);
            }
        }
        raw.tier = kept;

        for (what, ids) in [
            (
                "rule",
                raw.rule.iter().map(|r| (r.get_ref().id.get_ref().clone(), r.get_ref().id.span())).collect::<Vec<_>>(),
            ),
            (
                "question",
                raw.question.iter().map(|q| (q.get_ref().id.get_ref().clone(), q.get_ref().id.span())).collect(),
            ),
            ("role", raw.role.iter().map(|r| (r.get_ref().id.get_ref().clone(), r.get_ref().id.span())).collect()),
        ] {
            for (id, span) in ids {
                if let Some(first) = self.intake.defined(what, &id) {
                    let why = match what {
                        "rule" => {
                            "a pack adds rules and cannot change or lower one the base sets (a system's tier is the highest any rule gives)"
                        }
                        "question" => "changing a question would change what the base rules read",
                        _ => "a pack adds roles and cannot redefine the base's",
                    };
                    self.problems.push(
                        file.problem(
                            span,
                            format!("pack {pack} redefines {what} {id} (first defined at {first}); {why}"),
                        ),
                    );
                }
            }
        }
        raw.rule.retain(|r| self.intake.defined("rule", r.get_ref().id.get_ref()).is_none());
        raw.question.retain(|q| self.intake.defined("question", q.get_ref().id.get_ref()).is_none());
        raw.role.retain(|r| self.intake.defined("role", r.get_ref().id.get_ref()).is_none());
        self.add(file, raw);
    }

    /// A probe question: its own fields are checked here, its articles and bias pairs once every
    /// file has been read ([`Self::check_probes`]).
    fn add_probe(&mut self, probe: Probe, origin: Origin) {
        let what = format!("probe {}", probe.id);
        if let Err(reason) = check_probe_id(&probe.id) {
            self.problems.push(origin.problem(reason));
        }
        self.check_text(&origin, &format!("{what} prompt"), &probe.prompt);
        if let Some(system) = &probe.system {
            self.check_text(&origin, &format!("{what} system"), system);
        }
        let category_ok = !probe.category.is_empty()
            && probe
                .category
                .split('-')
                .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !category_ok {
            self.problems.push(origin.problem(format!(
                "{what} has category `{}`; expected lower-case words joined by `-` (e.g. `violence`)",
                probe.category
            )));
        }
        if probe.articles.is_empty() {
            self.problems.push(origin.problem(format!("{what} cites no article; list at least one")));
        }
        match (probe.kind, &probe.pair, &probe.group) {
            (ProbeKind::Bias, Some(pair), Some(group)) => {
                if pair.trim().is_empty() {
                    self.problems.push(origin.problem(format!("{what} has an empty pair id")));
                }
                self.check_text(&origin, &format!("{what} group"), group);
            }
            (ProbeKind::Bias, _, _) => self.problems.push(origin.problem(format!(
                "{what} is a bias probe without `pair` and `group`; name the pair it belongs to and the group it names"
            ))),
            (kind, Some(_), _) | (kind, _, Some(_)) => self.problems.push(
                origin.problem(format!("{what} is a {kind} probe with `pair` or `group`; only bias probes have them")),
            ),
            _ => {}
        }
        if let Some((_, first)) = self.probes.iter().find(|(p, _)| p.id.eq_ignore_ascii_case(&probe.id)) {
            self.problems.push(origin.problem(format!("duplicate probe {}; first defined at {first}", probe.id)));
        } else {
            self.probes.push((probe, origin));
        }
    }

    /// Probe articles exist, and every bias pair has at least two sides naming different groups.
    fn check_probes(&mut self) {
        let mut problems = Vec::new();
        let mut pairs: BTreeMap<String, Vec<(&Probe, &Origin)>> = BTreeMap::new();
        for (probe, origin) in &self.probes {
            for number in &probe.articles {
                if !self.articles.contains_key(number) {
                    problems.push(origin.problem(format!(
                        "probe {} cites article {number}, which is not in the catalogue (articles are 1–25)",
                        probe.id
                    )));
                }
            }
            if let (ProbeKind::Bias, Some(pair)) = (probe.kind, &probe.pair) {
                pairs.entry(pair.clone()).or_default().push((probe, origin));
            }
        }
        for (pair, sides) in &pairs {
            let mut groups: Vec<&str> =
                sides.iter().filter_map(|(p, _)| p.group.as_ref().map(|g| g.en.as_str())).collect();
            groups.sort_unstable();
            groups.dedup();
            if (sides.len() < 2 || groups.len() < sides.len())
                && let Some((probe, origin)) = sides.first()
            {
                problems.push(origin.problem(format!(
                    "bias pair {pair} (probe {}) needs at least two probes naming different groups; it has {} probe(s) and {} distinct group(s)",
                    probe.id,
                    sides.len(),
                    groups.len()
                )));
            }
        }
        self.problems.extend(problems);
    }

    fn check_text(&mut self, at: &Origin, what: &str, text: &Text) {
        for (lang, value) in [("zh", &text.zh), ("en", &text.en)] {
            if value.trim().is_empty() {
                self.problems.push(at.problem(format!("{what} has no {lang} text; every text needs both zh and en")));
            }
        }
    }

    fn finish(mut self, files: Vec<String>) -> Result<Catalogue, CatalogueError> {
        let document = match self.document.take() {
            Some((document, _)) => Some(document),
            None => {
                self.problems.push(Problem {
                    file: files.first().cloned().unwrap_or_else(|| "catalogue".into()),
                    line: 1,
                    column: 1,
                    reason: "no [document] table in any catalogue file (it belongs in articles.toml)".into(),
                });
                None
            }
        };
        self.check_articles_complete(&files);
        self.check_references();
        self.check_probes();
        self.check_coverage();
        let intake = self.finish_intake(&files);

        match (document, intake) {
            (Some(document), Some(intake)) if self.problems.is_empty() => {
                let mut controls: Vec<Control> = self.controls.into_iter().map(|p| p.control).collect();
                controls.sort_by(|a, b| (a.primary_article(), &a.id).cmp(&(b.primary_article(), &b.id)));
                Ok(Catalogue {
                    document,
                    chapters: self.chapters.into_values().map(|(c, _)| c).collect(),
                    articles: self.articles.into_values().map(|(a, _)| a).collect(),
                    principles: self.principles.into_values().map(|(p, _)| p).collect(),
                    activities: self.activities.into_values().map(|(a, _)| a).collect(),
                    controls,
                    intake,
                    vendor_questions: self.vendor_questions.into_iter().map(|(q, _)| q).collect(),
                    probes: self.probes.into_iter().map(|(p, _)| p).collect(),
                    crosswalks: Vec::new(),
                    packs: Vec::new(),
                    files,
                })
            }
            _ => {
                self.problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
                self.problems.dedup();
                Err(CatalogueError::Invalid(self.problems))
            }
        }
    }

    fn finish_intake(&mut self, files: &[String]) -> Option<Intake> {
        let articles: BTreeSet<u8> = self.articles.keys().copied().collect();
        let principles: BTreeSet<String> = self.principles.keys().cloned().collect();
        let anchor = Origin { file: files.first().cloned().unwrap_or_else(|| "catalogue".into()), line: 1, column: 1 };
        let intake = std::mem::take(&mut self.intake);
        let (intake, problems) = intake.finish(&articles, &principles, &anchor, !self.unparsed_files);
        self.problems.extend(problems);
        intake
    }

    fn check_articles_complete(&mut self, files: &[String]) {
        let anchor = self.articles.values().next().map(|(_, o)| o.clone()).unwrap_or_else(|| Origin {
            file: files.first().cloned().unwrap_or_else(|| "catalogue".into()),
            line: 1,
            column: 1,
        });
        let missing: Vec<String> = ARTICLES.filter(|n| !self.articles.contains_key(n)).map(|n| n.to_string()).collect();
        if !missing.is_empty() {
            self.problems.push(
                anchor.problem(format!("articles {} are missing; the norms have articles 1–25", missing.join(", "))),
            );
        }
        for (article, origin) in self.articles.values() {
            match self.chapters.get(&article.chapter) {
                None => self.problems.push(origin.problem(format!(
                    "article {} names chapter {}, which is not defined",
                    article.number, article.chapter
                ))),
                Some((chapter, _)) if !chapter.contains(article.number) => self.problems.push(origin.problem(format!(
                    "article {} names chapter {}, which holds articles {}–{}",
                    article.number, chapter.number, chapter.articles[0], chapter.articles[1]
                ))),
                Some(_) => {}
            }
        }
        for (principle, origin) in self.principles.values() {
            if !self.articles.is_empty() && !self.articles.contains_key(&principle.article) {
                self.problems.push(origin.problem(format!(
                    "principle {} cites article {}, which is not defined",
                    principle.id, principle.article
                )));
            }
        }
        for id in ActivityId::ALL {
            if !self.activities.contains_key(&id) {
                self.problems.push(
                    anchor.problem(format!("activity `{id}` of Art. 2 is not defined (it belongs in activities.toml)")),
                );
            }
        }
    }

    fn check_references(&mut self) {
        let mut problems = Vec::new();
        for (question, origin) in &self.vendor_questions {
            for number in &question.articles {
                if !self.articles.contains_key(number) {
                    problems.push(origin.problem(format!(
                        "vendor question {} cites article {number}, which is not in the catalogue (articles are 1–25)",
                        question.id
                    )));
                }
            }
        }
        for pending in &self.controls {
            let control = &pending.control;
            if control.articles.is_empty() {
                problems.push(
                    pending.articles_at.problem(format!("control {} cites no article; list at least one", control.id)),
                );
            }
            for number in &control.articles {
                if !self.articles.contains_key(number) {
                    problems.push(pending.articles_at.problem(format!(
                        "control {} cites article {number}, which is not in the catalogue (articles are 1–25)",
                        control.id
                    )));
                }
            }
            if control.principles.is_empty() {
                problems.push(pending.principles_at.problem(format!(
                    "control {} cites no principle; list at least one of Art. 3's P1–P6",
                    control.id
                )));
            }
            for principle in &control.principles {
                if !self.principles.contains_key(&principle.to_ascii_uppercase()) {
                    let known: Vec<&str> = self.principles.values().map(|(p, _)| p.id.as_str()).collect();
                    problems.push(pending.principles_at.problem(format!(
                        "control {} cites principle `{principle}`, which is not defined; known: {}",
                        control.id,
                        known.join(", ")
                    )));
                }
            }
            if !self.activities.contains_key(&control.activity) {
                problems.push(pending.origin.problem(format!(
                    "control {} names activity `{}`, which is not defined",
                    control.id, control.activity
                )));
            }
        }
        self.problems.extend(problems);
    }

    fn check_coverage(&mut self) {
        let mut cited_articles = BTreeSet::new();
        let mut cited_principles = BTreeSet::new();
        for pending in &self.controls {
            cited_articles.extend(pending.control.articles.iter().copied());
            cited_principles.extend(pending.control.principles.iter().map(|p| p.to_ascii_uppercase()));
        }
        for number in SPECIFIC_NORMS {
            if let Some((article, origin)) = self.articles.get(&number)
                && !cited_articles.contains(&number)
            {
                self.problems.push(origin.problem(format!(
                    "article {number} ({}) is a specific norm but no control cites it",
                    article.title.en
                )));
            }
        }
        for (key, (principle, origin)) in &self.principles {
            if !cited_principles.contains(key) {
                self.problems.push(origin.problem(format!(
                    "principle {} ({}) is not cited by any control",
                    principle.id, principle.name.en
                )));
            }
        }
    }
}

/// Ids are what evidence, assessments and the ledger refer to, so they must be easy to type
/// and never ambiguous: ASCII letters, digits, `-` and `.`, starting with a letter.
/// Probe ids: `PR-` then upper-case letters, digits and `-` (e.g. `PR-REF-001`).
fn check_probe_id(id: &str) -> Result<(), String> {
    let rest = id.strip_prefix("PR-").unwrap_or_default();
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-') {
        return Err(format!(
            "probe id `{id}` is not of the form PR-<upper-case letters, digits and -> (e.g. PR-REF-001)"
        ));
    }
    Ok(())
}

fn check_control_id(id: &str) -> Result<(), String> {
    let valid = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && id.len() <= 64;
    if valid {
        Ok(())
    } else {
        Err(format!(
            "control id `{id}` is not valid; use up to 64 ASCII letters, digits, `-` or `.`, starting with a letter (e.g. C-16-01)"
        ))
    }
}
