//! `lunli check lunli.yaml`: governance as code. Computes the tier and the unmet controls of a
//! system described beside its repository and exits 5 when it may not ship.

use std::path::Path;

use anyhow::Result;
use lunli_governance::manifest;
use lunli_norms::Catalogue;

use crate::cli::CheckArgs;
use crate::context::read_input;
use crate::output::{Out, row};

pub fn run(catalogue: &Catalogue, args: &CheckArgs, out: &mut Out) -> Result<()> {
    let text = read_input(&args.file)?;
    let base = args.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let report = manifest::check_text(&args.file.display().to_string(), &text, &base, catalogue)
        .map_err(|e| crate::InputError { file: e.file, line: e.line, reason: e.reason })?;
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
