//! Inference speed of a model as `lunli audit model` runs it, for bench/model.sh:
//!
//! model_bench MODEL.onnx DATA.csv        read DATA (lunli-audit's reader), then run the model
//!                                        on every batch, batches in parallel on every core;
//!                                        print rows, seconds and predictions per second

use std::sync::Arc;
use std::time::Instant;

use lunli_audit::source::Dataset;
use lunli_audit::{EncodingChoice, Progress, RunOptions};
use lunli_model::Model;
use lunli_model::frame::Frame;
use rayon::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model, data] = args.as_slice() else {
        return Err("usage: model_bench MODEL.onnx DATA.csv".into());
    };
    let model = Model::load(model, &std::fs::read(model)?)?;
    let dataset = Dataset::open(std::slice::from_ref(data), EncodingChoice::Auto, Arc::new(Progress::default()))?;
    let columns: Vec<&str> = model.inputs.iter().map(|i| i.name.as_str()).collect();
    let mut frames = Vec::new();
    lunli_audit::scan::scan(
        &dataset,
        &columns,
        &RunOptions::default(),
        |batch| -> Result<(), lunli_model::ModelError> {
            frames.push(Frame::from_batch(&batch, &model.inputs, data)?);
            Ok(())
        },
    )?;
    let rows: usize = frames.iter().map(Frame::rows).sum();
    let start = Instant::now();
    let predicted: usize = frames
        .par_iter()
        .map(|f| model.predict(f).map(|p| p.scores.len()))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .sum();
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(predicted, rows);
    println!("{rows} rows {seconds:.3} s {:.0} predictions/s", rows as f64 / seconds);
    Ok(())
}
