//! Loading an ONNX classifier with tract and running it on batches of feature columns.
//!
//! What is run: a model whose every input is one column of the data — a tensor of shape `[N]`
//! or `[N, 1]` whose first axis is the batch (a named or unnamed dimension, never a fixed
//! size), of type float, double, int64 or string — and whose outputs include the probability of
//! the positive class: a float tensor `[N, 2]` (column 1 is class 1), `[N, 1]` or `[N]`. An
//! int64 label output `[N]`, when there is one, gives the model's decisions (class 1 is
//! positive); otherwise a decision is a probability of at least 0.5. Anything else is refused
//! with the input or output named (docs/models.md).

use std::sync::Arc;

use serde::Serialize;
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::prelude::*;

use crate::error::ModelError;
use crate::frame::{Column, Frame};

/// The type of a model input, as lunli feeds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    Float,
    Double,
    Int64,
    String,
}

impl InputKind {
    /// Whether the input takes numbers (else text categories).
    pub fn numeric(self) -> bool {
        self != Self::String
    }
}

/// One model input: the data column of the same name feeds it.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInput {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: InputKind,
    /// 1 for `[N]`, 2 for `[N, 1]`.
    pub rank: usize,
}

/// A loaded model, ready to run on batches of any size.
pub struct Model {
    /// The file, for messages.
    pub file: String,
    pub inputs: Vec<ModelInput>,
    /// The probability output's name and the column of class 1 in it.
    pub score_output: String,
    pub label_output: Option<String>,
    score_slot: usize,
    score_column: Option<usize>,
    label_slot: Option<usize>,
    plan: Arc<TypedSimplePlan>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model").field("file", &self.file).field("inputs", &self.inputs).finish()
    }
}

/// What one run gives per row: the probability of class 1 and the decision.
#[derive(Debug, Clone, Default)]
pub struct Predictions {
    pub scores: Vec<f64>,
    pub decisions: Vec<bool>,
}

impl Model {
    /// Reads and checks an ONNX model. `file` names it in messages.
    pub fn load(file: &str, bytes: &[u8]) -> Result<Self, ModelError> {
        let model_error = |reason: String| ModelError::Model { file: file.to_string(), reason };
        let onnx = tract_onnx::onnx();
        let proto =
            onnx.proto_model_for_read(&mut &bytes[..]).map_err(|e| model_error(format!("not an ONNX model ({e})")))?;
        let graph = proto.graph.as_ref().ok_or_else(|| model_error("the ONNX file holds no graph".into()))?;
        let initialisers: std::collections::BTreeSet<&str> =
            graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let declared: Vec<&pb::ValueInfoProto> =
            graph.input.iter().filter(|i| !initialisers.contains(i.name.as_str())).collect();
        if declared.is_empty() {
            return Err(model_error("the model has no inputs".into()));
        }
        let mut inputs = Vec::with_capacity(declared.len());
        for input in &declared {
            inputs.push(check_input(file, input)?);
        }
        let (score_slot, score_column, label_slot) = pick_outputs(file, graph)?;
        let mut model = onnx
            .model_for_proto_model(&proto)
            .map_err(|e| model_error(format!("tract cannot load it: {}", root_cause(&e))))?;
        let batch = model.sym("N");
        for (i, input) in inputs.iter().enumerate() {
            let dt = match input.kind {
                InputKind::Float => f32::datum_type(),
                InputKind::Double => f64::datum_type(),
                InputKind::Int64 => i64::datum_type(),
                InputKind::String => String::datum_type(),
            };
            let shape: TVec<TDim> =
                if input.rank == 1 { tvec![batch.clone().into()] } else { tvec![batch.clone().into(), 1.into()] };
            model
                .set_input_fact(i, InferenceFact::dt_shape(dt, shape))
                .map_err(|e| model_error(format!("input `{}`: {}", input.name, root_cause(&e))))?;
        }
        let outputs: Vec<OutletId> = model.output_outlets().map_err(|e| model_error(e.to_string()))?.to_vec();
        let mut wanted = vec![outputs[score_slot]];
        wanted.extend(label_slot.map(|s| outputs[s]));
        model.select_output_outlets(&wanted).map_err(|e| model_error(e.to_string()))?;
        let typed =
            model.into_optimized().map_err(|e| model_error(format!("tract cannot run it: {}", root_cause(&e))))?;
        let plan =
            typed.into_runnable().map_err(|e| model_error(format!("tract cannot run it: {}", root_cause(&e))))?;
        Ok(Self {
            file: file.to_string(),
            inputs,
            score_output: graph.output[score_slot].name.clone(),
            label_output: label_slot.map(|s| graph.output[s].name.clone()),
            score_slot: 0,
            score_column,
            label_slot: label_slot.map(|_| 1),
            plan,
        })
    }

