//! lunli's model audit (Art. 12: robust, transparent, explainable and verifiable; Art. 13: find
//! bias before it harms anyone): an ONNX classifier run in-process by tract — pure Rust,
//! nothing downloaded at run time — on tabular data read as the other audits read it
//! (lunli-audit's sources), giving
//!
//! - performance by group: lunli-audit's fairness audit of the model's own decisions and
//!   scores (every fairness metric, AUC and calibration error), plus Brier scores and
//!   reliability tables;
//! - robustness: accuracy and decision flips under documented perturbations ([`perturb`]);
//! - counterfactual fairness: the share of decisions that change when only a sensitive
//!   attribute or a named proxy changes, by group;
//! - explanations: permutation importance with confidence intervals and sampling Shapley
//!   attributions for chosen rows ([`explain`]).
//!
//! It is not a model server or a training library, and like the other audit crates it renders,
//! stores and prints nothing: the caller records the [`ModelReport`] as evidence.
//!
//! Start from [`audit`] with a [`ModelRequest`]; [`Model`] loads and runs a model alone.

mod audit;
mod error;
pub mod explain;
pub mod frame;
mod onnx;
pub mod perturb;
mod random;

pub use audit::{
    BACKGROUND_ROWS, CalibrationAttribute, CalibrationGroup, Counterfactual, CounterfactualGroup,
    MAX_COUNTERFACTUAL_VALUES, ModelInfo, ModelParameters, ModelReport, ModelRequest, PerturbationResult,
    ReliabilityBin, Robustness, audit, audit_arrow,
};
pub use error::ModelError;
pub use onnx::{InputKind, Model, ModelInput, Predictions};
