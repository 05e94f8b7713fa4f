//! `lunli demo`: the README's first command. A guided tour that runs the main job on the
//! embedded defaults, so a new user sees what lunli does before configuring anything: the norms
//! as controls; the bundled example registered, tiered, audited on bundled data and approved;
//! decisions served over HTTP; and the gateway left running.

mod approval;
mod labels;
mod live;

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use jiff::ToSpan;
use lunli_governance::intake::Answers;
use lunli_governance::{DueDiligenceAnswer, Governance, GovernanceError, Person, System, Training, Vendor, VendorKind};
use lunli_norms::{ActivityId, Catalogue, ControlFilter, ControlKind, Text, Tier};
use lunli_store::{Ledger as _, SqliteStore};

use crate::context::{Context, now, today};
use crate::output::{Lines, Out, row};

/// The bundled example: a consumer credit-scoring model at a bank.
const EXAMPLE_SYSTEM: &str = include_str!("../../../examples/credit-scoring/system.yaml");
const EXAMPLE_ANSWERS: &str = include_str!("../../../examples/credit-scoring/intake.yaml");
/// Who the demo says made its changes, in the ledger.
const DEMO_ACTOR: &str = "lunli-demo";
/// Marks a directory the demo made, so it only ever clears its own.
const DEMO_MARKER: &str = ".lunli-demo";

/// The article the tour shows in full: users' rights to know, consent and quit the AI mode
/// touch every part of lunli (disclosure, opt-out, the gateway).
const EXAMPLE_ARTICLE: u8 = 16;

/// The example's people: id, name, and the one sign-off role each holds.
const PEOPLE: [(&str, &str, &str); 5] = [
    ("wang-fang", "王芳", "owner"),
    ("li-wei", "李伟", "data"),
    ("zhao-min", "赵敏", "legal"),
    ("chen-jie", "陈杰", "ethics-committee"),
    ("liu-yang", "刘洋", "management"),
];

pub fn run(ctx: &Context, args: &crate::cli::DemoArgs, out: &mut Out) -> Result<()> {
    tour(&ctx.catalogue, out);
    example(ctx, args, out)
}