    /// Runs the model on a batch whose columns are in [`Model::inputs`] order.
    pub fn predict(&self, frame: &Frame) -> Result<Predictions, ModelError> {
        let rows = frame.rows();
        if rows == 0 {
            return Ok(Predictions::default());
        }
        let run_error = |reason: String| ModelError::Run { file: self.file.clone(), reason };
        let mut values: TVec<TValue> = TVec::with_capacity(self.inputs.len());
        for (input, column) in self.inputs.iter().zip(&frame.columns) {
            let shape: &[usize] = if input.rank == 1 { &[rows] } else { &[rows, 1] };
            let tensor = match (input.kind, column) {
                (InputKind::Float, Column::Number(v)) => {
                    Tensor::from_shape(shape, &v.iter().map(|x| *x as f32).collect::<Vec<_>>())
                }
                (InputKind::Double, Column::Number(v)) => Tensor::from_shape(shape, v),
                (InputKind::Int64, Column::Number(v)) => {
                    Tensor::from_shape(shape, &v.iter().map(|x| *x as i64).collect::<Vec<_>>())
                }
                (InputKind::String, Column::Text(v)) => {
                    tract_ndarray::ArrayD::from_shape_vec(shape.to_vec(), v.clone())
                        .map(Tensor::from)
                        .map_err(|e| e.into())
                }
                _ => return Err(run_error(format!("input `{}` was given the wrong kind of column", input.name))),
            }
            .map_err(|e| run_error(e.to_string()))?;
            values.push(tensor.into_tvalue());
        }
        let outputs = self.plan.run(values).map_err(|e| run_error(root_cause(&e)))?;
        let score = outputs[self.score_slot].cast_to::<f64>().map_err(|e| run_error(e.to_string()))?;
        let score = score.to_plain_array_view::<f64>().map_err(|e| run_error(e.to_string()))?;
        let score: Vec<f64> = score.iter().copied().collect();
        let scores: Vec<f64> = match self.score_column {
            Some(c) => score.chunks(2).map(|pair| pair[c]).collect(),
            None => score,
        };
        if scores.len() != rows {
            return Err(run_error(format!(
                "the output `{}` has {} values for {rows} rows",
                self.score_output,
                scores.len()
            )));
        }
        let decisions = match self.label_slot {
            Some(slot) => {
                let label = outputs[slot].cast_to::<i64>().map_err(|e| run_error(e.to_string()))?;
                let label = label.to_plain_array_view::<i64>().map_err(|e| run_error(e.to_string()))?;
                let label: Vec<i64> = label.iter().copied().collect();
                if label.len() != rows {
                    return Err(run_error(format!("the label output has {} values for {rows} rows", label.len())));
                }
                label.iter().map(|l| *l == 1).collect()
            }
            None => scores.iter().map(|s| *s >= 0.5).collect(),
        };
        Ok(Predictions { scores, decisions })
    }
}

/// The innermost message of a tract error chain: the one that says what is wrong.
fn root_cause(e: &TractError) -> String {
    let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
    chain.join(": ")
}

