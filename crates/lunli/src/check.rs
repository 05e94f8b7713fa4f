//! `lunli check lunli.yaml`: governance as code. Computes the tier and the unmet controls of a
//! system described beside its repository and exits 5 when it may not ship.

use std::path::Path;

use anyhow::Result;
use lunli_governance::GovernanceError;
use lunli_governance::manifest::{self, FileProbe, Manifest};
use lunli_norms::Catalogue;

use crate::cli::CheckArgs;
use crate::context::read_input;
use crate::output::{Out, row};

pub fn run(catalogue: &Catalogue, args: &CheckArgs, out: &mut Out) -> Result<()> {
    let file = args.file.display().to_string();
    let text = read_input(&args.file)?;
    let manifest: Manifest = crate::parse_yaml(&file, &text)?;
    manifest.system.validate().map_err(|e| located(&file, &text, e))?;
    manifest.intake.validate(catalogue).map_err(|e| {
        anyhow::Error::new(GovernanceError::from(e.located_in(&text)))
            .context(format!("in the intake: section of {file}"))
    })?;
    let base = args.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let probe = |relative: &str| -> FileProbe {
        let path = base.join(relative);
        match crate::assess::hash_file(&path) {
            Ok((sha256, _)) => FileProbe::Found { sha256 },
            Err(e) => FileProbe::Missing(format!("{e:#}")),
        }
    };
    let report = manifest::check(&manifest, catalogue, &probe);
    if out.is_table() {
        crate::intake::render_tiering(catalogue, &report.system, &report.tiering, out);
        out.blank();
        out.line(out.label(
            &format!("必需控制项：{}，已满足：{}，未满足：{}", report.required, report.satisfied, report.unmet.len()),
            &format!(
                "Required controls: {}, satisfied: {}, unmet: {}",
                report.required,
                report.satisfied,
                report.unmet.len()
            ),
        ));
        if !report.unmet.is_empty() {
            let mut table = out.table(vec![
                out.label("控制项", "Control"),
                out.label("标题", "Title"),
                out.label("原因", "Why unmet"),
            ]);
            for unmet in &report.unmet {
                table.add_row(row![unmet.control.clone(), out.cell(&unmet.title), unmet.reason.clone()]);
            }
            out.push_table(&table);
        }
        if !report.ignored.is_empty() {
            out.line(out.label(
                &format!("未要求或未知的控制项（已忽略）：{}", report.ignored.join(", ")),
                &format!("Not required or unknown (ignored): {}", report.ignored.join(", ")),
            ));
        }
    } else {
        out.data(&report)?;
    }
    if report.may_ship {
        if out.is_table() {
            out.line(out.label("✔ 可以发布。", "✔ may ship."));
        }
        Ok(())
    } else {
        let why = if report.tiering.is_blocked() {
            format!("{}: prohibited (Art. 20) — may not ship", report.system)
        } else {
            format!("{}: {} required control(s) unmet — may not ship", report.system, report.unmet.len())
        };
        Err(crate::MayNotShip(why).into())
    }
}

/// A record error with the line of the field it names, when the field can be found.
fn located(file: &str, text: &str, err: GovernanceError) -> anyhow::Error {
    if let GovernanceError::Invalid { field, reason } = &err {
        let key = field.split(['.', '[']).next_back().unwrap_or(field);
        let line = text.lines().position(|l| l.trim_start().starts_with(&format!("{key}:"))).map(|i| i + 1);
        return crate::InputError { file: file.to_string(), line, reason: format!("{field}: {reason}") }.into();
    }
    err.into()
}