fn tour(catalogue: &Catalogue, out: &mut Out) {
    let document = catalogue.document();
    out.line(out.label("lunli（伦理）导览", "lunli (伦理) — a guided tour"));
    out.line(out.label(
        "lunli 把《新一代人工智能伦理规范》变成可以运行的治理：规范即数据，控制项可检查，证据可验证。",
        "lunli turns the Ethical Norms for New Generation AI into governance that runs: the norms as data, \
         controls you can check, evidence you can verify.",
    ));

    out.heading(out.label("1. 规范", "1. The norms"));
    out.line(format!("{} ({})", out.short(&document.title), document.issued));
    out.line(out.short(&document.issuer));
    out.line(
        out.label(
            format!(
                "共 {} 条，分 {} 章；中文原文逐字收录，并附英文译文。",
                catalogue.articles().len(),
                catalogue.chapters().len()
            )
            .as_str(),
            format!(
                "{} articles in {} chapters; the Chinese text verbatim, with an English translation.",
                catalogue.articles().len(),
                catalogue.chapters().len()
            )
            .as_str(),
        ),
    );

    out.heading(out.label("2. 六项基本伦理规范（第三条）", "2. Six fundamental ethical norms (Art. 3)"));
    let mut table =
        out.table(vec![out.label("编号", "Id"), out.label("原则", "Principle"), out.label("控制项", "Controls")]);
    for principle in catalogue.principles() {
        let n = catalogue
            .controls_matching(&ControlFilter { principle: Some(principle.id.clone()), ..Default::default() })
            .len();
        table.add_row(row![principle.id.clone(), out.cell(&principle.name), n.to_string()]);
    }
    out.push_table(&table);

    out.heading(out.label(
        "3. 四类活动与十八项具体规范（第二条、第五至二十二条）",
        "3. Four activities and 18 specific norms (Art. 2, Art. 5–22)",
    ));
    let mut table =
        out.table(vec![out.label("活动", "Activity"), out.label("条款", "Articles"), out.label("控制项", "Controls")]);
    for id in ActivityId::ALL {
        let Some(activity) = catalogue.activity(id) else { continue };
        let Some(chapter) = catalogue.chapter(activity.chapter) else { continue };
        let titles = (chapter.articles[0]..=chapter.articles[1])
            .filter_map(|n| catalogue.article(n))
            .map(|a| out.cell(&a.title).prefixed(&format!("{} ", a.number)));
        let n = catalogue.controls_matching(&ControlFilter { activity: Some(id), ..Default::default() }).len();
        table.add_row(row![out.short(&activity.name), Lines::concat(titles), n.to_string()]);
    }
    out.push_table(&table);

    out.heading(out.label("4. 从规范到控制项", "4. From norms to controls"));
    out.line(
        out.label(
            format!("{} 项控制项，每项引用条款与原则，并写明所需证据。", catalogue.controls().len()).as_str(),
            format!(
                "{} controls, each citing its articles and principles and naming the evidence that satisfies it.",
                catalogue.controls().len()
            )
            .as_str(),
        ),
    );
    let mut table = out.table(vec![
        out.label("系统风险等级", "System tier"),
        out.label("须满足的控制项", "Controls required"),
        out.label("其中自动化", "of which automated"),
    ]);
    for tier in [Tier::Low, Tier::Medium, Tier::High] {
        let required = catalogue.controls_matching(&ControlFilter { tier: Some(tier), ..Default::default() });
        let automated = required
            .iter()
            .filter(|c| matches!(c.kind, ControlKind::AutomatedTest | ControlKind::RuntimeGuard))
            .count();
        table.add_row(vec![out.short(&tier.name()), required.len().to_string(), automated.to_string()]);
    }
    table.add_row(vec![
        out.short(&Tier::Prohibited.name()),
        out.label("不得上线（第二十条）", "blocked (Art. 20)"),
        "—".to_string(),
    ]);
    out.push_table(&table);

    if let Some(article) = catalogue.article(EXAMPLE_ARTICLE) {
        let label = article.label();
        out.heading(out.short(&Text {
            zh: format!("5. 示例：{} {}", label.zh, article.title.zh),
            en: format!("5. An example: {} · {}", label.en, article.title.en),
        }));
        out.paragraph(&article.text, 2);
        out.blank();
        let mut table = out.table(vec![out.label("编号", "Id"), out.label("等级", "Tier"), out.label("标题", "Title")]);
        for control in catalogue.controls_for_article(EXAMPLE_ARTICLE) {
            table.add_row(row![control.id.clone(), out.short(&control.tier.name()), out.cell(&control.title)]);
        }
        out.push_table(&table);
    }
}