fn tensor_type(value: &pb::ValueInfoProto) -> Option<&pb::type_proto::Tensor> {
    match value.r#type.as_ref()?.value.as_ref()? {
        pb::type_proto::Value::TensorType(t) => Some(t),
    }
}

/// A tensor's declared shape: each axis's fixed size, or `None` for a named or unnamed dynamic
/// one; empty when no shape is declared.
fn declared_dims(tensor: &pb::type_proto::Tensor) -> Vec<Option<i64>> {
    let Some(shape) = tensor.shape.as_ref() else { return Vec::new() };
    shape
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) => Some(*v),
            _ => None,
        })
        .collect()
}

fn check_input(file: &str, input: &pb::ValueInfoProto) -> Result<ModelInput, ModelError> {
    let unsupported = |reason: String| ModelError::Unsupported {
        file: file.to_string(),
        place: "input",
        name: input.name.clone(),
        reason,
    };
    let Some(tensor) = tensor_type(input) else {
        return Err(unsupported("is not a tensor (sequences and maps are not supported)".into()));
    };
    let kind = match DataType::try_from(tensor.elem_type) {
        Ok(DataType::Float) => InputKind::Float,
        Ok(DataType::Double) => InputKind::Double,
        Ok(DataType::Int64) => InputKind::Int64,
        Ok(DataType::String) => InputKind::String,
        Ok(other) => {
            return Err(unsupported(format!(
                "is of type {other:?}; lunli feeds float, double, int64 or string inputs, one data column each"
            )));
        }
        Err(_) => return Err(unsupported(format!("has an unknown element type {}", tensor.elem_type))),
    };
    let dims = declared_dims(tensor);
    let shape_text = dims.iter().map(|d| d.map_or("N".to_string(), |v| v.to_string())).collect::<Vec<_>>().join(", ");
    let rank = match dims.as_slice() {
        [None] => 1,
        [None, Some(1)] => 2,
        [Some(_), ..] => {
            return Err(unsupported(format!(
                "has a fixed batch size ([{shape_text}]); lunli runs models whose first axis is a dynamic batch axis"
            )));
        }
        [] => return Err(unsupported("has no declared shape; lunli needs [N] or [N, 1] (one data column)".into())),
        _ => {
            return Err(unsupported(format!(
                "has shape [{shape_text}]; lunli feeds one data column per input, of shape [N] or [N, 1] \
                 (a model taking a whole feature matrix in one tensor is not supported)"
            )));
        }
    };
    Ok(ModelInput { name: input.name.clone(), kind, rank })
}

/// The probability output (slot, column of class 1) and the label output's slot.
fn pick_outputs(file: &str, graph: &pb::GraphProto) -> Result<(usize, Option<usize>, Option<usize>), ModelError> {
    let mut score = None;
    let mut label = None;
    for (slot, output) in graph.output.iter().enumerate() {
        let Some(tensor) = tensor_type(output) else {
            continue;
        };
        let dims = declared_dims(tensor);
        match DataType::try_from(tensor.elem_type) {
            Ok(DataType::Float | DataType::Double) if score.is_none() => match dims.as_slice() {
                [_, Some(2)] => score = Some((slot, Some(1))),
                [_, Some(1)] | [_] => score = Some((slot, None)),
                _ => {}
            },
            Ok(DataType::Int64) if label.is_none() && dims.len() <= 1 => label = Some(slot),
            _ => {}
        }
    }
    let Some((slot, column)) = score else {
        let names: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
        return Err(ModelError::Model {
            file: file.to_string(),
            reason: format!(
                "no output gives the probability of the positive class (a float tensor [N, 2], [N, 1] or [N]); \
                 its outputs are: {} (a scikit-learn model exported with skl2onnx needs the option zipmap=False)",
                names.join(", ")
            ),
        });
    };
    Ok((slot, column, label))
}