/// Part two: the governance workflow on the embedded store, in a data directory of its own.
fn example(ctx: &Context, args: &crate::cli::DemoArgs, out: &mut Out) -> Result<()> {
    let dir = ctx.data_dir.join("demo");
    prepare_demo_dir(&dir)?;
    let store = Arc::new(SqliteStore::open(&dir)?);
    let gov = Governance::new(&ctx.catalogue, &*store);
    let at = now();
    // The audits record their evidence through a context on the demo's own directory.
    let demo_ctx = Context {
        catalogue: ctx.catalogue.clone(),
        pack_audit_policy: None,
        data_dir: dir.clone(),
        database_url: None,
        actor: "li-wei".into(),
        opened: std::sync::Mutex::new(None),
    };

    out.heading(out.label("6. 示例系统：个人信贷评分模型", "6. An example system: consumer credit scoring"));
    let people = PEOPLE;
    let completed = today().checked_sub(30.days()).context("date arithmetic")?;
    let expires = completed.checked_add(1.year()).context("date arithmetic")?;
    for (id, name, role) in people {
        let training =
            Training { course: "AI ethics norms 2021 · 人工智能伦理规范".into(), completed, expires };
        gov.add_person(
            DEMO_ACTOR,
            Person {
                id: id.into(),
                name: name.into(),
                email: None,
                roles: vec![role.into()],
                training: vec![training],
            },
            at,
        )?;
    }
    gov.add_vendor(
        DEMO_ACTOR,
        Vendor {
            id: "pboc-credit-bureau".into(),
            name: "征信机构 Credit bureau".into(),
            kind: VendorKind::Data,
            due_diligence: Default::default(),
        },
        at,
    )?;
    gov.answer_due_diligence(
        DEMO_ACTOR,
        "pboc-credit-bureau",
        "V-TRAINING-DATA",
        DueDiligenceAnswer { answer: true, note: "Data dictionary and legal basis provided".into() },
        at,
    )?;
    let system: System = crate::parse_yaml("examples/credit-scoring/system.yaml", EXAMPLE_SYSTEM)?;
    let version = gov.register_system(DEMO_ACTOR, system, at)?;
    out.line(out.label(
        &format!("登记 {}（{} 名人员、1 个供应商）。", version.system.id, people.len()),
        &format!("Registered {} with {} people and 1 vendor.", version.system.id, people.len()),
    ));
    crate::systems::render_system(out, &version, None);

    let answers = Answers::from_yaml(EXAMPLE_ANSWERS, &ctx.catalogue).map_err(GovernanceError::from)?;
    let (_, tiering) = gov.intake(DEMO_ACTOR, &version.system.id, &answers, at)?;
    crate::intake::render_tiering(&ctx.catalogue, &version.system.id, &tiering, out);

    let system = version.system.id.clone();
    let assessment = gov.open_assessment(DEMO_ACTOR, &system, at)?;
    out.heading(out.label(
        &format!("7. 评估 #{}：{} 项控制项", assessment.id, assessment.controls.len()),
        &format!("7. Assessment #{}: {} controls", assessment.id, assessment.controls.len()),
    ));
    out.line(out.label(
        "先做公平性审计（第十三条），结果自动成为证据：",
        "First the fairness audit (Art. 13); its result becomes evidence by itself:",
    ));
    approval::audit_credit_model(&demo_ctx, &store, &system, out)?;
    out.line(out.label(
        "再测试模型本身（第十二、十三条）：鲁棒性、反事实公平性与解释：",
        "Then the model itself (Art. 12, Art. 13): robustness, counterfactual fairness and explanations:",
    ));
    approval::audit_credit_model_itself(&demo_ctx, &system, out)?;

    out.heading(out.label(
        "8. 低风险示例：会议纪要助手的审批（第三条第五项、第七条）",
        "8. A low-tier example approved: the meeting-notes assistant (Art. 3(5), Art. 7)",
    ));
    let notes = approval::approve_meeting_notes(&demo_ctx, &store, out)?;
    labels::label_generated_files(&dir, &notes, out)?;

    out.heading(
        out.label("9. 运行时人类控制（第三条第四项、第十六条）", "9. Human control at run time (Art. 3(4), Art. 16)"),
    );
    let keys = live::keys(&demo_ctx, &store)?;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let running = live::start(&runtime, &demo_ctx, store.clone(), args.listen)?;
    out.line(out.label(
        &format!("网关在 http://{} 提供服务；以下请求经由真实 HTTP 发出：", running.addr),
        &format!("The gateway serves at http://{}; these requests went over real HTTP:", running.addr),
    ));
    live::exercise(&runtime, running.addr, &keys, &notes, &system, out)?;

    out.heading(out.label(
        "9b. 探测生成式服务（第十六条、第二十条；GB/T 45654-2025）",
        "9b. Probing a generative service (Art. 16, Art. 20; GB/T 45654-2025)",
    ));
    crate::probe::demo(&runtime, &ctx.catalogue, &dir, out)?;

    // The reports management and the ethics committee read, recorded in the ledger (Art. 12).
    out.heading(out.label("10. 报告", "10. Reports"));
    let lang = lunli_report::Languages::from(out.lang);
    for id in [system.as_str(), notes.as_str()] {
        let issue = lunli_report::Issue { at: now(), by: "chen-jie".into() };
        let (_, html) = crate::report::system_report(&ctx.catalogue, &*store, id, &issue, lang)?;
        let path = dir.join(format!("report-{id}.html"));
        std::fs::write(&path, html).with_context(|| format!("writing {}", path.display()))?;
        out.line(out.label(
            &format!("{id} 的报告（已记入台账，可离线核验）：{}", path.display()),
            &format!("Report on {id} (recorded in the ledger, verifiable offline): {}", path.display()),
        ));
    }

    let addr = running.addr;
    let running = if args.no_serve {
        // Stopping writes every queued decision; then one head covers everything.
        running.stop(&runtime)?;
        None
    } else {
        Some(running)
    };
    // Art. 12: the demo's changes and decisions end covered by a signed tree head.
    seal(&store, out)?;

    out.heading(out.label("11. 下一步", "11. Next"));
    let data = format!("--data-dir {}", dir.display());
    for (command, zh, en) in [
        (
            "lunli norms show 16 --lang both".to_string(),
            "中英对照查看第十六条及其控制项",
            "Article 16 in both languages with its controls",
        ),
        ("lunli norms search 退出".to_string(), "中英文全文检索", "search in Chinese or English"),
        (format!("lunli {data} status"), "查看示例清单", "the example inventory at a glance"),
        (format!("lunli {data} assess credit-scoring"), "查看评估", "the assessment"),
        (format!("lunli {data} ledger verify"), "核验防篡改账本", "verify the tamper-evident ledger"),
        (
            format!("lunli probe report {}", dir.join("probe-run.jsonl").display()),
            "查看探测报告（拒答率、置信区间、门槛）",
            "the probe report: refusal rates, intervals, gates",
        ),
        (
            format!("lunli report verify {}", dir.join(format!("report-{system}.html")).display()),
            "离线核验报告",
            "verify a report offline",
        ),
        (
            "lunli check examples/credit-scoring/lunli.yaml".to_string(),
            "在 CI 中检查 lunli.yaml",
            "gate a pipeline on lunli.yaml",
        ),
    ] {
        out.line(format!("  {command}"));
        out.line(format!("      {}", out.label(zh, en)));
    }

    let Some(running) = running else { return Ok(()) };
    out.heading(out.label("网关与仪表板仍在运行", "The gateway and its dashboard keep running"));
    out.line(format!("  http://{addr}"));
    out.line(out.label(
        &format!("仪表板：http://{addr}/ui/ —— 用下面的管理员密钥登录，可暂停、恢复系统，处理人工复核队列。"),
        &format!(
            "Dashboard: http://{addr}/ui/ — sign in with the admin key below to suspend and resume systems and work \
             the human-review queue."
        ),
    ));
    out.line(out.label(
        &format!("管理员 API 密钥（仅此一次显示）：{}", keys.admin),
        &format!("Admin API key (shown this once): {}", keys.admin),
    ));
    out.line(out.label("按 Ctrl-C 停止。", "Press Ctrl-C to stop."));
    // Listen for Ctrl-C before saying so, so that an early signal is never missed.
    let stopped = {
        let _inside = runtime.enter();
        crate::serve::shutdown_signal()
    };
    out.emit()?;
    runtime.block_on(stopped);
    running.stop(&runtime)?;
    seal(&store, out)
}

/// Signs a tree head over everything the demo recorded and says so.
fn seal(store: &SqliteStore, out: &mut Out) -> Result<()> {
    let now = lunli_ledger::Timestamp::from_system_time(std::time::SystemTime::now())?;
    let head = store.sign_head(now)?;
    let head = head.head();
    out.line(out.label(
        &format!(
            "账本共 {} 条记录，已签署树头（根哈希 {}…）：{}",
            head.head.size,
            &head.head.root.to_hex()[..16],
            store.path().display()
        ),
        &format!(
            "The ledger holds {} entries under a signed tree head (root {}…): {}",
            head.head.size,
            &head.head.root.to_hex()[..16],
            store.path().display()
        ),
    ));
    Ok(())
}

/// Clears the demo's own directory (never one it did not make) so each run starts afresh.
fn prepare_demo_dir(dir: &Path) -> Result<()> {
    if dir.exists() {
        let ours = dir.join(DEMO_MARKER).exists();
        let empty = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?.next().is_none();
        if !ours && !empty {
            anyhow::bail!(
                "{} exists and was not made by `lunli demo`; move it away or pass another --data-dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir).with_context(|| format!("clearing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(dir.join(DEMO_MARKER), "made by `lunli demo`; cleared on its next run\n")
        .with_context(|| format!("writing into {}", dir.display()))?;
    Ok(())
}
